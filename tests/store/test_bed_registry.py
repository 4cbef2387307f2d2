"""The live bed registry, both backends: staff reports, derived free beds, holds on top,
shelter answers, staff sites, episodes; bad input names the field and writes nothing."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.model import (
    BedCount,
    Beds,
    BedType,
    Bundle,
    EpisodeState,
    Resource,
    ResourceKind,
)
from navigator.store.registry import SiteReport

SW = BedType.SINGLE_WOMEN


def _report(store: Any, counts: dict[Any, Any], **kw: Any) -> Any:
    return store.report_beds(SiteReport("faith", counts, **kw), actor="staff1")


def _bed(site: Any, bed_type: BedType) -> Any:
    return next(b for b in site.beds if b.bed_type is bed_type)


def test_import_is_a_report_and_keeps_free_beds(loaded: Any) -> None:
    site = loaded.site_beds("faith")
    sw = _bed(site, SW)
    assert (sw.capacity, sw.occupied, sw.out_of_service, sw.held, sw.free) == (20, 15, 0, 0, 5)
    assert sw.reported_via == "import" and sw.reported_by == "loader"
    assert sw.reported_at is not None and site.status == "open"


def test_report_derives_free_and_holds_stay_on_top(loaded: Any) -> None:
    hold = loaded.hold_bed("faith", SW, actor="cw", ttl_s=600)
    site = _report(loaded, {"single_women": BedCount(20, 12, 2)}, status="open", note="hi")
    sw = _bed(site, SW)
    # 20 - 12 people in beds - 2 out of service - 1 held = 5
    assert (sw.occupied, sw.out_of_service, sw.held, sw.free) == (12, 2, 1, 5)
    assert (sw.reported_by, sw.reported_via, site.note) == ("staff1", "staff", "hi")
    assert int(loaded.beds(["faith"]).set_index("bed_type").loc["single_women", "free"]) == 5
    # Confirmed: still not free, until the next report counts the client among the occupied.
    loaded.confirm_hold(hold.id, actor="cw")
    sw = _bed(loaded.site_beds("faith"), SW)
    assert (sw.held, sw.confirmed, sw.free) == (0, 1, 5)
    sw = _bed(_report(loaded, {"single_women": {"capacity": 20, "occupied": 13,
                                                "out_of_service": 2}}), SW)
    assert (sw.held, sw.confirmed, sw.free) == (0, 0, 5)
    entry = loaded.audit_log(limit=1, action="report_beds")[0]
    assert entry.actor == "staff1" and entry.result == {"faith": {"single_women": 5,
                                                                  "single_men": 0}}


def test_report_below_holds_never_goes_negative(loaded: Any) -> None:
    for _ in range(3):
        loaded.hold_bed("faith", SW, actor="cw", ttl_s=600)
    sw = _bed(_report(loaded, {"single_women": BedCount(20, 19)}), SW)
    assert (sw.free, sw.held, sw.overbooked) == (0, 3, 2)
    with pytest.raises(ConflictError):
        loaded.hold_bed("faith", SW, actor="cw", ttl_s=600)
    loaded.release_hold(loaded.holds(actor="cw")[0].id, actor="cw")
    assert _bed(loaded.site_beds("faith"), SW).free == 0  # still two held on one bed left


@pytest.mark.parametrize(("counts", "kw", "field"), [
    ({"single_women": BedCount(20, 21)}, {}, "occupied"),
    ({"single_women": BedCount(20, -1)}, {}, "occupied"),
    ({"single_women": BedCount(-3, 0)}, {}, "capacity"),
    ({"single_women": BedCount(20, 10, 11)}, {}, "out_of_service"),
    ({"single_women": {"capacity": 20, "occupied": 1, "free": 19}}, {}, "free"),
    ({"youth": BedCount(5, 1)}, {}, "bed_type"),
    ({"martian": BedCount(5, 1)}, {}, "bed_type"),
    ({"single_women": BedCount(20, 1)}, {"status": "maybe"}, "status"),
    ({"single_women": BedCount(20, 1)},
     {"at": datetime.now(UTC) + timedelta(hours=1)}, "future"),
    ({"single_women": BedCount(20, 1)}, {"at": datetime(2026, 1, 1)}, "at"),
])
def test_bad_reports_name_the_field_and_write_nothing(loaded: Any, counts: Any, kw: Any,
                                                      field: str) -> None:
    before = (loaded.site_beds("faith"), loaded.counts())
    with pytest.raises(ValidationError, match=field):
        # a good bed type first: a bad second one must undo nothing, as nothing is written
        _report(loaded, {"single_men": BedCount(40, 30), **counts}, **kw)
    assert (loaded.site_beds("faith"), loaded.counts()) == before


def test_reports_for_non_shelters_and_unknown_sites_are_refused(loaded: Any) -> None:
    with pytest.raises(ValidationError, match="counts must name"):
        _report(loaded, {})
    with pytest.raises(ValidationError, match="not a shelter"):
        loaded.report_beds(SiteReport("clinic-1", {"youth": BedCount(1, 0)}), actor="s")
    with pytest.raises(NotFoundError):
        loaded.report_beds(SiteReport("nowhere", {"youth": BedCount(1, 0)}), actor="s")


def test_an_older_report_never_overwrites_a_newer_one(loaded: Any) -> None:
    now = datetime.now(UTC)
    _report(loaded, {"single_women": BedCount(20, 10)}, at=now)
    with pytest.raises(ConflictError, match="newer report"):
        _report(loaded, {"single_women": BedCount(20, 1)}, at=now - timedelta(hours=3))
    assert _bed(loaded.site_beds("faith"), SW).occupied == 10


def test_census_is_all_or_nothing_and_names_the_row(loaded: Any) -> None:
    good = SiteReport("dv-safe", {"dv": BedCount(8, 3)}, label="row 2")
    bad = SiteReport("faith", {"single_women": BedCount(20, 30)}, label="row 3")
    before = loaded.site_beds("dv-safe")
    with pytest.raises(ValidationError, match=r"row 3.*occupied"):
        loaded.report_census([good, bad], actor="night")
    assert loaded.site_beds("dv-safe") == before
    bad_site = SiteReport("faith", {"youth": BedCount(2, 0)}, label="row 3")
    with pytest.raises(ValidationError, match=r"row 3.*youth"):
        loaded.report_census([good, bad_site], actor="night")
    assert loaded.site_beds("dv-safe") == before
    out = loaded.report_census([good], actor="night")
    assert _bed(out[0], BedType.DV).reported_via == "census"


def test_site_window_and_status(loaded: Any) -> None:
    loaded.set_fresh_hours("faith", 4.0, actor="admin")
    _report(loaded, {"single_women": BedCount(20, 1)}, status="diverting", note="flooded")
    site = loaded.site_beds("faith")
    assert (site.status, site.note, site.fresh_hours) == ("diverting", "flooded", 4.0)
    for bad in (0, -2, float("nan"), float("inf")):
        with pytest.raises(ValidationError, match="fresh_hours"):
            loaded.set_fresh_hours("faith", bad, actor="admin")
    sites = loaded.bed_sites(["faith"])
    assert sites["status"].tolist() == ["diverting"]


def test_accept_decline_and_second_accept(loaded: Any) -> None:
    a = loaded.hold_bed("faith", SW, actor="cw", ttl_s=600, client_ref="C-1")
    b = loaded.hold_bed("faith", SW, actor="cw2", ttl_s=600)
    accepted = loaded.respond_hold(a.id, "accepted", actor="staff1")
    assert (accepted.response, accepted.status, accepted.responded_by) == (
        "accepted", "held", "staff1")
    with pytest.raises(ConflictError, match="already accepted"):
        loaded.respond_hold(a.id, "accepted", actor="staff1")
    declined = loaded.respond_hold(b.id, "declined", actor="staff1")
    assert declined.status == "released" and declined.free_beds == 4
    assert [h.id for h in loaded.holds(resource_ids=["faith"])] == [a.id]
    assert [h.id for h in loaded.holds(actor="cw2", active_only=False)] == [b.id]
    assert loaded.holds(actor="nobody") == []


def test_user_sites(loaded: Any) -> None:
    from navigator.services.accounts import hash_password

    loaded.add_user("staff1", "shelter", hash_password("staff1-password"), actor="admin")
    assert loaded.set_user_sites("staff1", ["faith", "dv-safe"], actor="admin") == (
        "dv-safe", "faith")
    assert loaded.user_sites("staff1") == ("dv-safe", "faith")
    with pytest.raises(ValidationError, match="not a shelter"):
        loaded.set_user_sites("staff1", ["clinic-1"], actor="admin")
    assert loaded.user_sites("staff1") == ("dv-safe", "faith")
    with pytest.raises(NotFoundError):
        loaded.set_user_sites("ghost", ["faith"], actor="admin")


def test_episode_state_machine(loaded: Any) -> None:
    e = loaded.add_episode("CASE-7", actor="cw")
    assert e.state is EpisodeState.SEARCH
    with pytest.raises(ConflictError, match="is search; it cannot move to arrived"):
        loaded.move_episode(e.id, "arrived", actor="cw")
    e = loaded.move_episode(e.id, "hold", actor="cw", changes={"resource_id": "faith",
                                                               "bed_type": "single_women"})
    e = loaded.move_episode(e.id, "accepted", actor="staff1")
    e = loaded.move_episode(e.id, "transport", actor="cw", changes={
        "transport": "team", "eta": datetime.now(UTC) + timedelta(minutes=30)})
    e = loaded.move_episode(e.id, EpisodeState.ARRIVED, actor="staff1")
    with pytest.raises(ConflictError, match="is arrived"):
        loaded.move_episode(e.id, "accepted", actor="staff1")
    with pytest.raises(ValidationError, match="transport"):
        loaded.move_episode(e.id, "follow_up", actor="cw", changes={"transport": "rocket"})
    loaded.move_episode(e.id, "closed", actor="cw")
    assert loaded.episodes() == [] and len(loaded.episodes(open_only=False)) == 1
    moves = loaded.audit_log(action="move_episode")
    assert [m.inputs["state"] for m in moves] == ["closed", "arrived", "transport",
                                                  "accepted", "hold"]
    assert moves[1].actor == "staff1" and moves[1].result["previous"] == "transport"


# -- concurrency ---------------------------------------------------------------------------------
CAPACITY = 30
HOLDS = 50
REPORTS = 20
RACE = Bundle(resources=(Resource("s1", ResourceKind.SHELTER, "Shelter", -83.0, 40.0,
                                  beds=(Beds(BedType.FAMILIES, CAPACITY, 20),)),))


@pytest.fixture
def race_store(store_url: str, backend: str) -> Any:
    """A store with :data:`RACE` whose pool lets the racing threads queue for connections."""
    from navigator.store import open_store

    if backend == "postgis":
        from navigator.store.postgis import PostGISStore

        s: Any = PostGISStore(store_url, max_connections=20, acquire_timeout_s=60)
        s.migrate()
    else:
        s = open_store(store_url)
    s.load(RACE, actor="setup")
    yield s
    s.close()


def test_holds_racing_reports_never_go_negative_nor_lose_a_report(race_store: Any) -> None:
    """50 holds and 20 staff reports released together, on one bed type of one site."""
    n = HOLDS + REPORTS
    barrier = threading.Barrier(n)
    reporters = {i for i in range(n) if i % 7 < 2}  # 20 of the 70, spread among the holds
    assert len(reporters) == REPORTS
    seen_free: list[int] = []

    def work(i: int) -> str:
        barrier.wait()
        try:
            if i in reporters:
                site = race_store.report_beds(SiteReport("s1", {"families": BedCount(
                    CAPACITY, 10 + i % 9, i % 3)}), actor=f"staff{i}")
                seen_free.append(site.beds[0].free)
                return "report"
            hold = race_store.hold_bed("s1", BedType.FAMILIES, actor=f"cw{i}", ttl_s=600)
            seen_free.append(hold.free_beds)
        except ConflictError:
            return "conflict"
        return "hold"

    with ThreadPoolExecutor(max_workers=n) as pool:
        outcomes = Counter(pool.map(work, range(n)))
    assert outcomes["report"] == REPORTS  # no report refused or lost
    assert outcomes["hold"] + outcomes["conflict"] == HOLDS
    assert min(seen_free) >= 0
    bed = race_store.site_beds("s1").beds[0]
    held = race_store.holds(resource_ids=["s1"])
    assert bed.held == len(held) == outcomes["hold"]
    assert bed.free == max(0, bed.capacity - bed.occupied - bed.out_of_service - bed.held)
    # The row holds the last report applied, as the audit log ordered them.
    reports = race_store.audit_log(limit=200, action="report_beds")
    assert len(reports) == REPORTS
    last = reports[0]
    counts = last.inputs["reports"][0]["counts"]["families"]
    assert (bed.occupied, bed.out_of_service, bed.reported_by) == (
        counts["occupied"], counts["out_of_service"], last.actor)
    assert len(race_store.audit_log(limit=200, action="hold_bed")) == outcomes["hold"]
    assert race_store.verify_audit().ok


def test_parallel_links_of_one_hold_make_one_episode(race_store: Any) -> None:
    """Ten requests for one hold (a retried hold from the bed finder) released together."""
    hold = race_store.hold_bed("s1", BedType.FAMILIES, actor="cw", ttl_s=600,
                               client_ref="CASE-R")
    barrier = threading.Barrier(10)

    def link(_i: int) -> str:
        barrier.wait()
        return str(race_store.link_hold_episode(hold.id, actor="cw", client_ref="CASE-R").id)

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = set(pool.map(link, range(10)))
    assert len(ids) == 1
    assert [e.id for e in race_store.episodes()] == list(ids)
    assert len(race_store.audit_log(limit=100, action="add_episode")) == 1
    assert race_store.verify_audit().ok
