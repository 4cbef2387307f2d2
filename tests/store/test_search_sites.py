"""A search's one read, both backends: the rows the frames hold, live, expired holds returned."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from navigator.errors import ValidationError
from navigator.model import BedCount, BedType, ResourceKind
from navigator.store import rows
from navigator.store.registry import SiteReport

SW = BedType.SINGLE_WOMEN


def _plain(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Return a store frame's rows as Python values (NaT -> None, Timestamps -> datetime)."""
    out = []
    for rec in frame.to_dict("records"):
        row = {}
        for c in columns:
            v = rec[c]
            if isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            elif v is pd.NaT:
                v = None
            row[c] = v
        out.append(row)
    return out


def test_rows_are_what_the_three_frame_reads_hold(loaded: Any) -> None:
    loaded.set_fresh_hours("faith", 4.0, actor="admin")
    loaded.report_beds(SiteReport("faith", {"single_women": BedCount(20, 12, 2)},
                                  status="diverting", note="flooded"), actor="staff1")
    got = loaded.search_sites([ResourceKind.SHELTER], registry=True)
    res = loaded.resources(kinds=[ResourceKind.SHELTER])
    ids = res["id"].tolist()
    assert ids == ["dv-safe", "faith"]
    expected = _plain(res, tuple(c for c in res.columns if c != "geometry"))
    for row, x, y in zip(expected, res.geometry.x, res.geometry.y, strict=True):
        row.update(lon=float(x), lat=float(y))
    assert list(got.resources) == expected
    assert got.resources[1]["eligibility"]["min_age"] == 18
    assert got.resources[0]["meeting_point_lon"] == -82.99
    assert list(got.beds) == _plain(loaded.bed_counts(ids), rows.REGISTRY_COLUMNS)
    assert list(got.sites) == _plain(loaded.bed_sites(ids), rows.SITE_COLUMNS)
    faith = next(b for b in got.beds if b["resource_id"] == "faith" and b["bed_type"] == SW)
    assert (faith["free"], faith["reported_by"]) == (6, "staff1")
    assert faith["reported_at"].utcoffset() == timedelta(0)
    assert [(s["resource_id"], s["status"], s["fresh_hours"]) for s in got.sites] == [
        ("faith", "diverting", 4.0)]


def test_without_the_registry_only_resources_of_the_kinds(loaded: Any) -> None:
    got = loaded.search_sites([ResourceKind.CLINIC, ResourceKind.TEAM_BASE], registry=False)
    assert [r["id"] for r in got.resources] == ["base-1", "clinic-1"]
    assert (got.beds, got.sites) == ((), ())
    assert loaded.search_sites([ResourceKind.HOSPITAL], registry=True).resources == ()
    with pytest.raises(ValidationError, match="kinds"):
        loaded.search_sites(["castle"], registry=True)


def test_counts_are_live_and_expired_holds_come_back_first(loaded: Any) -> None:
    def free() -> int:
        got = loaded.search_sites([ResourceKind.SHELTER], registry=True)
        return next(b["free"] for b in got.beds
                    if b["resource_id"] == "faith" and b["bed_type"] == SW)

    assert free() == 5
    hold = loaded.hold_bed("faith", SW, actor="cw", ttl_s=600)
    assert free() == 4  # read again, never kept: the hold shows at once
    past = rows.utc_now() - timedelta(hours=1)
    loaded.hold_bed("faith", SW, actor="cw", ttl_s=60, now=past)  # expired when taken
    assert free() == 4  # the expired one was returned by the read itself
    assert loaded.audit_log(limit=1, action="expire_holds")
    loaded.release_hold(hold.id, actor="cw")
    assert free() == 5
