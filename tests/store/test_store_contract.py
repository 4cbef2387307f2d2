"""The store contract, run against both backends (``store`` is parametrised gpkg/postgis)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, Point

from navigator.errors import ConflictError, NotFoundError, StoreError, ValidationError
from navigator.model import (
    AssignmentStatus,
    Beds,
    BedType,
    Bundle,
    CrisisType,
    HoldStatus,
    Incident,
    IncidentStatus,
    Resource,
    ResourceKind,
    Team,
    TeamStatus,
)
from navigator.store.base import (
    BED_COLUMNS,
    HOTLINE_COLUMNS,
    INCIDENT_COLUMNS,
    RESOURCE_COLUMNS,
    TEAM_COLUMNS,
)
from navigator.store.gpkg import to_gpkg

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # the sample bundle's incident time


# -- lifecycle ----------------------------------------------------------------------------------
def test_migrate_is_idempotent(store: Any) -> None:
    latest = store.migrate()
    assert latest >= 2  # 0001 schema, 0002 users
    assert store.migrate() == latest
    assert set(store.counts().values()) == {0}


def test_load_returns_counts_and_audits(store: Any, sample: Bundle) -> None:
    assert store.load(sample, actor="loader") == sample.counts()
    counts = store.counts()
    assert counts["resources"] == 4 and counts["beds"] == 3 and counts["hotlines"] == 2
    assert counts["teams"] == 3 and counts["incidents"] == 5 and counts["audit"] == 1
    (entry,) = store.audit_log()
    assert (entry.actor, entry.action) == ("loader", "load")
    assert entry.inputs["counts"] == sample.counts() and entry.at.tzinfo is not None


# -- round trips --------------------------------------------------------------------------------
def test_every_record_round_trips(loaded: Any, sample: Bundle) -> None:
    for resource in sample.resources:
        assert loaded.resource(resource.id) == resource
    for team in sample.teams:
        assert loaded.team(team.id) == team
    for incident in sample.incidents:
        assert loaded.incident(incident.id) == incident
    assert loaded.hotline("988") == sample.hotlines[0]
    local = loaded.hotline("local")
    assert local.area == MultiPolygon([sample.hotlines[1].area])
    assert dataclasses.replace(local, area=sample.hotlines[1].area) == sample.hotlines[1]


def test_multipolygon_area_round_trips(store: Any, sample: Bundle) -> None:
    area = MultiPolygon([Point(-83, 40).buffer(0.1), Point(-82, 40).buffer(0.1)])
    hotline = dataclasses.replace(sample.hotlines[1], area=area)
    store.load(Bundle(hotlines=(hotline,)), actor="t")
    assert store.hotline("local") == hotline


def test_resource_frame_columns_and_types(loaded: Any) -> None:
    frame = loaded.resources()
    assert isinstance(frame, gpd.GeoDataFrame)
    assert list(frame.columns) == [*RESOURCE_COLUMNS, "geometry"]
    assert frame.crs.to_epsg() == 4326
    row = frame.set_index("id").loc["faith"]
    assert row["geometry"] == Point(-83.0, 39.96)
    assert row["services"] == ("meals", "showers") and row["languages"] == ("en", "es")
    assert row["eligibility"] == {"genders": ["female", "male"], "min_age": 18,
                                  "max_age": None, "families": True}
    assert row["walk_in"] is True or row["walk_in"] == True  # noqa: E712 (numpy bool)
    assert frame.set_index("id").loc["dv-safe", "meeting_point_lon"] == -82.99


def test_other_frames_have_contract_columns(loaded: Any) -> None:
    teams = loaded.teams()
    assert list(teams.columns) == [*TEAM_COLUMNS, "geometry"]
    t1 = teams.set_index("id").loc["T1"]
    assert t1["shift_start"] == T0.replace(hour=12)  # 07:00 New York = 12:00 UTC
    assert str(teams["updated_at"].dt.tz) == "UTC"
    assert t1["skills"] == ("de-escalation",)
    incidents = loaded.incidents()
    assert list(incidents.columns) == [*INCIDENT_COLUMNS, "geometry", "area"]
    assert incidents.crs.to_epsg() == 4326 and len(incidents) == 5
    assert incidents["area"].isna().all()  # point incidents: no area (GeoJSON when set)
    hotlines = loaded.hotlines()
    assert list(hotlines.columns) == [*HOTLINE_COLUMNS, "geometry"]
    by_id = hotlines.set_index("id")
    assert by_id.loc["988", "geometry"] is None
    assert by_id.loc["988", "channels"] == ("call", "text")
    assert by_id.loc["local", "geometry"].geom_type == "MultiPolygon"
    beds = loaded.beds()
    assert list(beds.columns) == list(BED_COLUMNS)
    assert beds.to_dict("records")[:2] == [
        {"resource_id": "dv-safe", "bed_type": "dv", "capacity": 8, "free": 2},
        {"resource_id": "faith", "bed_type": "single_women", "capacity": 20, "free": 5}]
    assert len(loaded.beds(["faith"])) == 2 and loaded.beds([]).empty


def test_empty_store_frames(store: Any) -> None:
    assert store.resources().empty and store.teams().empty and store.incidents().empty
    assert store.hotlines().empty and store.beds().empty and store.assignments().empty
    assert store.resources().crs.to_epsg() == 4326


# -- filters ------------------------------------------------------------------------------------
def test_kind_filter(loaded: Any) -> None:
    assert set(loaded.resources(kinds=[ResourceKind.SHELTER])["id"]) == {"faith", "dv-safe"}
    assert set(loaded.resources(kinds=["clinic", "team_base"])["id"]) == {"clinic-1", "base-1"}
    assert loaded.resources(kinds=[]).empty
    with pytest.raises(ValidationError, match="kinds='bakery'"):
        loaded.resources(kinds=["bakery"])


def test_bbox_filter_includes_edges(loaded: Any) -> None:
    found = loaded.resources(bbox=(-83.01, 39.95, -82.95, 39.99))  # two on its edges
    assert set(found["id"]) == {"base-1", "dv-safe", "faith"}
    assert set(loaded.resources(bbox=(-83.0, 39.955, -82.96, 40))["id"]) == {"faith"}
    assert set(loaded.resources(bbox=(-84, 39, -82, 41))["id"]) == {
        "faith", "dv-safe", "clinic-1", "base-1"}
    assert loaded.resources(bbox=(0, 0, 1, 1)).empty
    with pytest.raises(ValidationError):
        loaded.resources(bbox=(-82, 39, -84, 41))
    with pytest.raises(ValidationError):
        loaded.resources(bbox=(-83, 39, -82, 95))


def test_confidential_can_be_dropped(loaded: Any) -> None:
    assert "dv-safe" in set(loaded.resources()["id"])
    public = loaded.resources(include_confidential=False)
    assert set(public["id"]) == {"faith", "clinic-1", "base-1"}


def test_status_filters(loaded: Any) -> None:
    assert set(loaded.teams(statuses=[TeamStatus.AVAILABLE])["id"]) == {"T1", "T2"}
    assert set(loaded.teams(statuses=["off_duty"])["id"]) == {"T3"}
    assert len(loaded.incidents(statuses=[IncidentStatus.OPEN])) == 5
    assert loaded.incidents(statuses=[IncidentStatus.RESOLVED]).empty


# -- load semantics -----------------------------------------------------------------------------
def test_upsert_updates_in_place(loaded: Any, sample: Bundle) -> None:
    renamed = dataclasses.replace(sample.resources[0], name="Faith Mission North",
                                  beds=(Beds(BedType.FAMILIES, 4, 4),))
    moved = dataclasses.replace(sample.teams[1], lon=-83.1, lat=40.1)
    loaded.load(Bundle(resources=(renamed,), teams=(moved,)), actor="t")
    assert loaded.counts()["resources"] == 4 and loaded.counts()["beds"] == 2
    assert loaded.resource("faith") == renamed
    assert loaded.team("T2") == moved


def test_replace_empties_everything_but_the_audit_log(loaded: Any, sample: Bundle) -> None:
    small = Bundle(resources=sample.resources[3:], teams=sample.teams[:1])
    loaded.load(small, actor="t", replace=True)
    counts = loaded.counts()
    assert (counts["resources"], counts["teams"], counts["incidents"], counts["beds"]) == (
        1, 1, 0, 0)
    assert counts["audit"] == 2


def test_duplicate_ids_refused_and_nothing_changes(loaded: Any, sample: Bundle) -> None:
    before = loaded.counts()
    clinic = Resource("new-clinic", ResourceKind.CLINIC, "New", -83, 40)
    bad = Bundle(resources=(clinic, clinic))
    with pytest.raises(ValidationError, match="'new-clinic' appears twice"):
        loaded.load(bad, actor="t")
    assert loaded.counts() == before


def test_team_base_must_exist(loaded: Any, store: Any, sample: Bundle) -> None:
    before = loaded.counts()
    orphan = Team("T9", "Orphan", "nowhere", -83, 40)
    with pytest.raises(ValidationError, match="team 'T9': base_id 'nowhere'"):
        loaded.load(Bundle(teams=(orphan,)), actor="t")
    clinic_based = Team("T9", "Wrong base", "clinic-1", -83, 40)
    with pytest.raises(ValidationError, match="team_base"):
        loaded.load(Bundle(teams=(clinic_based,)), actor="t")
    assert loaded.counts() == before
    # A base already in the store counts.
    loaded.load(Bundle(teams=(dataclasses.replace(orphan, base_id="base-1"),)), actor="t")
    assert loaded.team("T9").base_id == "base-1"


def test_bad_record_deep_in_bundle_changes_nothing(loaded: Any, sample: Bundle) -> None:
    """A record that slipped past Python validation is refused by the database itself."""
    before = loaded.counts()
    sneaky = Resource("sneaky", ResourceKind.CLINIC, "Sneaky", -83, 40)
    object.__setattr__(sneaky, "lat", 95.0)  # bypass __post_init__
    good = Resource("good", ResourceKind.CLINIC, "Good", -83, 40)
    renamed = dataclasses.replace(sample.resources[2], name="Renamed")
    with pytest.raises(ValidationError):
        loaded.load(Bundle(resources=(good, renamed, sneaky)), actor="t")
    assert loaded.counts() == before
    assert loaded.resource("clinic-1").name == "Clinic One"
    with pytest.raises(NotFoundError):
        loaded.resource("good")


def test_load_refuses_wrong_record_types(store: Any) -> None:
    with pytest.raises(ValidationError, match="not a Resource"):
        store.load(Bundle(resources=("x",)), actor="t")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="actor"):
        store.load(Bundle(), actor="")


# -- database constraints, bypassing Python --------------------------------------------------------
POINT_INSERT = {
    "gpkg": ("INSERT INTO resources (geom, id, kind, name, lon, lat) "
             "VALUES (%(blob)s, %(id)s, 'clinic', 'Raw', %(lon)s, %(lat)s)"),
    "postgis": ("INSERT INTO resources (geom, id, kind, name) VALUES "
                "(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(id)s, 'clinic', 'Raw')"),
}

#: A well-formed GeoPackage point, so only the lon/lat CHECKs decide (GeoPackage rows).
VALID_BLOB = to_gpkg(Point(-83.0, 40.0))


@pytest.mark.parametrize(("lon", "lat"), [
    (float("nan"), 40.0), (-83.0, float("nan")), (200.0, 40.0), (-83.0, -95.0),
    (float("inf"), 0.0)])
def test_database_refuses_bad_points(raw: Any, db_errors: Any, lon: float, lat: float) -> None:
    with pytest.raises(db_errors):
        raw.execute(POINT_INSERT[raw.backend], {"id": "raw", "lon": lon, "lat": lat,
                                                "blob": VALID_BLOB})
    assert raw.execute("SELECT count(*) FROM resources")[0][0] == 0


def test_database_accepts_a_good_raw_point(raw: Any) -> None:
    raw.execute(POINT_INSERT[raw.backend], {"id": "raw", "lon": -83.0, "lat": 40.0,
                                            "blob": VALID_BLOB})
    assert raw.execute("SELECT count(*) FROM resources")[0][0] == 1


@pytest.mark.parametrize(("capacity", "free"), [(10, -1), (10, 11), (-1, 0)])
def test_database_refuses_bad_bed_counts(loaded: Any, raw: Any, db_errors: Any,
                                         capacity: int, free: int) -> None:
    with pytest.raises(db_errors):
        raw.execute("UPDATE beds SET capacity = %(c)s, free = %(f)s WHERE resource_id = 'faith'",
                    {"c": capacity, "f": free})
    assert loaded.resource("faith").beds[0] == Beds(BedType.SINGLE_WOMEN, 20, 5)


def test_database_refuses_a_second_active_assignment(loaded: Any, raw: Any,
                                                     db_errors: Any) -> None:
    loaded.assign_team("T1", "I1", actor="d")
    with pytest.raises(db_errors):
        raw.execute("INSERT INTO assignments (id, team_id, incident_id, status, actor, "
                    "created_at, updated_at) VALUES ('x', 'T1', 'I2', 'active', 'raw', "
                    "%(t)s, %(t)s)",
                    {"t": T0 if raw.backend == "postgis" else "2026-03-01T12:00:00.000Z"})


def test_audit_is_append_only(loaded: Any, raw: Any, db_errors: Any) -> None:
    with pytest.raises(db_errors, match="append-only"):
        raw.execute("UPDATE audit SET actor = 'mallory'")
    with pytest.raises(db_errors, match="append-only"):
        raw.execute("DELETE FROM audit")
    if raw.backend == "postgis":
        with pytest.raises(db_errors, match="append-only"):
            raw.execute("TRUNCATE audit")
    assert [e.actor for e in loaded.audit_log()] == ["loader"]


# -- simple writes ------------------------------------------------------------------------------
def test_add_incident_and_status(loaded: Any) -> None:
    new = Incident("I9", -83.0, 40.0, CrisisType.WELFARE_CHECK)
    stored = loaded.add_incident(new, actor="call-taker")
    assert stored.created_at is not None and stored.created_at.tzinfo is not None
    assert dataclasses.replace(stored, created_at=None, updated_at=None) == new
    assert loaded.incident("I9") == stored
    with pytest.raises(ConflictError, match="'I9' already exists"):
        loaded.add_incident(new, actor="call-taker")
    resolved = loaded.set_incident_status("I9", IncidentStatus.RESOLVED, actor="d")
    assert resolved.status is IncidentStatus.RESOLVED
    assert resolved.updated_at >= stored.updated_at
    assert [e.action for e in loaded.audit_log(limit=2)] == ["set_incident_status",
                                                           "add_incident"]


def test_set_beds(loaded: Any) -> None:
    loaded.set_beds("faith", BedType.SINGLE_MEN, capacity=40, free=7, actor="shelter")
    loaded.set_beds("faith", BedType.YOUTH, capacity=3, free=3, actor="shelter")
    assert loaded.resource("faith").beds == (
        Beds(BedType.SINGLE_WOMEN, 20, 5), Beds(BedType.SINGLE_MEN, 40, 7),
        Beds(BedType.YOUTH, 3, 3))
    with pytest.raises(ValidationError, match="exceeds capacity"):
        loaded.set_beds("faith", BedType.YOUTH, capacity=3, free=4, actor="shelter")
    with pytest.raises(ValidationError, match="only shelters"):
        loaded.set_beds("clinic-1", BedType.YOUTH, capacity=3, free=3, actor="shelter")
    with pytest.raises(NotFoundError):
        loaded.set_beds("nowhere", BedType.YOUTH, capacity=3, free=3, actor="shelter")
    assert loaded.audit_log(action="set_beds")[0].inputs == {
        "bed_type": "youth", "capacity": 3, "free": 3}


def test_update_team(loaded: Any) -> None:
    team = loaded.update_team("T2", actor="d", status=TeamStatus.ON_SCENE, lon=-83.1, lat=40.1)
    assert (team.status, team.lon, team.lat) == (TeamStatus.ON_SCENE, -83.1, 40.1)
    assert loaded.team("T2") == team
    assert loaded.teams().set_index("id").loc["T2", "geometry"] == Point(-83.1, 40.1)
    with pytest.raises(ValidationError, match="lat"):
        loaded.update_team("T2", actor="d", lon=-83.0, lat=100.0)
    with pytest.raises(ValidationError):
        loaded.update_team("T2", actor="d", status="asleep")
    assert loaded.team("T2") == team


def test_record_appends_a_decision(store: Any) -> None:
    store.record("rank_teams", actor="planner", subject="I1",
                 inputs={"at": T0, "kind": ResourceKind.SHELTER}, result={"ranked": ("T1",)})
    (entry,) = store.audit_log()
    assert entry.inputs == {"at": "2026-03-01T12:00:00+00:00", "kind": "shelter"}
    assert entry.result == {"ranked": ["T1"]} and entry.subject == "I1"
    with pytest.raises(ValidationError):
        store.record("", actor="planner")


def test_unknown_ids_raise_not_found(loaded: Any) -> None:
    for call in (lambda: loaded.resource("x"), lambda: loaded.team("x"),
                 lambda: loaded.incident("x"), lambda: loaded.hold("x"),
                 lambda: loaded.hotline("x"),
                 lambda: loaded.update_team("x", actor="d", status="available"),
                 lambda: loaded.set_incident_status("x", "resolved", actor="d"),
                 lambda: loaded.confirm_hold("x", actor="d"),
                 lambda: loaded.release_hold("x", actor="d"),
                 lambda: loaded.hold_bed("x", BedType.DV, actor="d", ttl_s=60),
                 lambda: loaded.assign_team("x", "I1", actor="d"),
                 lambda: loaded.assign_team("T1", "x", actor="d"),
                 lambda: loaded.finish_assignment("x", actor="d", status="completed")):
        with pytest.raises(NotFoundError, match="'x'"):
            call()


# -- holds --------------------------------------------------------------------------------------
def test_hold_takes_one_bed_and_is_idempotent(loaded: Any) -> None:
    hold = loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="nav", ttl_s=600,
                           idempotency_key="k1", client_ref="c-7", now=T0)
    assert (hold.status, hold.client_ref, hold.created_at) == (HoldStatus.HELD, "c-7", T0)
    assert hold.expires_at == T0 + timedelta(seconds=600)
    again = loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="nav", ttl_s=600,
                            idempotency_key="k1", now=T0)
    assert again == hold == loaded.hold(hold.id)
    assert loaded.resource("faith").beds[0].free == 4
    assert [e.action for e in loaded.audit_log(limit=1)] == ["hold_bed"]


def test_idempotency_key_reused_for_another_request_is_a_conflict(loaded: Any) -> None:
    loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="nav", ttl_s=600,
                    idempotency_key="k9", now=T0)
    with pytest.raises(ConflictError, match="already used"):
        loaded.hold_bed("dv-safe", BedType.DV, actor="nav", ttl_s=600, idempotency_key="k9",
                        now=T0)
    with pytest.raises(ConflictError, match="already used"):
        loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="someone-else", ttl_s=600,
                        idempotency_key="k9", now=T0)


def test_conflict_on_last_bed(loaded: Any) -> None:
    held = [loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
            for _ in range(2)]
    assert len({h.id for h in held}) == 2
    with pytest.raises(ConflictError, match="no free 'dv' bed at resource 'dv-safe'"):
        loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
    with pytest.raises(ConflictError):  # no beds free from the start
        loaded.hold_bed("faith", BedType.SINGLE_MEN, actor="n", ttl_s=60, now=T0)
    with pytest.raises(NotFoundError, match="no 'youth' beds"):
        loaded.hold_bed("faith", BedType.YOUTH, actor="n", ttl_s=60, now=T0)
    assert loaded.resource("dv-safe").beds[0].free == 0


def test_hold_inputs_are_validated(loaded: Any) -> None:
    for ttl in (0, -5, float("nan"), float("inf"), True):
        with pytest.raises(ValidationError, match="ttl_s"):
            loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=ttl)
    with pytest.raises(ValidationError, match="bed_type"):
        loaded.hold_bed("faith", "bunk", actor="n", ttl_s=60)
    with pytest.raises(ValidationError, match="timezone-aware"):
        loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60,
                        now=T0.replace(tzinfo=None))


def test_expiry_returns_beds(loaded: Any) -> None:
    hold = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
    assert loaded.expire_holds(now=T0 + timedelta(seconds=59)) == 0
    assert loaded.resource("dv-safe").beds[0].free == 1
    assert loaded.expire_holds(now=T0 + timedelta(seconds=60)) == 1
    assert loaded.resource("dv-safe").beds[0].free == 2
    assert loaded.hold(hold.id).status is HoldStatus.EXPIRED
    assert loaded.expire_holds(now=T0 + timedelta(hours=1)) == 0
    entry = loaded.audit_log(action="expire_holds")[0]
    assert entry.result == {"expired": [hold.id]} and entry.actor == "system"


def test_bed_counts_return_expired_holds_without_another_write(loaded: Any) -> None:
    before = int(loaded.beds(["dv-safe"])["free"].iloc[0])
    past = datetime.now(UTC) - timedelta(hours=1)
    loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=past)
    assert [e.action for e in loaded.audit_log(limit=1)] == ["hold_bed"]
    beds = loaded.beds(["dv-safe"])
    assert int(beds["free"].iloc[0]) == before  # a read sees the bed back, no hold/release
    assert [e.action for e in loaded.audit_log(limit=1)] == ["expire_holds"]
    assert loaded.resource("dv-safe").beds[0].free == before


def test_hold_expires_overdue_holds_first(loaded: Any) -> None:
    for _ in range(2):
        loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
    later = T0 + timedelta(minutes=5)
    hold = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=later)
    assert hold.status is HoldStatus.HELD
    assert loaded.resource("dv-safe").beds[0].free == 1


def test_confirm_keeps_bed_and_release_gives_it_back(loaded: Any) -> None:
    a = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
    b = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
    confirmed = loaded.confirm_hold(a.id, actor="intake", now=T0 + timedelta(seconds=10))
    assert confirmed.status is HoldStatus.CONFIRMED
    assert confirmed.updated_at == T0 + timedelta(seconds=10)
    released = loaded.release_hold(b.id, actor="n", now=T0 + timedelta(seconds=10))
    assert released.status is HoldStatus.RELEASED
    assert loaded.resource("dv-safe").beds[0].free == 1
    # A confirmed bed stays taken, even long after the hold would have expired.
    assert loaded.expire_holds(now=T0 + timedelta(days=1)) == 0
    assert loaded.resource("dv-safe").beds[0].free == 1
    for call in (loaded.confirm_hold, loaded.release_hold):
        for hold in (a, b):
            with pytest.raises(ConflictError, match="not held"):
                call(hold.id, actor="n", now=T0 + timedelta(seconds=20))
    assert loaded.resource("dv-safe").beds[0].free == 1
    actions = [e.action for e in loaded.audit_log(limit=4)]
    assert actions[:2] == ["release_hold", "confirm_hold"]


def test_confirm_after_expiry_conflicts_and_bed_returns(loaded: Any) -> None:
    hold = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
    with pytest.raises(ConflictError, match="is expired, not held"):
        loaded.confirm_hold(hold.id, actor="n", now=T0 + timedelta(seconds=61))
    assert loaded.hold(hold.id).status is HoldStatus.EXPIRED
    assert loaded.resource("dv-safe").beds[0].free == 2


def test_returned_bed_respects_shrunk_capacity(loaded: Any) -> None:
    hold = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
    loaded.set_beds("dv-safe", BedType.DV, capacity=1, free=1, actor="shelter")
    loaded.release_hold(hold.id, actor="n", now=T0)
    assert loaded.resource("dv-safe").beds[0] == Beds(BedType.DV, 1, 1)


# -- assignments --------------------------------------------------------------------------------
def test_assign_and_conflict(loaded: Any) -> None:
    a = loaded.assign_team("T1", "I1", actor="dispatcher", eta_s=420.5)
    assert (a.status, a.eta_s, a.actor) == (AssignmentStatus.ACTIVE, 420.5, "dispatcher")
    assert loaded.team("T1").status is TeamStatus.EN_ROUTE
    assert loaded.incident("I1").status is IncidentStatus.ASSIGNED
    with pytest.raises(ConflictError, match="team 'T1' is already assigned to incident 'I1'"):
        loaded.assign_team("T1", "I2", actor="other")
    with pytest.raises(ConflictError, match="team 'T1' is already assigned to incident 'I1'"):
        loaded.assign_team("T1", "I2", actor="other",
                           allowed_statuses=[TeamStatus.EN_ROUTE, TeamStatus.AVAILABLE])
    assert loaded.incident("I2").status is IncidentStatus.OPEN
    frame = loaded.assignments(active_only=True)
    assert list(frame["id"]) == [a.id] and frame["created_at"].dt.tz is not None


def test_assign_refuses_teams_not_allowed(loaded: Any) -> None:
    with pytest.raises(ConflictError, match="team 'T3' is off_duty, not one of available"):
        loaded.assign_team("T3", "I1", actor="d")
    a = loaded.assign_team("T3", "I1", actor="d", allowed_statuses=[TeamStatus.OFF_DUTY])
    assert a.team_id == "T3"
    with pytest.raises(ValidationError, match="eta_s"):
        loaded.assign_team("T2", "I2", actor="d", eta_s=-1)
    loaded.set_incident_status("I5", IncidentStatus.RESOLVED, actor="d")
    with pytest.raises(ConflictError, match="'I5' is resolved"):
        loaded.assign_team("T2", "I5", actor="d")


def test_assign_is_idempotent(loaded: Any) -> None:
    a = loaded.assign_team("T1", "I1", actor="d", idempotency_key="click-1")
    assert loaded.assign_team("T1", "I1", actor="d", idempotency_key="click-1") == a
    assert len(loaded.assignments()) == 1
    assert len(loaded.audit_log(action="assign_team")) == 1


def test_finish_completed_and_cancelled(loaded: Any) -> None:
    a = loaded.assign_team("T1", "I1", actor="d")
    done = loaded.finish_assignment(a.id, actor="d", status=AssignmentStatus.COMPLETED)
    assert done.status is AssignmentStatus.COMPLETED and done.updated_at >= a.updated_at
    assert loaded.team("T1").status is TeamStatus.RETURNING
    assert loaded.incident("I1").status is IncidentStatus.RESOLVED  # nobody is left on it
    with pytest.raises(ConflictError, match="is completed, not active"):
        loaded.finish_assignment(a.id, actor="d", status=AssignmentStatus.CANCELLED)
    with pytest.raises(ConflictError, match="returning"):
        loaded.assign_team("T1", "I2", actor="d")
    b = loaded.assign_team("T1", "I2", actor="d",
                           allowed_statuses=[TeamStatus.AVAILABLE, TeamStatus.RETURNING])
    loaded.finish_assignment(b.id, actor="d", status="cancelled")
    assert loaded.team("T1").status is TeamStatus.AVAILABLE
    assert loaded.incident("I2").status is IncidentStatus.OPEN
    assert list(loaded.assignments()["status"]) == ["cancelled", "completed"]
    with pytest.raises(ValidationError):
        loaded.finish_assignment(b.id, actor="d", status=AssignmentStatus.ACTIVE)


def test_second_team_for_one_incident_only_as_backup(loaded: Any) -> None:
    loaded.assign_team("T1", "I1", actor="d1")
    with pytest.raises(ConflictError, match="already has 'T1' on the way"):
        loaded.assign_team("T2", "I1", actor="d2")
    assert loaded.team("T2").status is TeamStatus.AVAILABLE  # nothing changed
    backup = loaded.assign_team("T2", "I1", actor="d2", backup=True)
    assert backup.team_id == "T2" and loaded.team("T2").status is TeamStatus.EN_ROUTE


def test_cancel_keeps_incident_assigned_while_another_team_is_on_it(loaded: Any) -> None:
    a = loaded.assign_team("T1", "I1", actor="d")
    b = loaded.assign_team("T2", "I1", actor="d", backup=True)
    loaded.finish_assignment(a.id, actor="d", status=AssignmentStatus.CANCELLED)
    assert loaded.incident("I1").status is IncidentStatus.ASSIGNED
    loaded.finish_assignment(b.id, actor="d", status=AssignmentStatus.COMPLETED)
    assert loaded.incident("I1").status is IncidentStatus.RESOLVED


def test_completing_the_main_team_waits_for_the_backup(loaded: Any) -> None:
    a = loaded.assign_team("T1", "I1", actor="d")
    b = loaded.assign_team("T2", "I1", actor="d", backup=True)
    loaded.finish_assignment(a.id, actor="d", status=AssignmentStatus.COMPLETED)
    assert loaded.incident("I1").status is IncidentStatus.ASSIGNED
    loaded.finish_assignment(b.id, actor="d", status=AssignmentStatus.CANCELLED)
    assert loaded.incident("I1").status is IncidentStatus.RESOLVED  # T1 did the work
    c = loaded.assign_team("T2", "I2", actor="d",
                           allowed_statuses=[TeamStatus.AVAILABLE, TeamStatus.RETURNING])
    loaded.finish_assignment(c.id, actor="d", status=AssignmentStatus.CANCELLED)
    assert loaded.incident("I2").status is IncidentStatus.OPEN  # nobody finished it


def test_every_write_is_audited(loaded: Any) -> None:
    hold = loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="a1", ttl_s=60)
    loaded.confirm_hold(hold.id, actor="a2")
    a = loaded.assign_team("T1", "I1", actor="a3")
    loaded.finish_assignment(a.id, actor="a4", status="completed")
    loaded.update_team("T1", actor="a5", status="available")
    log = loaded.audit_log(limit=5)
    assert [(e.actor, e.action) for e in log] == [
        ("a5", "update_team"), ("a4", "finish_assignment"), ("a3", "assign_team"),
        ("a2", "confirm_hold"), ("a1", "hold_bed")]
    assert all(e.at.tzinfo == UTC for e in log)
    assert log[2].subject == a.id and log[4].subject == hold.id


def test_closed_store_refuses_work(store_url: str) -> None:
    from navigator.store import open_store

    s = open_store(store_url)
    s.close()
    with pytest.raises(StoreError):
        s.counts()


def test_ping_answers_quickly_and_never_raises(store_url: str) -> None:
    from navigator.store import open_store

    s = open_store(store_url)
    assert s.ping() is True
    s.close()
    assert s.ping() is False


# -- live positions -----------------------------------------------------------------------------
def test_report_positions_moves_to_the_newest_and_ignores_late_pings(loaded: Any) -> None:
    from navigator.model import PositionPing

    t1 = T0 + timedelta(minutes=1)
    done = loaded.report_positions("T2", [PositionPing(-83.05, 39.97, t1),
                                          PositionPing(-83.04, 39.96, T0)], actor="gps")
    assert (done.applied, done.accepted, done.ignored) == (True, 2, 0)
    assert (done.team.lon, done.team.lat, done.team.position_at) == (-83.05, 39.97, t1)
    assert loaded.team("T2") == done.team
    frame = loaded.teams().set_index("id")
    assert frame.loc["T2", "geometry"] == Point(-83.05, 39.97)
    assert frame.loc["T2", "position_at"] == t1 and frame["position_at"].dt.tz is not None
    assert frame["position_at"].isna()["T1"]
    # an older or repeated fix arrives late: ignored, the team stays where the newest put it
    late = loaded.report_positions("T2", [PositionPing(-83.0, 39.9, T0),
                                          PositionPing(-83.0, 39.9, t1)], actor="gps")
    assert (late.applied, late.accepted, late.ignored) == (False, 0, 2)
    assert loaded.team("T2") == done.team
    assert loaded.audit_log(limit=1)[0].action == "report_positions"


def test_report_positions_refuses_bad_input_and_writes_nothing(loaded: Any) -> None:
    from navigator.model import PositionPing

    before = loaded.audit_log(limit=1)[0].id
    with pytest.raises(NotFoundError, match="nope"):
        loaded.report_positions("nope", [PositionPing(-83.0, 39.9, T0)], actor="gps")
    with pytest.raises(ValidationError):
        loaded.report_positions("T2", [], actor="gps")
    with pytest.raises(ValidationError):
        loaded.report_positions("T2", [(-83.0, 39.9, T0)], actor="gps")
    with pytest.raises(ValidationError, match="finite"):
        PositionPing(float("nan"), 39.9, T0)
    with pytest.raises(ValidationError, match="timezone"):
        PositionPing(-83.0, 39.9, datetime(2026, 3, 1, 12))
    assert loaded.audit_log(limit=1)[0].id == before
    assert loaded.team("T2").position_at is None


def test_hand_position_is_a_fix_now(loaded: Any) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    team = loaded.update_team("T2", actor="d", lon=-83.1, lat=40.1)
    assert team.position_at is not None and team.position_at >= before
    assert loaded.update_team("T2", actor="d", status=TeamStatus.ON_SCENE).position_at == \
        team.position_at


def test_override_reason_is_kept_with_the_assignment(loaded: Any) -> None:
    a = loaded.assign_team("T2", "I1", actor="d", override_reason="  only team nearby ")
    assert a.override_reason == "only team nearby"
    frame = loaded.assignments(active_only=True)
    assert frame.loc[0, "override_reason"] == "only team nearby"
    entry = loaded.audit_log(limit=1)[0]
    assert entry.action == "assign_team" and entry.inputs["override_reason"] == "only team nearby"
    with pytest.raises(ValidationError, match="override_reason"):
        loaded.assign_team("T1", "I2", actor="d", override_reason="x" * 501)
