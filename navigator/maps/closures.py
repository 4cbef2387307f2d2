"""Road closures on a map: red hatched areas and red dashed roads, with text-only popups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from navigator.maps.layers import DataLayer, add_layer

if TYPE_CHECKING:
    from collections.abc import Mapping

    import folium

#: Colour of closures on every map and legend.
CLOSURE_COLOUR = "#d62728"
#: Leaflet path style of closures; ``hatch`` fills areas with navmap.js's red hatching.
CLOSURE_STYLE = {"color": CLOSURE_COLOUR, "weight": 4, "opacity": 0.9, "dashArray": "6 4",
                 "fillOpacity": 0.5, "hatch": True}
#: Popup of each closure: its reason as the title, then these properties (all text).
CLOSURE_POPUP = {"title": "reason", "rows": [["Road closure", "id"], ["From", "starts_at"],
                                             ["Until", "expires_at"],
                                             ["Closed by", "created_by"]]}


def add_closures(m: folium.Map, closures: Mapping[str, Any], *,
                 name: str = "Road closures") -> DataLayer:
    """Draw closures (a GeoJSON FeatureCollection, EPSG:4326) on ``m``.

    Parameters
    ----------
    m
        Map to draw on.
    closures
        From :func:`navigator.services.closures.closures_geojson`; properties stay data.
    name
        Layer name in the layer control.
    """
    return add_layer(m, "vectors", name=name, data=dict(closures), style=CLOSURE_STYLE,
                     popup=CLOSURE_POPUP, tip_from="reason")
