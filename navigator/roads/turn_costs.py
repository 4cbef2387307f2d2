"""Turn penalties: seconds per turn by its angle, per U-turn and per traffic signal.

The one profile, ``osrm-car``, takes its values and formula from OSRM's car profile
(``profiles/car.lua`` of osrm-backend 5.x, ``process_turn``): ``turn_penalty = 7.5`` s,
``turn_bias = 1.075`` (right-hand traffic: right turns cheaper than left ones),
``u_turn_penalty = 20`` s, ``traffic_light_penalty = 2`` s. A turn of ``angle`` degrees
(0 straight on, positive to the right, 180 a U-turn) costs, where the intersection joins more
than two roads or the turn is a U-turn,

    angle >= 0:  turn_penalty / (1 + exp(-((13 / turn_bias) * angle / 180 - 6.5 * turn_bias)))
    angle <  0:  turn_penalty / (1 + exp(-((13 * turn_bias) * -angle / 180 - 6.5 / turn_bias)))

plus ``u_turn_penalty`` for a U-turn (back onto the road the drive came by), plus
``traffic_light_penalty`` through an intersection with ``highway=traffic_signals``; a signal
on a node inside a road adds it to that road's travel time, as OSRM does when it compresses
its graph. Angles are taken between the last segment of the road in and the first segment of
the road out (OSRM looks a few metres further along). Unlike OSRM, U-turns stay allowed
everywhere (OSRM allows them at dead ends only); they just cost their penalty.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from navigator.config import TURN_PENALTY_PROFILES
from navigator.errors import NetworkBuildError, ValidationError

__all__ = ["OSRM_CAR", "PROFILES", "TurnCosts", "TurnProfile", "angle_penalty_s",
           "read_signals", "turn_costs", "turn_profile"]


@dataclass(frozen=True)
class TurnProfile:
    """Seconds a turn costs, by the OSRM car profile's parameters (see the module docstring)."""

    name: str
    turn_penalty_s: float
    turn_bias: float
    u_turn_penalty_s: float
    signal_penalty_s: float


OSRM_CAR = TurnProfile("osrm-car", turn_penalty_s=7.5, turn_bias=1.075, u_turn_penalty_s=20.0,
                       signal_penalty_s=2.0)
#: Profiles by the name ``NAVIGATOR_TURN_PENALTIES`` takes (the names the settings accept).
PROFILES = {p.name: p for p in (OSRM_CAR,) if p.name in TURN_PENALTY_PROFILES}


def turn_profile(name: str) -> TurnProfile | None:
    """Return the profile called ``name`` (None for "": no turn penalties).

    Raises
    ------
    ValidationError
        If there is no such profile.
    """
    if not name:
        return None
    try:
        return PROFILES[name]
    except KeyError:
        msg = f"unknown turn penalty profile {name!r}; known: {', '.join(PROFILES)}"
        raise ValidationError(msg) from None


def angle_penalty_s(angle_deg: npt.ArrayLike, profile: TurnProfile = OSRM_CAR
                    ) -> npt.NDArray[np.float64]:
    """Return OSRM's turn penalty in seconds for turn angles (degrees, positive: right)."""
    a = np.asarray(angle_deg, dtype=np.float64)
    tp, bias = profile.turn_penalty_s, profile.turn_bias
    with np.errstate(over="ignore"):
        right = tp / (1 + np.exp(-((13 / bias) * a / 180 - 6.5 * bias)))
        left = tp / (1 + np.exp(-((13 * bias) * -a / 180 - 6.5 / bias)))
    out: npt.NDArray[np.float64] = np.where(a >= 0, right, left)
    return out


def read_signals(path: Path) -> npt.NDArray[np.int64]:
    """Return the sorted OSM ids of the ``highway=traffic_signals`` nodes of an OSM file.

    Raises
    ------
    NetworkBuildError
        If the file cannot be read.
    """
    import osmium  # heavy C extension: only needed while building
    import osmium.filter

    try:
        fp = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
            osmium.filter.TagFilter(("highway", "traffic_signals")))
        ids = [node.id for node in fp]
    except (RuntimeError, OSError, ValueError) as e:
        msg = f"cannot read traffic signals of {path}: {e}"
        raise NetworkBuildError(msg) from e
    return np.unique(np.array(ids, dtype=np.int64))


@dataclass(frozen=True)
class TurnCosts:
    """What a turn from edge ``a`` onto edge ``b`` costs on one built graph.

    Attributes
    ----------
    profile
        The parameters.
    nodes
        Per intersection, whether some turn through it costs anything (it is expanded).
    tail, head
        Per edge, its intersections.
    bearing_in, bearing_out
        Per edge, the compass bearing (degrees) of its last and of its first segment.
    many_roads, signal
        Per intersection: more than two roads meet; a traffic signal stands there.
    """

    profile: TurnProfile
    nodes: npt.NDArray[np.bool_]
    tail: npt.NDArray[np.int64]
    head: npt.NDArray[np.int64]
    bearing_in: npt.NDArray[np.float64]
    bearing_out: npt.NDArray[np.float64]
    many_roads: npt.NDArray[np.bool_]
    signal: npt.NDArray[np.bool_]

    def angle(self, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
              ) -> npt.NDArray[np.float64]:
        """Return the turn angles from edges ``a`` onto ``b`` (degrees, right positive, U 180)."""
        turn = (self.bearing_out[b] - self.bearing_in[a] + 180.0) % 360.0 - 180.0
        out: npt.NDArray[np.float64] = np.where(self.head[b] == self.tail[a], 180.0, turn)
        return out

    def weight(self, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
               ) -> npt.NDArray[np.float64]:
        """Return the seconds the turns from edges ``a`` onto edges ``b`` cost."""
        p = self.profile
        x = self.head[a]
        u_turn = self.head[b] == self.tail[a]
        w = np.where(self.many_roads[x] | u_turn, angle_penalty_s(self.angle(a, b), p), 0.0)
        w += np.where(u_turn, p.u_turn_penalty_s, 0.0)
        w += np.where(self.signal[x], p.signal_penalty_s, 0.0)
        out: npt.NDArray[np.float64] = w
        return out


def _bearing(lon0: npt.NDArray[np.float64], lat0: npt.NDArray[np.float64],
             lon1: npt.NDArray[np.float64], lat1: npt.NDArray[np.float64]
             ) -> npt.NDArray[np.float64]:
    dx = (lon1 - lon0) * np.cos(np.radians((lat0 + lat1) / 2))
    out: npt.NDArray[np.float64] = np.degrees(np.arctan2(dx, lat1 - lat0))
    return out


def turn_costs(profile: TurnProfile, n: int, u: npt.NDArray[np.int64],
               v: npt.NDArray[np.int64], lon: npt.NDArray[np.float64],
               lat: npt.NDArray[np.float64], geom_ptr: npt.NDArray[np.int64],
               geom_xy: npt.NDArray[np.float64], signal: npt.NDArray[np.bool_]) -> TurnCosts:
    """Return the turn costs of the edges ``u -> v`` over intersections ``0 .. n - 1``.

    Parameters
    ----------
    profile
        The parameters.
    n, u, v
        Intersections and edges.
    lon, lat
        Intersection coordinates, degrees (EPSG:4326).
    geom_ptr, geom_xy
        Shape points strictly inside each edge (lon, lat).
    signal
        Per intersection, whether a traffic signal stands there.
    """
    cnt = np.diff(geom_ptr)
    has = cnt > 0
    xy = geom_xy if len(geom_xy) else np.zeros((1, 2))
    first = xy[np.clip(geom_ptr[:-1], 0, len(xy) - 1)]
    last = xy[np.clip(geom_ptr[1:] - 1, 0, len(xy) - 1)]
    out_lon = np.where(has, first[:, 0], lon[v])
    out_lat = np.where(has, first[:, 1], lat[v])
    in_lon = np.where(has, last[:, 0], lon[u])
    in_lat = np.where(has, last[:, 1], lat[u])
    key, rev = u * np.int64(n) + v, v * np.int64(n) + u
    u_turn = np.zeros(n, dtype=bool)
    u_turn[v[np.isin(key, rev)]] = True
    pairs = np.unique(np.minimum(u, v) * np.int64(n) + np.maximum(u, v))
    roads = np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)
    many = roads > 2
    reached = np.bincount(v, minlength=n) > 0
    return TurnCosts(profile=profile, nodes=reached & (many | signal | u_turn), tail=u, head=v,
                     bearing_in=_bearing(in_lon, in_lat, lon[v], lat[v]),
                     bearing_out=_bearing(lon[u], lat[u], out_lon, out_lat),
                     many_roads=many, signal=signal)
