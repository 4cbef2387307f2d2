"""``navigator simulate`` and ``simulate-sweep`` end to end on the Columbus demo."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from clihelpers import cli_runner, demo_store

from navigator.config import Settings
from navigator.errors import ValidationError
from navigator.services.simulation import simulate_policies, sweep_policies
from navigator.store import open_store

HEADER = "time,lon,lat,priority,type,on_scene_min\n"


@pytest.fixture(scope="module")
def store_path(columbus_graph, tmp_path_factory: pytest.TempPathFactory) -> str:  # type: ignore[no-untyped-def]
    return demo_store(columbus_graph, tmp_path_factory.mktemp("simulate-cli"))


@pytest.fixture
def run(store_path: str, graph_cache_dir: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    return cli_runner(store_path, graph_cache_dir, capsys)


def test_simulate_compares_four_policies(run) -> None:  # type: ignore[no-untyped-def]
    out = run("simulate", "--days", "7", "--calls-per-day", "50", "--target", "15")
    for policy in ("closest", "coverage", "preempt", "batch"):
        assert f"  {policy} " in out
    assert "calls, 12 teams, 7 days" in out and "unserved" in out


def test_simulate_json_and_csv(run) -> None:  # type: ignore[no-untyped-def]
    d = json.loads(run("simulate", "--days", "2", "--policies", "closest", "batch", "--json"))
    assert [p["policy"] for p in d["policies"]] == ["closest", "batch"]
    assert d["policies"][1]["mean_wait_s"] > d["policies"][0]["mean_wait_s"]  # waits for a tick
    rows = list(csv.DictReader(io.StringIO(run("simulate", "--days", "2", "--csv",
                                               "--policies", "preempt"))))
    assert rows[0]["policy"] == "preempt" and rows[0]["priority"] == "all"
    assert {r["priority"] for r in rows[1:]} <= {"1", "2", "3", "4"}


def test_fewer_teams_respond_slower(run) -> None:  # type: ignore[no-untyped-def]
    many = json.loads(run("simulate", "--days", "5", "--policies", "closest", "--json"))
    few = json.loads(run("simulate", "--days", "5", "--policies", "closest", "--teams", "2",
                         "--shifts", "all=0-24x2", "--json"))
    assert few["teams"] == 2
    assert few["policies"][0]["p90_s"] > many["policies"][0]["p90_s"]
    assert few["policies"][0]["utilisation"] > many["policies"][0]["utilisation"]


def test_imported_calls(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "calls.csv"
    f.write_text(HEADER + "2026-11-23T22:00,-82.99,39.96,1,suicide_risk,45\n"
                 "2026-11-23T21:30-05:00,-83.00,39.97,3,housing,20\n", encoding="utf-8")
    d = json.loads(run("simulate", "--incidents", str(f), "--json"))
    assert d["calls"] == 2 and all(p["served"] == 2 for p in d["policies"])


@pytest.mark.parametrize(("rows", "fragment"), [
    ("2026-11-23T22:00,-82.99,39.96,1,alien,45\n", "calls.csv line 2: type 'alien' is unknown"),
    ("2026-13-23T22:00,-82.99,39.96,1,youth,45\n", "calls.csv line 2: time '2026-13-23T22:00'"),
    ("2026-11-23T22:00,-82.99,39.96,7,youth,45\n", "line 2: priority '7'"),
    ("2026-11-23T22:00,-82.99,39.96,1,youth,45\n2026-11-23T23:00,-84.5,39.96,1,youth,5\n",
     "line 3: lon, lat (-84.5, 39.96) is more than"),
    ("2026-11-23T22:00,-82.99,north,1,youth,45\n", "line 2: lat 'north' is not a finite"),
    ("2026-11-23T22:00,-82.99,39.96,1,youth,-5\n", "line 2: on_scene_min -5"),
    ("", "no calls"),
])
def test_bad_calls_name_line_and_field(run, tmp_path: Path, rows: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "calls.csv"
    f.write_text(HEADER + rows, encoding="utf-8")
    assert fragment in run("simulate", "--incidents", str(f), code=1)


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--shifts", "day=7-19x12"], "leaves 00:00-07:00, 19:00-24:00 with no team on duty"),
    (["--shifts", "day=7-19"], "--shifts item 1 'day=7-19' must be NAME=START-ENDxTEAMS"),
    (["--shifts", "all=0-24x20"], "puts 20 teams on duty at once; the roster has 12"),
    (["--teams", "0"], "teams must be 1 to 12"),
    (["--days", "0"], "days must be a positive number"),
    (["--base", "no-such-site"], "unknown base id(s) no-such-site"),
    (["--incidents", "missing.csv"], "no such file"),
])
def test_bad_options(run, argv: list[str], fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert fragment in run("simulate", *argv, code=1)


def test_unknown_policy_is_refused_by_the_parser(run, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as e:
        run("simulate", "--policies", "nearest")
    assert e.value.code == 2
    assert "invalid choice: 'nearest'" in capsys.readouterr().err


def test_zero_teams(columbus_graph, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from navigator.errors import ValidationError

    store = open_store(str(tmp_path / "empty.gpkg"))
    with pytest.raises(ValidationError, match="zero teams"):
        simulate_policies(store, columbus_graph, Settings(), actor="t", days=1)
    store.close()


def test_sweep_through_dask_equals_sequential(store_path: str, columbus_graph) -> None:  # type: ignore[no-untyped-def]
    store = open_store(store_path)
    try:
        teams = store.teams()
        bases = sorted(set(teams["base_id"]))
        kw = {"actor": "t", "policies": ["closest", "coverage"], "team_counts": [4, 12],
              "base_sets": [bases, bases[:2]], "days": 3, "calls_per_day": 60}
        seq = sweep_policies(store, columbus_graph, Settings(), scheduler="sync", **kw)
        par = sweep_policies(store, columbus_graph, Settings(), scheduler="processes",
                             n_workers=2, **kw)
    finally:
        store.close()
    assert len(seq.cells) == 2 * 2 * 2
    assert [c["summary"] for c in seq.cells] == [c["summary"] for c in par.cells]
    by = {c["label"]: c["summary"] for c in seq.cells}
    assert by["closest, 4 teams, bases 1"]["p90_s"] > by["closest, 12 teams, bases 1"]["p90_s"]
    assert np.isfinite(by["coverage, 12 teams, bases 2"]["p50_s"])


def test_sweep_cli(run) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(run(
        "simulate-sweep", "--days", "2", "--teams", "3,6", "--policies", "closest", "--csv"))))
    assert [r["label"] for r in rows] == ["closest, 3 teams", "closest, 6 teams"]


def test_rows_leave_the_reports_intact(store_path: str, columbus_graph) -> None:  # type: ignore[no-untyped-def]
    store = open_store(store_path)
    try:
        run = simulate_policies(store, columbus_graph, Settings(), actor="t", days=1,
                                policies=["closest"])
    finally:
        store.close()
    first, again = run.rows(), run.rows()
    assert first == again and first[0]["priority"] == "all"
    assert all("priority" in b for b in run.reports[0].by_priority)
    assert sum(r["calls"] for r in first[1:]) == first[0]["calls"]


def test_busy_fractions_from_a_simulation_feed_mexclp(store_path: str, columbus_graph) -> None:  # type: ignore[no-untyped-def]
    from navigator.services.new_sites import recommend_new_sites

    store = open_store(store_path)
    try:
        run = simulate_policies(store, columbus_graph, Settings(), actor="t", days=1,
                                policies=["closest"])
        busy = run.busy_by_base()
        assert busy and set(busy) <= set(run.bases) and all(0 <= q < 1 for q in busy.values())
        with pytest.raises(ValidationError, match="was not simulated"):
            run.busy_by_base("batch")
        plan = recommend_new_sites(store, columbus_graph, Settings(), actor="t", k=2,
                                   target_s=240, model="mexclp", busy=busy, time_limit_s=60,
                                   solve_when_covered=True)
    finally:
        store.close()
    assert plan.allocation is not None and plan.allocation.optimal
    assert any(f"{len(busy)} base(s) with their own busy fraction" in n for n in plan.notes)


@pytest.fixture(scope="module")
def saved_run(store_path: str, columbus_graph, tmp_path_factory: pytest.TempPathFactory  # type: ignore[no-untyped-def]
              ) -> dict:  # type: ignore[type-arg]
    store = open_store(store_path)
    try:
        run = simulate_policies(store, columbus_graph, Settings(), actor="t", days=2, seed=11,
                                policies=["closest", "preempt"])
    finally:
        store.close()
    return json.loads(json.dumps(run.summary()))


def test_a_saved_run_carries_seed_region_and_busy_by_base(run, saved_run) -> None:  # type: ignore[no-untyped-def]
    d = json.loads(run("simulate", "--days", "1", "--seed", "5", "--policies", "coverage",
                       "--json"))
    assert d["seed"] == 5 and d["region"] == "columbus"
    assert list(d["busy_by_base"]) == ["coverage"] and d["busy_by_base"]["coverage"]
    assert saved_run["seed"] == 11 and set(saved_run["busy_by_base"]) == {"closest", "preempt"}


def test_recommend_takes_the_saved_runs_fractions(store_path: str, columbus_graph,  # type: ignore[no-untyped-def]
                                                  saved_run) -> None:
    from navigator.services.new_sites import recommend_new_sites

    kw = {"actor": "t", "k": 2, "target_s": 240, "model": "mexclp", "time_limit_s": 60,
          "solve_when_covered": True}
    closest = saved_run["busy_by_base"]["closest"]
    store = open_store(store_path)
    try:
        by_hand = recommend_new_sites(store, columbus_graph, Settings(), busy=closest, **kw)
        from_run = recommend_new_sites(store, columbus_graph, Settings(), busy_from=saved_run,
                                       **kw)
        logged = store.audit_log(limit=1, action="coverage_recommend")[0].inputs
        first = next(iter(closest))
        given = recommend_new_sites(store, columbus_graph, Settings(), busy_from=saved_run,
                                    busy={first: 0.0}, busy_policy="preempt", **kw)
    finally:
        store.close()
    a, b = by_hand.allocation, from_run.allocation
    assert a is not None and b is not None
    assert b.objective == pytest.approx(a.objective) and list(b.sites) == list(a.sites)
    note = next(n for n in from_run.notes if n.startswith("busy fractions from the simulator"))
    assert "policy closest, seed 11, 2 days" in note
    assert all(f"{base} {q:.1%}" in note for base, q in closest.items())
    assert any("the setting, busy 30.0%" in n and "not measured" in n for n in from_run.notes)
    assert any(f"{len(closest)} base(s) with their own busy fraction" in n
               for n in from_run.notes)
    assert logged["busy_from"]["policy"] == "closest" and logged["busy_from"]["seed"] == 11
    assert logged["busy"] == closest
    assert any("policy preempt" in n for n in given.notes)
    assert any(f"busy fractions given: {first} 0.0% (over the simulator's)" in n
               for n in given.notes)
    assert not any(f"{first} " in n for n in given.notes if "from the simulator" in n)


def _saved(tmp_path: Path, saved: dict, **change: object) -> str:  # type: ignore[type-arg]
    f = tmp_path / "run.json"
    f.write_text(json.dumps({**saved, **change}), encoding="utf-8")
    return str(f)


def test_recommend_sites_cli_busy_from(run, saved_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ask = ("recommend-sites", "--model", "mexclp", "--target", "4", "--k", "2",
           "--candidates", "team_bases")
    out = run(*ask, "--busy-from", _saved(tmp_path, saved_run))
    assert "busy fractions from the simulator run: policy closest, seed 11, 2 days" in out
    assert "the setting, busy 30.0% (NAVIGATOR_TEAM_BUSY_FRACTION, a guess" in out
    d = json.loads(run(*ask, "--busy-from", _saved(tmp_path, saved_run), "--busy-policy",
                       "preempt", "--json"))
    assert any("policy preempt, seed 11" in n for n in d["notes"])


def test_recommend_sites_cli_bad_saved_runs(run, saved_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ask = ("recommend-sites", "--model", "mexclp", "--target", "4", "--busy-from")
    base = next(iter(saved_run["busy_by_base"]["closest"]))
    for change, fragment in [
        ({"region": "imperial"}, "is of region 'imperial', this store's is 'columbus'"),
        ({"busy_by_base": {"closest": {base: 1.0}}}, f"base {base!r} must be in [0, 1), got 1.0"),
        ({"busy_by_base": {"closest": {base: -0.2}}}, "must be in [0, 1), got -0.2"),
        ({"busy_by_base": {"closest": {"other-store-base": 0.2}}},
         "other-store-base are not in this store (a run saved from another store?)"),
        ({"busy_by_base": {"closest": {}}}, "no base was on duty"),
        ({"busy_by_base": None}, "not a saved `navigator simulate --json` result"),
    ]:
        assert fragment in run(*ask, _saved(tmp_path, saved_run, **change), code=1), change
    assert "policy 'batch' was not simulated in the saved run (simulated: closest, preempt)" in \
        run(*ask, _saved(tmp_path, saved_run), "--busy-policy", "batch", code=1)
    assert "none of the saved simulation's bases" in run(
        *ask, _saved(tmp_path, saved_run), "--kind", "shelters", code=1)
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert "not JSON" in run(*ask, str(tmp_path / "bad.json"), code=1)
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    assert "not a saved" in run(*ask, str(tmp_path / "list.json"), code=1)
    assert "cannot read it" in run(*ask, str(tmp_path / "missing.json"), code=1)
