"""Offline geocoding over an OSM extract: street addresses to points, and points to addresses.

Built once from a ``.osm.pbf`` (or ``.osm``/``.osm.bz2``) with pyosmium: every object with
``addr:housenumber`` + ``addr:street`` (nodes at their position, ways at the mean of their
nodes) and every named ``highway=*`` way. Forward lookups parse ``"123 N High St, ..."``
into a house number and a street, match the street by its normalised name (abbreviations
folded: ``Street``/``St``, ``North``/``N``, ...; a close spelling scores lower), then the
house number: exact (score = name similarity), interpolated between two numbers on the same
side of the same street (x 0.8), or the street alone (x 0.4, below the default acceptance).
Nothing below ``min_score`` is returned, so an unmatched address stays unlocated.
Coordinates are EPSG:4326 degrees; distances are metres.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from navigator.errors import ValidationError

if TYPE_CHECKING:
    import numpy.typing as npt

#: Bump when the cache layout changes.
CACHE_VERSION = 1
#: Default lowest score :meth:`Geocoder.geocode` accepts.
MIN_SCORE = 0.8
_EARTH_M = 6_371_008.8
_WORDS = {
    "street": "st", "str": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr",
    "boulevard": "blvd", "lane": "ln", "place": "pl", "court": "ct", "terrace": "ter",
    "parkway": "pkwy", "highway": "hwy", "circle": "cir", "square": "sq", "alley": "aly",
    "expressway": "expy", "freeway": "fwy", "trail": "trl", "way": "way", "pike": "pike",
    "north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne",
    "northwest": "nw", "southeast": "se", "southwest": "sw", "saint": "st", "mount": "mt",
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
}
_NUMBER = re.compile(r"^\s*(\d+)([a-z]?)\b[\s,]*(.*)$", re.IGNORECASE)


def normalise_street(name: str) -> str:
    """Return a street name folded for matching (``"North High Street"`` -> ``"n high st"``)."""
    words = re.sub(r"[^\w\s]", " ", str(name).lower()).split()
    return " ".join(_WORDS.get(w, w) for w in words)


def parse_address(text: str) -> tuple[str, str] | None:
    """Return (house number, street) of ``"123 N High St, Columbus, OH"``, or None."""
    first = str(text).split(",")[0]
    m = _NUMBER.match(first)
    if m is None or not m.group(3).strip():
        return None
    return m.group(1) + m.group(2).lower(), m.group(3).strip()


@dataclass(frozen=True)
class GeocodeMatch:
    """A point for an address.

    Attributes
    ----------
    lon, lat
        EPSG:4326 degrees.
    score
        0-1: street-name similarity times 1 (exact number), 0.8 (interpolated) or 0.4
        (street only).
    matched
        The OSM address or street the point is from (``"615 North Wolfe Street"``).
    method
        ``"address"``, ``"interpolated"`` or ``"street"``.
    """

    lon: float
    lat: float
    score: float
    matched: str
    method: str


@dataclass(frozen=True)
class ReverseMatch:
    """The street address nearest a point.

    Attributes
    ----------
    address
        ``"615 North Wolfe Street"``, or ``"near North Wolfe Street"`` when no address point
        is within reach.
    lon, lat
        Where that address (or the nearest street vertex) is, EPSG:4326 degrees.
    distance_m
        Great-circle distance from the query point, metres.
    """

    address: str
    lon: float
    lat: float
    distance_m: float


def _xy(lon: npt.ArrayLike, lat: npt.ArrayLike, lat0: float) -> npt.NDArray[np.float64]:
    lon_r = np.radians(np.asarray(lon, dtype=np.float64))
    lat_r = np.radians(np.asarray(lat, dtype=np.float64))
    return np.column_stack((lon_r * math.cos(math.radians(lat0)) * _EARTH_M, lat_r * _EARTH_M))


class Geocoder:
    """Address points and named streets of one OSM extract, indexed for lookups both ways.

    Build with :meth:`from_osm`; instances are read-only and safe to share between threads.
    """

    def __init__(self, *, addr_lon: npt.ArrayLike, addr_lat: npt.ArrayLike,
                 addr_number: list[str], addr_street: list[str], street_names: list[str],
                 vertex_lon: npt.ArrayLike, vertex_lat: npt.ArrayLike,
                 vertex_street: npt.ArrayLike, min_score: float = MIN_SCORE,
                 source: str = "") -> None:
        from scipy.spatial import cKDTree

        self.min_score = float(min_score)
        self.source = source
        self.addr_lon = np.asarray(addr_lon, dtype=np.float64)
        self.addr_lat = np.asarray(addr_lat, dtype=np.float64)
        self.addr_number = list(addr_number)
        self.addr_street = list(addr_street)
        self.street_names = list(street_names)
        self.vertex_lon = np.asarray(vertex_lon, dtype=np.float64)
        self.vertex_lat = np.asarray(vertex_lat, dtype=np.float64)
        self.vertex_street = np.asarray(vertex_street, dtype=np.int64)
        lats = np.concatenate((self.addr_lat, self.vertex_lat))
        self._lat0 = float(np.mean(lats)) if len(lats) else 0.0
        self._addr_tree = cKDTree(_xy(self.addr_lon, self.addr_lat, self._lat0)) \
            if len(self.addr_lon) else None
        self._vertex_tree = cKDTree(_xy(self.vertex_lon, self.vertex_lat, self._lat0)) \
            if len(self.vertex_lon) else None
        # normalised street -> display name, address rows, vertex rows
        self._display: dict[str, str] = {}
        self._numbers: dict[str, dict[str, int]] = defaultdict(dict)
        for i, (number, street) in enumerate(zip(self.addr_number, self.addr_street,
                                                 strict=True)):
            key = normalise_street(street)
            self._display.setdefault(key, street)
            self._numbers[key].setdefault(number.lower(), i)
        self._vertices: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(self.vertex_street.tolist()):
            key = normalise_street(self.street_names[s])
            self._display.setdefault(key, self.street_names[s])
            self._vertices[key].append(i)
        self._keys = sorted(self._display)

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def from_osm(cls, path: str | Path, *, cache_dir: str | Path | None = None,
                 min_score: float = MIN_SCORE) -> Geocoder:
        """Return the geocoder of an OSM extract, read from ``cache_dir`` when cached there.

        Raises
        ------
        ValidationError
            If the file cannot be read as OSM data.
        """
        path = Path(path)
        cache = None
        if cache_dir is not None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
            cache = Path(cache_dir) / f"geocoder-v{CACHE_VERSION}-{digest}.npz"
            if cache.exists():
                return cls._from_cache(cache, min_score=min_score, source=path.name)
        data = _read_osm(path)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npz")
            np.savez_compressed(
                tmp, addr_lon=data["addr_lon"], addr_lat=data["addr_lat"],
                vertex_lon=data["vertex_lon"], vertex_lat=data["vertex_lat"],
                vertex_street=data["vertex_street"],
                strings=np.array(json.dumps({k: data[k] for k in (
                    "addr_number", "addr_street", "street_names")})))
            tmp.replace(cache)
        return cls(**data, min_score=min_score, source=path.name)

    @classmethod
    def _from_cache(cls, cache: Path, *, min_score: float, source: str) -> Geocoder:
        with np.load(cache, allow_pickle=False) as z:
            strings = json.loads(str(z["strings"]))
            return cls(addr_lon=z["addr_lon"], addr_lat=z["addr_lat"],
                       vertex_lon=z["vertex_lon"], vertex_lat=z["vertex_lat"],
                       vertex_street=z["vertex_street"], **strings, min_score=min_score,
                       source=source)

    # -- forward ----------------------------------------------------------------------------
    def _streets(self, street: str) -> list[tuple[str, float]]:
        key = normalise_street(street)
        if key in self._display:
            return [(key, 1.0)]
        close = difflib.get_close_matches(key, self._keys, n=3, cutoff=0.8)
        return [(k, difflib.SequenceMatcher(None, key, k).ratio()) for k in close]

    def candidates(self, address: str) -> list[GeocodeMatch]:
        """Return every match for ``address``, best first (any score)."""
        parsed = parse_address(address)
        if parsed is None:
            return []
        number, street = parsed
        out: list[GeocodeMatch] = []
        for key, similarity in self._streets(street):
            display = self._display[key]
            numbers = self._numbers.get(key, {})
            if number in numbers:
                i = numbers[number]
                out.append(GeocodeMatch(float(self.addr_lon[i]), float(self.addr_lat[i]),
                                        round(similarity, 3), f"{number} {display}", "address"))
                continue
            hit = self._interpolate(number, numbers)
            if hit is not None:
                lon, lat, low, high = hit
                out.append(GeocodeMatch(lon, lat, round(0.8 * similarity, 3),
                                        f"{number} {display} (between {low} and {high})",
                                        "interpolated"))
                continue
            rows = self._vertices.get(key)
            if rows:
                mid = rows[len(rows) // 2]
                out.append(GeocodeMatch(float(self.vertex_lon[mid]),
                                        float(self.vertex_lat[mid]), round(0.4 * similarity, 3),
                                        f"{display} (street only)", "street"))
        return sorted(out, key=lambda m: -m.score)

    def _interpolate(self, number: str, numbers: dict[str, int]
                     ) -> tuple[float, float, str, str] | None:
        if not number.isdigit():
            return None
        n = int(number)
        same_side = sorted((int(k), i) for k, i in numbers.items()
                           if k.isdigit() and int(k) % 2 == n % 2)
        values = [v for v, _ in same_side]
        j = bisect_left(values, n)
        if j == 0 or j == len(values) or values[j] - values[j - 1] > 200:
            return None
        (a, ia), (b, ib) = same_side[j - 1], same_side[j]
        t = (n - a) / (b - a)
        lon = float(self.addr_lon[ia] + t * (self.addr_lon[ib] - self.addr_lon[ia]))
        lat = float(self.addr_lat[ia] + t * (self.addr_lat[ib] - self.addr_lat[ia]))
        return lon, lat, str(a), str(b)

    def geocode(self, address: str) -> GeocodeMatch | None:
        """Return the best match for ``address`` scoring at least ``min_score``, or None."""
        found = self.candidates(address)
        return found[0] if found and found[0].score >= self.min_score else None

    # -- reverse ----------------------------------------------------------------------------
    def reverse(self, lon: float, lat: float, *, max_distance_m: float = 100.0
                ) -> ReverseMatch | None:
        """Return the street address nearest (``lon``, ``lat``), or None beyond reach.

        An address point within ``max_distance_m`` wins; else the nearest named street
        vertex within ``max_distance_m`` gives ``"near <street>"``.
        """
        from navigator.model import check_lonlat

        check_lonlat("point", lon, lat)
        q = _xy([lon], [lat], self._lat0)[0]
        for tree, kind in ((self._addr_tree, "address"), (self._vertex_tree, "street")):
            if tree is None:
                continue
            dist, i = tree.query(q, distance_upper_bound=max_distance_m)
            if not math.isfinite(dist):
                continue
            i = int(i)
            if kind == "address":
                hit_lon, hit_lat = float(self.addr_lon[i]), float(self.addr_lat[i])
                text = f"{self.addr_number[i]} {self.addr_street[i]}"
            else:
                hit_lon, hit_lat = float(self.vertex_lon[i]), float(self.vertex_lat[i])
                text = f"near {self.street_names[int(self.vertex_street[i])]}"
            return ReverseMatch(text, hit_lon, hit_lat, _great_circle_m(lon, lat, hit_lon,
                                                                        hit_lat))
        return None


def _great_circle_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(math.sqrt(min(1.0, h)))


def _read_osm(path: Path) -> dict[str, Any]:
    import osmium

    addr_lon: list[float] = []
    addr_lat: list[float] = []
    addr_number: list[str] = []
    addr_street: list[str] = []
    street_ids: dict[str, int] = {}
    vertex_lon: list[float] = []
    vertex_lat: list[float] = []
    vertex_street: list[int] = []

    class _Handler(osmium.SimpleHandler):  # type: ignore[misc]
        def node(self, n: Any) -> None:
            tags = n.tags
            if "addr:housenumber" in tags and "addr:street" in tags and n.location.valid():
                addr_lon.append(n.location.lon)
                addr_lat.append(n.location.lat)
                addr_number.append(tags["addr:housenumber"])
                addr_street.append(tags["addr:street"])

        def way(self, w: Any) -> None:
            tags = w.tags
            points = [(nd.lon, nd.lat) for nd in w.nodes if nd.location.valid()]
            if not points:
                return
            if "addr:housenumber" in tags and "addr:street" in tags:
                ring = points[:-1] if len(points) > 1 and points[0] == points[-1] else points
                addr_lon.append(sum(p[0] for p in ring) / len(ring))
                addr_lat.append(sum(p[1] for p in ring) / len(ring))
                addr_number.append(tags["addr:housenumber"])
                addr_street.append(tags["addr:street"])
            if "highway" in tags and "name" in tags:
                sid = street_ids.setdefault(tags["name"], len(street_ids))
                for lon, lat in points:
                    vertex_lon.append(lon)
                    vertex_lat.append(lat)
                    vertex_street.append(sid)

    try:
        _Handler().apply_file(str(path), locations=True)
    except RuntimeError as e:
        msg = f"cannot read OSM file {str(path)!r}: {e}"
        raise ValidationError(msg) from e
    return {"addr_lon": np.array(addr_lon), "addr_lat": np.array(addr_lat),
            "addr_number": addr_number, "addr_street": addr_street,
            "street_names": list(street_ids), "vertex_lon": np.array(vertex_lon),
            "vertex_lat": np.array(vertex_lat),
            "vertex_street": np.array(vertex_street, dtype=np.int64)}


def geocoder_from_osm(path: str | Path, *, cache_dir: str | Path | None = None,
                      min_score: float = MIN_SCORE) -> Geocoder:
    """Return the :class:`Geocoder` of an OSM extract (see :meth:`Geocoder.from_osm`)."""
    return Geocoder.from_osm(path, cache_dir=cache_dir, min_score=min_score)
