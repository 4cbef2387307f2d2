"""Area incidents (issue 13): intake checks, expected/worst ETAs, batch plans, refining to a point.

Service tests run on both stores; the accuracy test compares the area ETAs with networkx.
"""

from __future__ import annotations

import json
import math
from typing import Any

import networkx as nx
import numpy as np
import pytest
from servicehelpers import *  # noqa: F403  (fixtures)
from servicehelpers import CLIENT, NOW

from navigator import services as sv
from navigator.errors import ConflictError, UnreachableError, ValidationError
from navigator.model import CrisisType, Incident, IncidentStatus
from navigator.roads import (
    area_nodes,
    area_width_m,
    circle_area,
    snap_to_edges,
    travel_times_from_point,
)
from navigator.services.incident_area import MAX_AREA_WIDTH_M, area_spread

LON, LAT = CLIENT
FIELDS = {"id": "inc-area", "crisis_type": CrisisType.MENTAL_HEALTH, "priority": 1}


def _square(lon: float, lat: float, half_deg: float) -> dict[str, Any]:
    ring = [[lon - half_deg, lat - half_deg], [lon + half_deg, lat - half_deg],
            [lon + half_deg, lat + half_deg], [lon - half_deg, lat + half_deg],
            [lon - half_deg, lat - half_deg]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_circle_is_true_in_metres_and_width_measured() -> None:
    c = circle_area(LON, LAT, 1200.0)
    assert c.is_valid and len(c.exterior.coords) >= 33
    assert area_width_m(c) == pytest.approx(2400.0, rel=1e-3)
    # wider in degrees of longitude than latitude at 40 degrees north: a true circle
    minx, miny, maxx, maxy = c.bounds
    assert (maxx - minx) / (maxy - miny) == pytest.approx(1 / math.cos(math.radians(LAT)),
                                                          rel=1e-2)


def test_circle_intake_ranks_by_expected_eta_with_the_spread(store, columbus_graph, settings,
                                                             area) -> None:
    stored, _ = sv.add_incident(store, columbus_graph, settings,
                                {**FIELDS, "lon": LON, "lat": LAT}, actor="d1", radius_m=900.0)
    assert stored.is_area and stored.area_radius_m == 900.0
    assert (stored.lon, stored.lat) == (LON, LAT)
    assert stored.area.geom_type == "MultiPolygon"
    assert store.incident(stored.id).area.equals(stored.area)
    nodes = area_nodes(columbus_graph, stored.area)
    assert nodes.size > 10
    ranking = sv.rank_teams(store, columbus_graph, settings, incident_id=stored.id, at=NOW,
                            actor="d1", area=area, k=5)
    assert ranking.area == {"nodes": int(nodes.size), "weighting": "uniform",
                            "route_to": "the area's centre node", "radius_m": 900.0}
    assert "expected" in ranking.message and "worst" in ranking.message
    assert f"area of {nodes.size} road nodes" in ranking.message
    teams = store.teams().set_index("id")
    for o in ranking.options:
        t = teams.loc[o.team_id]
        at = snap_to_edges(columbus_graph, [t.geometry.x], [t.geometry.y])
        times = travel_times_from_point(columbus_graph, at, nodes)
        assert o.eta_s == pytest.approx(times.mean())
        assert o.eta_best_s == pytest.approx(times.min())
        assert o.eta_worst_s == pytest.approx(times.max())
        assert o.eta_best_s <= o.eta_s <= o.eta_worst_s
        assert o.meets_target == (o.eta_s <= o.target_s)
        # the route goes to the area's centre node: the area's node nearest the centre
        end = o.route.geometry.coords[-1]
        d2 = ((columbus_graph.lon[nodes] - LON) * math.cos(math.radians(LAT))) ** 2 + (
            columbus_graph.lat[nodes] - LAT) ** 2
        c = nodes[int(np.argmin(d2))]
        assert end == pytest.approx((columbus_graph.lon[c], columbus_graph.lat[c]), abs=1e-6)
    ok = [o.score_s for o in ranking.options if o.shift_ok]
    assert ok == sorted(ok)
    out = ranking.to_dict()
    json.dumps(out, allow_nan=False)
    assert out["options"][0]["eta_worst_s"] == pytest.approx(ranking.options[0].eta_worst_s)
    entry = store.audit_log(limit=1, action="rank_teams")[0]
    assert entry.result["area"]["nodes"] == nodes.size
    frame = store.incidents().set_index("id")
    assert frame.loc[stored.id, "area"]["type"] == "MultiPolygon"
    assert frame.loc[stored.id, "area_radius_m"] == 900.0
    # sending a team stores the expected ETA
    best = ranking.options[0]
    a = sv.assign_team(store, columbus_graph, settings, incident_id=stored.id,
                       team_id=best.team_id, actor="d1")
    assert a.eta_s == pytest.approx(best.eta_s)


def test_polygon_intake_from_geojson_text(store, columbus_graph, settings, area) -> None:
    square = _square(LON, LAT, 0.006)
    feature = json.dumps({"type": "Feature", "properties": {"name": "<img src=x>"},
                          "geometry": square})
    stored, triaged = sv.add_incident(store, columbus_graph, settings,
                                      {**FIELDS, "id": "inc-poly"}, actor="d1", area=feature)
    assert triaged is None and stored.area_radius_m is None
    assert stored.lon == pytest.approx(LON) and stored.lat == pytest.approx(LAT)
    ranking = sv.rank_teams(store, columbus_graph, settings, incident_id=stored.id, at=NOW,
                            actor="d1", area=area, k=3)
    assert ranking.area is not None and ranking.area["radius_m"] is None
    assert all(o.eta_best_s <= o.eta_s <= o.eta_worst_s for o in ranking.options)


def test_point_incidents_keep_todays_path(store, columbus_graph, settings, area) -> None:
    inc = Incident(id="inc-point", lon=LON, lat=LAT, crisis_type=CrisisType.MENTAL_HEALTH)
    sv.add_incident(store, columbus_graph, settings, inc, actor="d1")
    ranking = sv.rank_teams(store, columbus_graph, settings, incident_id=inc.id, at=NOW,
                            actor="d1", area=area)
    assert ranking.area is None
    assert all(o.eta_best_s is None and o.eta_worst_s is None for o in ranking.options)
    assert "expected" not in ranking.message


def _nested(depth: int) -> list[Any]:
    """Return a point wrapped in ``depth`` lists (hostile GeoJSON coordinates)."""
    value: list[Any] = [LON, LAT]
    for _ in range(depth):
        value = [value]
    return value


BAD_AREAS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"area": {"type": "Polygon", "coordinates": [[[LON, LAT], [LON + 0.01, LAT + 0.01],
                                                   [LON + 0.01, LAT], [LON, LAT + 0.01],
                                                   [LON, LAT]]]}},
     ValidationError, "invalid polygon"),
    ({"area": {"type": "Polygon", "coordinates": [[[LON, LAT], [LON + 0.01, LAT],
                                                   [LON, LAT]]]}},
     ValidationError, "few points|malformed"),
    ({"area": {"type": "Polygon", "coordinates": [[[LON, LAT], [float("nan"), LAT],
                                                   [LON, LAT + 0.01], [LON, LAT]]]}},
     ValidationError, "finite"),
    ({"area": _square(LON, LAT, 0.3)}, ValidationError, "km across"),
    ({"area": _square(LON, 95.0, 0.01)}, ValidationError, "longitude/latitude"),
    ({"area": _square(LAT, LON, 0.01)}, UnreachableError, "no road node"),
    ({"area": {"type": "Point", "coordinates": [LON, LAT]}}, ValidationError, "Polygon"),
    ({"area": "{not json"}, ValidationError, "GeoJSON"),
    ({"area": {"type": "FeatureCollection", "features": 5}}, ValidationError, "exactly one"),
    ({"area": {"type": "Feature", "geometry": [1, 2]}}, ValidationError, "Polygon"),
    ({"area": _square(-70.0, 40.0, 0.01)}, UnreachableError, "no road node"),
    ({"area": _square(LON, LAT, 1e-6)}, UnreachableError, "no road node"),
    ({"radius_m": 0.0}, ValidationError, "radius_m"),
    ({"radius_m": -5.0}, ValidationError, "radius_m"),
    ({"radius_m": float("nan")}, ValidationError, "radius_m"),
    ({"radius_m": 1e7}, ValidationError, "radius_m"),
    ({"radius_m": 1e-300}, ValidationError, "too small"),  # review: was a GEOSException
    ({"area": {"type": "Polygon", "coordinates": _nested(2000)}}, ValidationError,
     "nested deeper"),  # review: was a RecursionError (500 over the API)
    ({"area": "[" * 100_000}, ValidationError, "nested too deeply"),  # review: as text too
    ({"area": '{"type": "Polygon", "coordinates": [[[' + "1" * 5000 + ", 0]]]}"},
     ValidationError, "not GeoJSON"),  # review: Python's int digit limit, a ValueError
    ({"radius_m": 500.0, "area": _square(LON, LAT, 0.01)}, ValidationError, "not both"),
]


@pytest.mark.parametrize(("given", "error", "match"), BAD_AREAS)
def test_bad_areas_are_refused_and_nothing_written(store, columbus_graph, settings, given,
                                                   error, match) -> None:
    before = len(store.incidents())
    audit = len(store.audit_log(limit=1000))
    with pytest.raises(error, match=match):
        sv.add_incident(store, columbus_graph, settings, {**FIELDS, "lon": LON, "lat": LAT},
                        actor="d1", **given)
    assert len(store.incidents()) == before
    assert len(store.audit_log(limit=1000)) == audit


def test_circle_far_from_the_network_is_refused(store, columbus_graph, settings) -> None:
    with pytest.raises(UnreachableError, match="no road node"):
        sv.add_incident(store, columbus_graph, settings,
                        {**FIELDS, "lon": -70.0, "lat": 40.0}, actor="d1", radius_m=2000.0)


def test_locate_clears_the_area_audited_and_ranks_as_a_point(store, columbus_graph, settings,
                                                             area) -> None:
    stored, _ = sv.add_incident(store, columbus_graph, settings,
                                {**FIELDS, "lon": LON, "lat": LAT}, actor="d1", radius_m=700.0)
    with pytest.raises(UnreachableError):
        sv.locate_incident(store, columbus_graph, settings, incident_id=stored.id,
                           lon=-70.0, lat=40.0, actor="d2")
    with pytest.raises(ValidationError):
        sv.locate_incident(store, columbus_graph, settings, incident_id=stored.id,
                           lon=float("nan"), lat=LAT, actor="d2")
    assert store.incident(stored.id).is_area
    done = sv.locate_incident(store, columbus_graph, settings, incident_id=stored.id,
                              lon=LON + 0.002, lat=LAT, actor="d2")
    assert not done.is_area and done.area_radius_m is None and done.lon == LON + 0.002
    assert store.incident(stored.id) == done
    entry = store.audit_log(limit=1)[0]
    assert (entry.action, entry.actor, entry.subject) == ("set_incident_location", "d2",
                                                           stored.id)
    assert entry.at is not None and entry.result["previous_area_radius_m"] == 700.0
    assert entry.result["previous_area"]["type"] == "MultiPolygon"
    ranking = sv.rank_teams(store, columbus_graph, settings, incident_id=stored.id, at=NOW,
                            actor="d1", area=area)
    assert ranking.area is None and ranking.options[0].eta_worst_s is None
    store.set_incident_status(stored.id, IncidentStatus.CANCELLED, actor="d1")
    with pytest.raises(ConflictError, match="cancelled"):
        sv.locate_incident(store, columbus_graph, settings, incident_id=stored.id,
                           lon=LON, lat=LAT, actor="d2")


def test_plan_batch_uses_the_expected_eta_of_area_incidents(store, columbus_graph,
                                                            settings) -> None:
    stored, _ = sv.add_incident(store, columbus_graph, settings,
                                {**FIELDS, "lon": LON, "lat": LAT}, actor="d1", radius_m=800.0)
    plan = sv.plan_batch(store, columbus_graph, settings, actor="d1",
                         incident_ids=[stored.id])
    (team_id, incident_id, eta), = plan.optimal.pairs
    assert incident_id == stored.id
    team = store.team(team_id)
    at = snap_to_edges(columbus_graph, [team.lon], [team.lat])
    times = travel_times_from_point(columbus_graph, at, area_nodes(columbus_graph, stored.area))
    assert eta == pytest.approx(times.mean())
    json.dumps(plan.to_dict(), allow_nan=False)


def test_area_etas_match_networkx(baltimore, baltimore_ref) -> None:
    """Best/expected/worst over an area's nodes equal min/mean/max of networkx's times."""
    g = baltimore
    lon0, lat0 = float(np.median(g.lon)), float(np.median(g.lat))
    geom = circle_area(lon0, lat0, 600.0)
    nodes = area_nodes(g, geom)
    assert 5 <= nodes.size < g.n_nodes
    inside = {int(n) for n in nodes}
    expected_inside = {i for i in range(g.n_nodes) if geom.intersects(
        __import__("shapely").Point(g.lon[i], g.lat[i]))}
    assert inside == expected_inside
    rng = np.random.default_rng(13)
    starts = rng.choice(g.n_nodes, size=4, replace=False)
    origins = snap_to_edges(g, g.lon[starts], g.lat[starts], max_snap_m=1.0)
    inc = Incident(id="x", lon=lon0, lat=lat0, crisis_type=CrisisType.WELFARE_CHECK,
                   area=geom)
    spread = area_spread(g, inc, origins)
    for k, s in enumerate(starts):
        lengths = nx.single_source_dijkstra_path_length(baltimore_ref, int(s),
                                                        weight="travel_time")
        ref = np.array([lengths.get(int(n), np.inf) for n in nodes])
        assert np.isfinite(ref).all()
        assert spread.best_s[k] == pytest.approx(ref.min(), abs=1e-6)
        assert spread.expected_s[k] == pytest.approx(ref.mean(), abs=1e-6)
        assert spread.worst_s[k] == pytest.approx(ref.max(), abs=1e-6)
        assert spread.unreachable[k] == 0


def test_width_limit_is_fifty_km() -> None:
    assert MAX_AREA_WIDTH_M == 50_000.0
    assert area_width_m(circle_area(LON, LAT, 24_000.0)) < MAX_AREA_WIDTH_M


def test_triage_applies_to_an_area_incident(store, columbus_graph, settings) -> None:
    from navigator.decide.triage import Assessment

    stored, triaged = sv.add_incident(
        store, columbus_graph, settings, {**FIELDS, "id": "inc-tri", "priority": 3,
                                          "lon": LON, "lat": LAT},
        actor="d1", radius_m=600.0, assessment=Assessment.from_dict({"weapons": True}))
    assert triaged is not None and stored.priority == triaged.priority == 1
    assert stored.is_area and stored.area_radius_m == 600.0


def test_a_closure_at_the_centre_node_still_ranks(store, columbus_graph, settings) -> None:
    """Review: roads closed around the area's centre node made ranking fail ("138 m from the
    road network, more than max_snap_m=1") although the rest of the area was reachable."""
    from shapely.geometry import box

    from navigator.roads import edges_in_area, with_closures
    from navigator.services.incident_area import _centre_node

    stored, _ = sv.add_incident(store, columbus_graph, settings,
                                {**FIELDS, "lon": LON, "lat": LAT}, actor="d1", radius_m=600.0)
    nodes = area_nodes(columbus_graph, stored.area)
    c = _centre_node(columbus_graph, nodes, stored.lon, stored.lat)
    x, y = float(columbus_graph.lon[c]), float(columbus_graph.lat[c])
    closed = with_closures(columbus_graph, edges_in_area(
        columbus_graph, box(x - 1e-4, y - 1e-4, x + 1e-4, y + 1e-4)))
    ranking = sv.rank_teams(store, closed, settings, incident_id=stored.id, at=NOW,
                            actor="d1")
    assert ranking.options and np.isfinite(ranking.options[0].eta_s)
    spread = area_spread(closed, stored, snap_to_edges(closed, [LON], [LAT]))
    assert spread.centre.edge[0] >= 0 and spread.unreachable[0] >= 1  # c is cut off
    assert not np.isin(spread.centre.edge, closed.closed_edges).any()
    everything = with_closures(columbus_graph, edges_in_area(columbus_graph, stored.area))
    with pytest.raises(UnreachableError, match="every road of its area is closed"):
        area_spread(everything, stored, snap_to_edges(closed, [LON], [LAT]))
