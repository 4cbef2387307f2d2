"""Charts drawn on the server as inline SVG: numbers and boxes here, text escaped by Jinja.

No script and no chart library: the page's template (``_share_chart.html``) writes every
label through Jinja's autoescaping, so names from imports stay text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Colour of each priority's bars (1 highest); the legend repeats them.
PRIORITY_COLOURS = {1: "#b10026", 2: "#e6550d", 3: "#3182bd", 4: "#636363"}
_LABEL_W = 260  # left column: area names
_LABEL_CHARS = 38  # what fits it at 12 px
_BAR_W = 360  # 0-100 %
_ROW_H = 16
_GAP = 10
_TOP = 28


@dataclass(frozen=True)
class Bar:
    """One cell's bar: its box (px), what it says, and whether it is too thin to trust."""

    y: float
    width: float
    colour: str
    label: str
    few: bool
    empty: bool


@dataclass(frozen=True)
class Group:
    """One area's block of bars: its name (text, escaped when drawn) and class.

    ``label`` is what fits the label column (name and class, cut with an ellipsis); the
    full name is the bars' tooltip.
    """

    y: float
    name: str
    area_class: str
    bars: tuple[Bar, ...]

    @property
    def label(self) -> str:
        """Return the name (and class) cut to fit the label column."""
        text = f"{self.name} ({self.area_class})" if self.area_class else self.name
        return text if len(text) <= _LABEL_CHARS else text[:_LABEL_CHARS - 1] + "…"


@dataclass(frozen=True)
class ShareChart:
    """The share-within-target chart: size (px), the x of each grid line, the groups."""

    width: int
    height: int
    label_w: int
    bar_w: int
    row_h: int
    grid: tuple[tuple[float, str], ...]
    groups: tuple[Group, ...]
    colours: Mapping[int, str]


def share_chart(records: Sequence[Mapping[str, Any]], *, min_arrivals: int) -> ShareChart:
    """Lay out the share of arrivals within target, one bar per area and priority.

    Parameters
    ----------
    records
        Report rows (``area_name``, ``area_class``, ``priority``, ``arrived``,
        ``within_target`` 0-1 or None, ``few``), grouped by area in order.
    min_arrivals
        Cells with fewer arrivals are drawn faded and say ``n=…``.
    """
    groups: list[Group] = []
    y = float(_TOP)
    current: list[Mapping[str, Any]] = []

    def close() -> None:
        nonlocal y
        if not current:
            return
        top = y
        bars = []
        y += _ROW_H  # the area's name
        for r in current:
            share = r["within_target"]
            n = int(r["arrived"])
            if share is None:
                label = "P{} no arrival".format(r["priority"])
            else:
                label = "P{} {:.0f}% (n={}{})".format(
                    r["priority"], 100 * share, n, f" < {min_arrivals}: few" if r["few"] else "")
            bars.append(Bar(y=y, width=0.0 if share is None else round(_BAR_W * share, 1),
                            colour=PRIORITY_COLOURS.get(int(r["priority"]), "#636363"),
                            label=label, few=bool(r["few"]), empty=share is None))
            y += _ROW_H
        groups.append(Group(y=top, name=str(current[0]["area_name"]),
                            area_class=str(current[0]["area_class"] or ""), bars=tuple(bars)))
        y += _GAP
        current.clear()

    for r in records:
        if current and r["area_id"] != current[0]["area_id"]:
            close()
        current.append(r)
    close()
    grid = tuple((_LABEL_W + _BAR_W * f, f"{100 * f:.0f}%") for f in (0, 0.5, 0.9, 1.0))
    return ShareChart(width=_LABEL_W + _BAR_W + 170, height=int(y) + 4, label_w=_LABEL_W,
                      bar_w=_BAR_W, row_h=_ROW_H, grid=grid, groups=tuple(groups),
                      colours=PRIORITY_COLOURS)
