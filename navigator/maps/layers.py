"""Map layers as JSON data blocks that ``navmap.js`` draws: record text never becomes code.

folium writes popups, tooltips and ``Element`` HTML into JavaScript template literals inside
inline scripts. HTML-escaping does not protect that context: ``${...}`` and back-ticks still
run, and quotes break the script for everyone. So no record text (names, addresses, notes,
labels, layer names) goes into generated JavaScript or HTML here. Each layer is a
``<script type="application/json">`` block (JSON with ``<``, ``>``, ``&``, U+2028 and U+2029
escaped, so it can neither end the block nor be parsed as markup), plus one inline call
``NavMap.draw(<map>, "<block id>")`` made only of generated names. ``navmap.js`` (package
data, one source) builds markers, popups, tooltips, legends and the layer control with DOM
APIs and ``textContent``. The web app serves it as a same-origin file (the CSP stays
``script-src 'self' 'nonce-...'``); standalone HTML inlines it like Leaflet.
"""

from __future__ import annotations

import json
from importlib import resources as importlib_resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from branca.element import MacroElement
from jinja2 import Template

if TYPE_CHECKING:
    import folium

#: The page script that draws the data blocks (served as ``/static/vendor/navmap.js``).
SCRIPT_NAME = "navmap.js"

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                 "\u2029": "\\u2029"}


def script_path() -> Path:
    """Return the path of ``navmap.js`` inside the installed package."""
    return Path(str(importlib_resources.files("navigator.maps").joinpath(SCRIPT_NAME)))


def json_for_html(data: Any) -> str:
    r"""Return ``data`` as JSON safe inside an HTML ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` become ``\u003c``-style escapes (no ``</script>`` or ``<!--``
    can end or confuse the block) and so do the line separators U+2028/U+2029; ``JSON.parse``
    gives back the exact text.

    Raises
    ------
    ValueError
        If ``data`` holds NaN or infinity (not JSON).
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return "".join(_JSON_ESCAPES.get(ch, ch) for ch in text)


class DataLayer(MacroElement):
    """One layer, legend or control as a JSON data block and a ``NavMap.draw`` call."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <script type="application/json" id="{{ this.get_name() }}" class="nav-map-data">
        {{- this.payload -}}
        </script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        NavMap.draw({{ this._parent.get_name() }}, "{{ this.get_name() }}");
        {% endmacro %}
    """)

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self._name = "NavData"
        self.payload = json_for_html(spec)


def add_layer(m: folium.Map, kind: str, **spec: Any) -> DataLayer:
    """Add a layer described by ``spec`` for ``navmap.js`` to draw on ``m``.

    Parameters
    ----------
    m
        Map to draw on.
    kind
        ``"markers"`` (``points``: dicts with ``lon``, ``lat``, ``colour``, ``shape``, ``size``,
        optional ``title``, ``rows``, ``note`` for a popup and ``tip`` for a tooltip),
        ``"vectors"`` (GeoJSON ``data`` or a same-origin ``url``; ``style``, ``fill_from``,
        ``tip_from`` property names, ``interactive``, ``back``), ``"legend"`` (``title``,
        ``items`` of ``(label, colour)``, ``note``, ``position``), ``"attribution"``
        (``text``) or ``"control"`` (the layer control of every named layer added before).
    **spec
        The layer's fields; ``name`` lists a layer in the layer control. Any text is data.

    Returns
    -------
    DataLayer
    """
    layer = DataLayer({"kind": kind, **spec})
    layer.add_to(m)
    return layer
