"""Dask batches: same results as the single-process path on a loopback process cluster."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from navigator.decide.parallel import (
    ENV_SCHEDULER,
    batch_allocations,
    batch_hex_surfaces,
    batch_surfaces,
    batch_travel_time_matrix,
    closure_impacts,
    dask_client,
    resolve_scheduler,
)
from navigator.errors import ValidationError
from navigator.roads import travel_time_matrix

pytestmark = pytest.mark.slow  # a process cluster takes a few seconds to start


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as c:
        yield c


SETS = [np.array([10, 4000]), np.array([9000]), np.array([1, 2, 3, 500, 7000])]


def test_surfaces_equal_single_process(columbus_graph, client):
    one = batch_surfaces(columbus_graph, SETS, scheduler="sync", direction="to")
    many = batch_surfaces(columbus_graph, SETS, scheduler=client, direction="to",
                          labels=["a", "b", "c"])
    assert [s.label for s in many] == ["a", "b", "c"]
    for x, y in zip(one, many, strict=True):
        np.testing.assert_array_equal(x.time_s, y.time_s)
        np.testing.assert_array_equal(x.facility, y.facility)
        assert y.direction == "to"


def test_graph_is_scattered_once_per_worker(columbus_graph, client, monkeypatch):
    from distributed import Future

    scatters: list[dict[str, object]] = []
    graph_args: list[object] = []
    real_scatter, real_submit = client.scatter, client.submit

    def scatter(data, **kw):
        scatters.append(kw)
        return real_scatter(data, **kw)

    def submit(func, graph, *args, **kw):
        graph_args.append(graph)
        return real_submit(func, graph, *args, **kw)

    monkeypatch.setattr(client, "scatter", scatter)
    monkeypatch.setattr(client, "submit", submit)
    graph = dataclasses.replace(columbus_graph)  # a graph this client has not seen yet
    batch_surfaces(graph, SETS * 3, scheduler=client)
    batch_surfaces(graph, SETS, scheduler=client)  # a second batch reuses the copy
    assert scatters == [{"broadcast": True, "hash": False}]
    assert len(graph_args) == 12 and all(isinstance(g, Future) for g in graph_args)
    assert len({g.key for g in graph_args}) == 1  # one graph, referenced by every task


def test_hex_surfaces_equal_single_process(columbus_graph, client):
    one = batch_hex_surfaces(columbus_graph, SETS, resolution=8, scheduler="sync")
    many = batch_hex_surfaces(columbus_graph, SETS, resolution=8, scheduler=client)
    for x, y in zip(one, many, strict=True):
        pd.testing.assert_frame_equal(x.drop(columns="geometry"), y.drop(columns="geometry"))
        bad = ~x.geometry.geom_equals(y.geometry).to_numpy()
        assert not bad.any(), (x[bad].head(2).to_dict(), y[bad].head(2).to_dict())
    assert many[0]["scenario"].iloc[0] == "scenario 1"
    # results are released after gathering (asynchronously): workers keep only the graphs
    for _ in range(50):
        held = [str(k) for keys in client.has_what().values() for k in keys]
        if held and all(k.startswith("TravelGraph") for k in held):
            break
        time.sleep(0.1)
    assert held and all(k.startswith("TravelGraph") for k in held), held


def test_matrix_equals_single_process(columbus_graph, client):
    rng = np.random.default_rng(6)
    o = rng.choice(columbus_graph.n_nodes, 37, replace=False)
    d = rng.choice(columbus_graph.n_nodes, 50, replace=False)
    ref = travel_time_matrix(columbus_graph, o, d, cutoff_s=900)
    got = batch_travel_time_matrix(columbus_graph, o, d, block_rows=8, cutoff_s=900,
                                   scheduler=client)
    np.testing.assert_array_equal(got, ref)
    assert batch_travel_time_matrix(columbus_graph, [], d, scheduler="sync").shape == (0, 50)


def test_allocation_sweep_equals_single_process(client):
    rng = np.random.default_rng(3)
    c = np.where(rng.random((30, 40)) < 0.3, rng.uniform(60, 900, (30, 40)), np.inf)
    w = rng.integers(0, 500, 40).astype(float)
    scen = [{"model": "mclp", "k": k, "target_s": 400.0} for k in (1, 2, 3)] + [
        {"model": "lscp", "target_s": 400.0, "forced": [0]},
        {"model": "p_median", "p": 2, "cutoff_s": 600.0}]
    one = batch_allocations(c, w, scen, scheduler="sync")
    many = batch_allocations(c, w, scen, scheduler=client)
    for x, y in zip(one, many, strict=True):
        assert (x.model, x.objective, x.sites.tolist()) == (y.model, y.objective,
                                                            y.sites.tolist())
    assert [a.model for a in many] == ["mclp"] * 3 + ["lscp", "p_median"]
    assert many[0].objective <= many[1].objective <= many[2].objective
    with pytest.raises(ValidationError, match="model"):
        batch_allocations(c, w, [{"k": 1}], scheduler="sync")


def test_closure_impacts_match_single_scenarios(columbus_graph, client):
    from navigator.decide.coverage import compare_scenarios, coverage_surface

    rng = np.random.default_rng(5)
    fac = rng.choice(columbus_graph.n_nodes, 6, replace=False)
    units = rng.choice(columbus_graph.n_nodes, 80, replace=False)
    people = rng.integers(100, 2000, 80).astype(float)
    got = closure_impacts(columbus_graph, fac, units, people, targets_s=[120, 300],
                          facility_ids=list("abcdef"), scheduler=client)
    ref = closure_impacts(columbus_graph, fac, units, people, targets_s=[120, 300],
                          facility_ids=list("abcdef"), scheduler="sync")
    pd.testing.assert_frame_equal(got, ref)
    assert list(got.columns) == ["facility_id", "lost_2min", "lost_5min"]
    assert got["lost_2min"].is_monotonic_decreasing
    top = "abcdef".index(got["facility_id"].iloc[0])
    full = coverage_surface(columbus_graph, fac)
    cmp = compare_scenarios(full, coverage_surface(columbus_graph, np.delete(fac, top)),
                            unit_nodes=units, people=people, targets_s=[120, 300])
    np.testing.assert_allclose(got.iloc[0, 1:].to_numpy(float), cmp.people_newly_uncovered)
    with pytest.raises(ValidationError, match="two"):
        closure_impacts(columbus_graph, fac[:1], units, people, targets_s=[60], scheduler="sync")


def test_coverage_reports_equal_single_process(columbus_graph, client):
    import geopandas as gpd

    from navigator.config import DATA_DIR
    from navigator.decide.coverage import coverage_surface
    from navigator.services import planner as cs
    from navigator.services import reports

    demand = reports.demand_units(columbus_graph, DATA_DIR / "population" /
                                  "franklin_bg2010_population.gpkg")
    runs = [cs.FacilityRun(coverage_surface(columbus_graph, s, label=f"s{i}"),
                           gpd.GeoDataFrame(geometry=[], crs=4326), ()) for i, s in
            enumerate(SETS)]
    one = reports.coverage_reports(columbus_graph, runs, demand, targets_s=[300, 600],
                                   scheduler="sync")
    many = reports.coverage_reports(columbus_graph, runs, demand, targets_s=[300, 600],
                                    scheduler=client)
    for x, y in zip(one, many, strict=True):
        assert x.label == y.label
        np.testing.assert_array_equal(x.coverage.people_covered, y.coverage.people_covered)
        pd.testing.assert_frame_equal(x.gaps.drop(columns="geometry"),
                                      y.gaps.drop(columns="geometry"))
        np.testing.assert_allclose(x.hexes["population"], y.hexes["population"])


def test_address_from_environment(columbus_graph, client, monkeypatch):
    monkeypatch.setenv(ENV_SCHEDULER, client.scheduler.address)
    assert resolve_scheduler() == client.scheduler.address
    got = batch_surfaces(columbus_graph, SETS[:2])  # connects to that scheduler, then disconnects
    one = batch_surfaces(columbus_graph, SETS[1:2], scheduler="sync")[0]
    np.testing.assert_array_equal(got[1].time_s, one.time_s)


def test_local_process_cluster_default(columbus_graph, monkeypatch):
    monkeypatch.delenv(ENV_SCHEDULER, raising=False)
    assert resolve_scheduler() == "processes"
    with dask_client(n_workers=1) as c:
        assert len(c.scheduler_info()["workers"]) == 1
        got = batch_surfaces(columbus_graph, SETS[:1], scheduler=c)
    one = batch_surfaces(columbus_graph, SETS[:1], scheduler="sync")[0]
    np.testing.assert_array_equal(got[0].time_s, one.time_s)


def test_bad_inputs(columbus_graph):
    with pytest.raises(ValidationError, match="scheduler"):
        resolve_scheduler("threads")
    with pytest.raises(ValidationError, match="no facility"):
        batch_surfaces(columbus_graph, [np.array([], dtype=np.int64)], scheduler="sync")
    with pytest.raises(ValidationError, match="labels"):
        batch_surfaces(columbus_graph, SETS, labels=["a"], scheduler="sync")
    with pytest.raises(ValidationError, match="block_rows"):
        batch_travel_time_matrix(columbus_graph, [1], [2], block_rows=0, scheduler="sync")
    with pytest.raises(ValidationError, match="sync"), dask_client("sync"):
        pass
