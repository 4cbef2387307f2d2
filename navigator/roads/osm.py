"""OSM input with osmnx's semantics: a pyosmium reader of drivable ways, speeds, lengths.

The filter, the one-way rules, the speeds and the lengths reproduce osmnx 2.x
(``network_type="drive"``, ``graph_from_xml``, ``add_edge_speeds``) without building a networkx
graph, so a metro extract reads in seconds.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import numpy.typing as npt

from navigator.errors import NetworkBuildError

# osmnx 2.x "drive" filter (``osmnx._overpass._get_network_filter``) with its default
# ``["access"!~"private"]``. Overpass ``!~`` is an unanchored, case-sensitive regex search
# that also passes when the key is absent.
_EXCLUDE: dict[str, re.Pattern[str]] = {
    "area": re.compile("yes"),
    "access": re.compile("private"),
    "highway": re.compile(
        "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|"
        "footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|"
        "services|steps|track"
    ),
    "motor_vehicle": re.compile("no"),
    "motorcar": re.compile("no"),
    "service": re.compile("alley|driveway|emergency_access|parking|parking_aisle|private"),
}
# osmnx ``graph._add_paths``: values of ``oneway`` meaning one-way, and meaning reversed.
# ``reversible`` is in neither set, so osmnx (and we) keep such ways two-way.
ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
REVERSED_VALUES = frozenset({"-1", "reverse", "T"})

#: Fixed-point precision of OSM coordinates (degrees * 1e7), as in libosmium.
_COORD_PRECISION = 10_000_000.0


def is_drivable(tags: dict[str, str]) -> bool:
    """Return True if a way's tags pass osmnx's ``drive`` network filter.

    Parameters
    ----------
    tags
        The way's OSM tags.

    Returns
    -------
    bool
    """
    if "highway" not in tags:
        return False
    for key, pattern in _EXCLUDE.items():
        value = tags.get(key)
        if value is not None and pattern.search(value):
            return False
    return True


def way_direction(tags: dict[str, str]) -> tuple[bool, bool]:
    """Return ``(one_way, reversed)`` for a way by osmnx's one-way rules.

    Parameters
    ----------
    tags
        The way's OSM tags.

    Returns
    -------
    tuple of bool
        ``one_way`` is True for ``oneway`` in :data:`ONEWAY_VALUES` or ``junction=roundabout``;
        ``reversed`` is True when travel runs against the node order (``oneway=-1``).
    """
    oneway = tags.get("oneway")
    one_way = oneway in ONEWAY_VALUES or tags.get("junction") == "roundabout"
    return one_way, bool(one_way and oneway in REVERSED_VALUES)


@dataclass(frozen=True)
class RawNetwork:
    """Directed road segments read from an OSM file, before components and speeds.

    Attributes
    ----------
    osmid
        OSM node id of each node (sorted ascending).
    lon, lat
        Node coordinates, degrees, EPSG:4326.
    u, v
        Tail and head node index of each directed segment (both directions of two-way ways).
    way
        Index of each segment's way into ``way_highway`` / ``way_maxspeed``.
    way_highway, way_maxspeed
        ``highway`` and ``maxspeed`` ("" when absent) tags of each way kept: strings per way,
        not per segment (a tenth of the memory, and speeds parse each value once).
    way_osmid
        OSM way id of each way (to map turn restrictions onto the built graph).
    n_ways
        Number of drivable ways kept.
    n_ways_missing_nodes
        Drivable ways that referenced nodes absent from the file (kept in pieces).
    """

    osmid: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    u: npt.NDArray[np.int64]
    v: npt.NDArray[np.int64]
    way: npt.NDArray[np.int64]
    way_highway: npt.NDArray[np.str_]
    way_maxspeed: npt.NDArray[np.str_]
    way_osmid: npt.NDArray[np.int64]
    n_ways: int
    n_ways_missing_nodes: int

    @property
    def highway(self) -> npt.NDArray[np.str_]:
        """``highway`` tag of each segment's way."""
        return self.way_highway[self.way]

    @property
    def maxspeed(self) -> npt.NDArray[np.str_]:
        """``maxspeed`` tag of each segment's way ("" when absent)."""
        return self.way_maxspeed[self.way]


def read_drive_ways(path: Path) -> RawNetwork:
    """Read the drivable ways of an OSM file into directed segments.

    Ways that reference nodes missing from the file (clipped extracts) are split at the missing
    nodes and their present pieces kept; consecutive duplicate node references are dropped
    (as osmnx does).

    Parameters
    ----------
    path
        OSM XML (.osm, optionally .bz2/.gz) or PBF file.

    Returns
    -------
    RawNetwork

    Raises
    ------
    NetworkBuildError
        If the file cannot be read or holds no drivable way.
    """
    import osmium  # heavy C extension: only needed while building

    # the loop only collects; splitting, de-duplication and segments are vectorised below
    refs = array("q")  # node id, x, y of every way node, way after way: no Python ints kept
    way_len: list[int] = []
    way_dir: list[int] = []  # 0 two-way, 1 forward only, 2 reversed only
    way_hw: list[str] = []
    way_ms: list[str] = []
    way_id = array("q")
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            tags = way.tags  # a TagList: get/in without building a dict of every tag
            if not is_drivable(tags):  # type: ignore[arg-type]
                continue
            one_way, rev = way_direction(tags)  # type: ignore[arg-type]
            nodes = [(n.ref, n.x, n.y) for n in way.nodes]  # type: ignore[union-attr]
            refs.extend(chain.from_iterable(nodes))
            way_len.append(len(nodes))
            way_dir.append((2 if rev else 1) if one_way else 0)
            way_hw.append(tags["highway"])
            way_ms.append(str(tags.get("maxspeed", "")))
            way_id.append(way.id)
    except (RuntimeError, OSError, ValueError) as e:
        msg = f"cannot read OSM file {path}: {e}"
        raise NetworkBuildError(msg) from e
    invalid = osmium.osm.Location().x  # libosmium's "undefined" coordinate
    return _segments(np.frombuffer(refs, dtype=np.int64).reshape(-1, 3),
                     np.array(way_len, dtype=np.int64), way_dir, way_hw, way_ms,
                     np.frombuffer(way_id, dtype=np.int64), invalid, path)


def _segments(
    refs: npt.NDArray[np.int64],
    way_len: npt.NDArray[np.int64],
    way_dir: list[int],
    way_hw: list[str],
    way_ms: list[str],
    way_osmid: npt.NDArray[np.int64],
    invalid: int,
    path: Path,
) -> RawNetwork:
    """Split ways into pieces of present nodes (>= 2 each) and return their segments."""
    way_of_ref = np.repeat(np.arange(len(way_len)), way_len)
    first_of_way = np.ones(len(refs), dtype=bool)
    first_of_way[1:] = way_of_ref[1:] != way_of_ref[:-1]
    # consecutive duplicate references within a way (osmnx drops them)
    dup = np.zeros(len(refs), dtype=bool)
    dup[1:] = ~first_of_way[1:] & (refs[1:, 0] == refs[:-1, 0])
    refs, way_of_ref, first_of_way = refs[~dup], way_of_ref[~dup], first_of_way[~dup]
    # a way with a missing node is split there (also after de-duplication: same ref, same x)
    present = refs[:, 1] != invalid
    n_missing = int(np.unique(way_of_ref[~present]).size)
    piece_start = present.copy()
    piece_start[1:] &= first_of_way[1:] | ~present[:-1]
    piece_of_ref = np.cumsum(piece_start) - 1
    piece_of_ref, way_of_ref, refs = piece_of_ref[present], way_of_ref[present], refs[present]
    piece_len = np.bincount(piece_of_ref)
    kept_ref = piece_len[piece_of_ref] >= 2
    if not kept_ref.any():
        msg = f"{path} holds no drivable road (osmnx 'drive' filter): nothing to route on"
        raise NetworkBuildError(msg)
    refs, way_of_ref, piece_of_ref = refs[kept_ref], way_of_ref[kept_ref], piece_of_ref[kept_ref]
    n_ways = int(np.unique(way_of_ref).size)
    osmid, first, node_of_ref = np.unique(refs[:, 0], return_index=True, return_inverse=True)
    lon = refs[first, 1] / _COORD_PRECISION
    lat = refs[first, 2] / _COORD_PRECISION
    # a segment starts at every ref whose successor lies in the same piece
    tail = np.flatnonzero(piece_of_ref[1:] == piece_of_ref[:-1])
    way = way_of_ref[tail]
    a = node_of_ref[tail]
    b = node_of_ref[tail + 1]
    direction = np.asarray(way_dir, dtype=np.int8)[way]
    fwd = direction != 2
    bwd = direction != 1
    u = np.concatenate([a[fwd], b[bwd]])
    v = np.concatenate([b[fwd], a[bwd]])
    seg_way = np.concatenate([way[fwd], way[bwd]])
    return RawNetwork(osmid, lon, lat, u, v, seg_way, np.asarray(way_hw, dtype=np.str_),
                      np.asarray(way_ms, dtype=np.str_), way_osmid, n_ways, n_missing)


#: Speeds (km/h) for highway types on which no edge has a usable ``maxspeed``; ``"default"``
#: covers types not listed. Urban free-flow values, close to OSRM's car profile.
SPEED_FALLBACK_KPH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 45.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "road": 30.0,
    "busway": 30.0,
    "default": 30.0,
}
_MAXSPEED = re.compile(r"^([0-9][\.,0-9]*?)(?:[ ]?(?:km/h|kmh|kph|mph|knots))?$")
_MPH_TO_KPH = 1.60934
EARTH_RADIUS_M = 6_371_009.0


def clean_maxspeed(maxspeed: str) -> float:
    """Parse an OSM ``maxspeed`` value to km/h exactly as osmnx's ``_clean_maxspeed`` does.

    ``"50"``, ``"50 km/h"``, ``"30 mph"`` (converted) and ``"40|60"`` (mean of lanes) parse;
    implicit values such as ``"PT:urban"`` use osmnx's table; anything else, and values that
    are not positive, give NaN (no observation).

    Parameters
    ----------
    maxspeed
        Tag value ("" when absent).

    Returns
    -------
    float
        Speed in km/h, or NaN.
    """
    if not maxspeed:
        return float("nan")
    try:
        values = []
        for part in maxspeed.split("|"):
            match = _MAXSPEED.match(part)
            value = float(match.group(1).replace(",", "."))  # type: ignore[union-attr]
            if "mph" in maxspeed.lower():
                value = value * _MPH_TO_KPH
            values.append(value)
        speed = float(np.mean(values))
    except (ValueError, AttributeError):
        speed = _implicit_maxspeed(maxspeed)
    return speed if speed > 0 else float("nan")


def _implicit_maxspeed(value: str) -> float:
    if ":" not in value:  # implicit values are "CC:zone"; skip importing osmnx otherwise
        return float("nan")
    try:
        from osmnx.routing import _IMPLICIT_MAXSPEEDS
    except ImportError:  # pragma: no cover - osmnx moved its private table
        return float("nan")
    return float(_IMPLICIT_MAXSPEEDS.get(value, float("nan")))


def edge_speeds_kph(
    highway: npt.NDArray[np.str_],
    maxspeed: npt.NDArray[np.str_],
    fallback: dict[str, float],
    *,
    edge_way: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.float64]:
    """Return each edge's speed in km/h the way osmnx's ``add_edge_speeds`` imputes it.

    An edge's own ``maxspeed`` wins; otherwise the mean observed speed of the edges of its
    highway type; otherwise ``fallback[highway]`` (or ``fallback["default"]``).

    Parameters
    ----------
    highway, maxspeed
        Tag values per directed edge, or per way with ``edge_way``.
    fallback
        km/h by highway type, with a ``"default"`` entry.
    edge_way
        Index of each edge's way into ``highway`` and ``maxspeed`` (None: they are per edge).

    Returns
    -------
    numpy.ndarray
        km/h per edge, all positive and finite.
    """
    if edge_way is None:
        edge_way = np.arange(len(highway))
    ms_values, ms_inv = np.unique(maxspeed, return_inverse=True)
    observed = np.array([clean_maxspeed(str(m)) for m in ms_values])[ms_inv][edge_way]
    hw_values, hw_way = np.unique(highway, return_inverse=True)
    hw_inv = hw_way[edge_way]
    ok = ~np.isnan(observed)
    total = np.bincount(hw_inv[ok], weights=observed[ok], minlength=len(hw_values))
    count = np.bincount(hw_inv[ok], minlength=len(hw_values))
    with np.errstate(invalid="ignore", divide="ignore"):
        type_speed = total / count
    for i, hw in enumerate(hw_values):
        if count[i] == 0:
            type_speed[i] = fallback.get(str(hw), fallback["default"])
    return np.where(ok, observed, type_speed[hw_inv])


def great_circle_m(
    lat1: npt.NDArray[np.float64],
    lon1: npt.NDArray[np.float64],
    lat2: npt.NDArray[np.float64],
    lon2: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Return haversine distances in metres, the same formula and radius as osmnx.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees, EPSG:4326.

    Returns
    -------
    numpy.ndarray
        Metres.
    """
    y1 = np.deg2rad(lat1)
    y2 = np.deg2rad(lat2)
    dy = y2 - y1
    dx = np.deg2rad(lon2) - np.deg2rad(lon1)
    h = np.sin(dy / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(dx / 2) ** 2
    h = np.minimum(1, h)
    dist = 2 * np.arcsin(np.sqrt(h)) * EARTH_RADIUS_M
    return np.where(np.isnan(dist), 0.0, dist)
