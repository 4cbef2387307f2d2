"""Shelter-staff and audit commands: report-beds, census, find-bed --fresh-only, audit verify."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from clihelpers import cli_runner

from navigator.cli import main
from navigator.demo.city import load_demo
from navigator.services.accounts import ensure_demo_users
from navigator.store import open_store

PLACE = ["--lon", "-82.99", "--lat", "39.96"]


@pytest.fixture
def store_path(columbus_graph, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "demo.gpkg")
    store = open_store(path)
    load_demo(store, columbus_graph, seed=7, history=True)  # some counts stale
    ensure_demo_users(store)
    store.close()
    return path


@pytest.fixture
def run(store_path: str, graph_cache_dir: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    return cli_runner(store_path, graph_cache_dir, capsys)


def _staff_site(store_path: str) -> tuple[str, str]:
    store = open_store(store_path)
    try:
        site = store.user_sites("shelter")[0]
        other = next(r for r in store.resources(kinds=["shelter"])["id"] if r != site)
        return site, other
    finally:
        store.close()


def test_staff_report_their_site_and_are_refused_elsewhere(run, store_path: str) -> None:  # type: ignore[no-untyped-def]
    site, other = _staff_site(store_path)
    beds = json.loads(run("report-beds", site, "--json", "--actor", "shelter",
                          "--beds", "single_men=40/35/2", "--status", "open"))["beds"]
    men = next(b for b in beds if b["bed_type"] == "single_men")
    assert (men["capacity"], men["occupied"], men["out_of_service"]) == (40, 35, 2)
    assert men["free"] == 3 - men["held"] and men["reported_by"] == "shelter"
    assert "may not" in run("report-beds", other, "--actor", "shelter",
                            "--beds", "single_men=10/1", code=1)
    assert "occupied" in run("report-beds", site, "--actor", "shelter",
                             "--beds", "single_men=10/11", code=1)
    assert "TYPE=CAPACITY/OCCUPIED" in run("report-beds", site, "--actor", "shelter",
                                          "--beds", "single_men=ten", code=1)


def test_census_is_all_or_nothing(run, store_path: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site, _ = _staff_site(store_path)
    bad = tmp_path / "census.csv"
    bad.write_text("resource_id,bed_type,capacity,occupied\n"
                   f"{site},single_men,30,10\n{site},single_men,30,-1\n")
    assert "row 3" in run("census", str(bad), "--actor", "admin", code=1)
    good = tmp_path / "good.csv"
    good.write_text(f"resource_id,bed_type,capacity,occupied\n{site},single_men,30,10\n")
    assert "capacity 30" in run("census", str(good), "--actor", "admin")


def test_fresh_only_leaves_stale_counts_out(run) -> None:  # type: ignore[no-untyped-def]
    every = json.loads(run("find-bed", *PLACE, "--bed-type", "single_men", "--json"))
    fresh = json.loads(run("find-bed", *PLACE, "--bed-type", "single_men", "--json",
                           "--fresh-only"))
    assert every["stale"] and all("call ahead" in m["stale_text"] for m in every["stale"])
    assert fresh["stale"] == [] and all(m["fresh"] for m in every["matches"] + fresh["matches"])
    assert "not confirmed recently" in run("find-bed", *PLACE, "--bed-type", "single_men")


def test_audit_verify_names_the_first_broken_entry(store_path: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--store", store_path]) == 0
    assert "audit log intact" in capsys.readouterr().out
    con = sqlite3.connect(store_path)
    with con:  # tamper as the file's owner would, past the triggers
        row = con.execute("SELECT id FROM audit ORDER BY id LIMIT 1 OFFSET 2").fetchone()
        con.execute("DROP TRIGGER IF EXISTS audit_no_update")
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'")]
        for name in names:
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("UPDATE audit SET actor = 'someone else' WHERE id = ?", row)
    con.close()
    assert main(["audit", "verify", "--store", store_path]) == 1
    out = capsys.readouterr()
    assert f"BROKEN at entry {row[0]}" in out.out + out.err and "Traceback" not in out.err


def test_a_sites_freshness_window_is_positive_and_set_by_admins(  # type: ignore[no-untyped-def]
        run, store_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = json.loads(run("find-bed", *PLACE, "--bed-type", "single_men", "--json"))["stale"]
    site = stale[0]["resource_id"]  # last confirmed days ago
    for bad in ("0", "-3", "inf"):
        assert "fresh_hours must be a positive finite number" in run(
            "site-freshness", site, "--hours", bad, "--actor", "admin", code=1)
    assert "admins only" in run("site-freshness", site, "--hours", "200", "--actor",
                                "shelter", code=1)
    assert "--hours H" in run("site-freshness", site, "--actor", "admin", code=1)
    assert "fresh for 200 h" in run("site-freshness", site, "--hours", "200", "--actor", "admin")
    again = json.loads(run("find-bed", *PLACE, "--bed-type", "single_men", "--json", "--k", "10"))
    assert site not in {m["resource_id"] for m in again["stale"]}
    assert "the setting's" in run("site-freshness", site, "--default", "--actor", "admin")
    monkeypatch.setenv("NAVIGATOR_BED_FRESH_HOURS", "0")
    assert "NAVIGATOR_BED_FRESH_HOURS must be a positive" in run(
        "find-bed", *PLACE, "--bed-type", "single_men", code=1)


def test_hold_with_a_case_reference_opens_its_episode_once(run, store_path: str) -> None:  # type: ignore[no-untyped-def]
    site, _ = _staff_site(store_path)
    argv = ("hold", site, "single_men", "--client-ref", "CASE-CLI-1", "--key", "cli-key-0001",
            "--actor", "caseworker")
    out = run(*argv)
    episode = out.split("episode ")[1].split(":")[0]
    assert "case CASE-CLI-1 is on hold" in out
    assert json.loads(run(*argv, "--json"))["episode_id"] == episode  # a retry: the same
    store = open_store(store_path)
    try:
        found = [e for e in store.episodes() if e.client_ref == "CASE-CLI-1"]
        assert [(e.id, e.state) for e in found] == [(episode, "hold")]
    finally:
        store.close()
    assert "is hold" in run("hold", site, "single_men", "--episode", episode, "--actor",
                            "caseworker", code=1)
