"""Scale-out for planners: many coverage scenarios and large travel-time matrices through Dask.

Public API
----------
- :func:`resolve_scheduler` - what runs a batch: ``"sync"``, ``"processes"`` or an address.
- :func:`dask_client` - a ``dask.distributed`` client for that choice (closed on exit).
- :func:`run_batch` - any module-level function over many jobs, shared data shipped once.
- :func:`batch_surfaces` - one coverage surface per facility set.
- :func:`batch_hex_surfaces` - one H3 travel-time map per facility set (region-wide).
- :func:`batch_travel_time_matrix` - a large matrix in row blocks.
- :func:`batch_allocations` - location-allocation sweeps (k, targets, closures) on one matrix.
- :func:`closure_impacts` - people losing coverage if each facility alone closed.

The search kernels are numba code that holds the GIL, so local batches run in worker
*processes* (``LocalCluster(processes=True)``), never threads. The graph is scattered to every
worker once per client (``Client.scatter(..., broadcast=True)``, kept for later batches while
the graph lives) and tasks receive a reference to it, not a copy. Results are identical to the
single-process path (``scheduler="sync"``).

A Dask task costs ~20-30 ms of scheduling on a 2-core machine while a metro-wide surface takes
~2-5 ms, so batches pay off for heavy jobs (location-allocation sweeps, scenario reports,
large matrices), not for bare surfaces. On the 2-vCPU development VM two busy workers each run
~1.6x slower than one process alone (a coverage report: 0.18 s in-process, ~0.30 s each with
two workers busy), which caps the local speedup near 1.2-1.3x; more cores or a remote cluster
(``NAVIGATOR_DASK_SCHEDULER``) is where batches scale.
"""

from __future__ import annotations

import dataclasses
import os
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from distributed import Client, Future

    from navigator.decide.allocation import Allocation
    from navigator.decide.coverage import CoverageSurface, Direction
    from navigator.roads import TravelGraph

__all__ = ["ENV_SCHEDULER", "batch_allocations", "batch_hex_surfaces", "batch_surfaces",
           "batch_travel_time_matrix", "closure_impacts", "dask_client", "resolve_scheduler",
           "run_batch"]

#: Environment variable naming a ``dask.distributed`` scheduler address (``tcp://host:8786``).
ENV_SCHEDULER = "NAVIGATOR_DASK_SCHEDULER"


def resolve_scheduler(scheduler: str | Client | None = None) -> str | Client:
    """Return the scheduler a batch uses.

    Parameters
    ----------
    scheduler
        A ``distributed.Client`` (used as is), ``"sync"`` (this process, no Dask),
        ``"processes"`` (a local process cluster) or a scheduler address such as
        ``"tcp://10.0.0.5:8786"``. None: the ``NAVIGATOR_DASK_SCHEDULER`` environment variable,
        else ``"processes"``.

    Raises
    ------
    ValidationError
        For an empty or unknown scheduler string.
    """
    if scheduler is None:
        scheduler = os.environ.get(ENV_SCHEDULER) or "processes"
    if not isinstance(scheduler, str):
        return scheduler
    s = scheduler.strip()
    if s in ("sync", "synchronous", "processes"):
        return "sync" if s.startswith("sync") else s
    if "://" in s:
        return s
    msg = (f"scheduler must be 'sync', 'processes' or an address like 'tcp://host:8786', "
           f"got {scheduler!r}")
    raise ValidationError(msg)


@contextmanager
def dask_client(scheduler: str | Client | None = None, *, n_workers: int | None = None
                ) -> Iterator[Client]:
    """Yield a ``dask.distributed`` client for ``scheduler``; close what this call opened.

    ``"processes"`` starts a loopback ``LocalCluster(processes=True)`` with one thread per
    worker (``n_workers`` defaults to the CPU count) and tears it down on exit; an address
    connects to that scheduler; a ``Client`` is yielded unchanged and left open.

    Raises
    ------
    ValidationError
        For ``"sync"`` (no cluster to open) or an unknown scheduler.
    """
    from distributed import Client, LocalCluster

    chosen = resolve_scheduler(scheduler)
    if isinstance(chosen, Client):
        yield chosen
        return
    if chosen == "sync":
        msg = "scheduler 'sync' runs in this process: no Dask client to open"
        raise ValidationError(msg)
    if chosen == "processes":
        workers = n_workers or max(1, os.cpu_count() or 1)
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, \
                Client(cluster) as client:
            yield client
        return
    with Client(chosen) as client:
        yield client


def _surface_task(tg: TravelGraph, nodes: npt.NDArray[np.int64], ids: tuple[str, ...] | None,
                  direction: Direction, cutoff_s: float | None, label: str) -> CoverageSurface:
    from navigator.decide.coverage import coverage_surface

    return coverage_surface(tg, nodes, facility_ids=ids, direction=direction, cutoff_s=cutoff_s,
                            label=label)


def _hex_task(tg: TravelGraph, nodes: npt.NDArray[np.int64], ids: tuple[str, ...] | None,
              direction: Direction, cutoff_s: float | None, label: str, resolution: int
              ) -> gpd.GeoDataFrame:
    from navigator.decide.coverage import hex_surface

    surface = _surface_task(tg, nodes, ids, direction, cutoff_s, label)
    return hex_surface(tg, surface, resolution=resolution).assign(scenario=label)


def _closure_task(tg: TravelGraph, nodes: npt.NDArray[np.int64], drop: int,
                  unit_nodes: npt.NDArray[np.int64], people: npt.NDArray[np.float64],
                  targets: npt.NDArray[np.float64], direction: Direction
                  ) -> npt.NDArray[np.float64]:
    from navigator.decide.coverage import coverage_surface

    keep = np.delete(nodes, drop) if drop >= 0 else nodes
    t = coverage_surface(tg, keep, direction=direction).time_s
    tu = np.where(unit_nodes >= 0, t[np.maximum(unit_nodes, 0)], np.inf)
    return ((tu[None, :] <= targets[:, None]) * people).sum(axis=1)


def closure_impacts(tg: TravelGraph, facility_nodes: npt.ArrayLike, unit_nodes: npt.ArrayLike,
                    people: npt.ArrayLike, *, targets_s: npt.ArrayLike,
                    facility_ids: Sequence[str] | None = None, direction: Direction = "from",
                    scheduler: str | Client | None = None, n_workers: int | None = None
                    ) -> pd.DataFrame:
    """Rank facilities by the people who would lose coverage if each alone closed.

    One scenario per facility (all others open), run as a batch; each task returns only
    people counts.

    Parameters
    ----------
    tg
        Road network.
    facility_nodes
        Node index per facility (at least two).
    unit_nodes, people
        Node per population unit (-1: off the network) and people per unit.
    targets_s
        Target times, seconds.
    facility_ids
        Names for the rows (default: positions).
    direction, scheduler, n_workers
        See :func:`batch_surfaces`.

    Returns
    -------
    pandas.DataFrame
        One row per facility, most people lost first (at the smallest target, then the
        next): ``facility_id`` and, per target of ``m`` minutes, ``lost_{m}min``.
    """
    import pandas as pd

    from navigator.decide.coverage import check_targets

    targets = check_targets(targets_s)
    nodes = np.atleast_1d(np.asarray(facility_nodes, dtype=np.int64))
    if nodes.size < 2:
        msg = "closure impacts need at least two facilities"
        raise ValidationError(msg)
    ids = [str(i) for i in range(nodes.size)] if facility_ids is None else list(facility_ids)
    if len(ids) != nodes.size:
        msg = f"{len(ids)} facility ids for {nodes.size} facilities"
        raise ValidationError(msg)
    un = np.asarray(unit_nodes, dtype=np.int64)
    w = np.asarray(people, dtype=np.float64)
    jobs = [(nodes, i, un, w, targets, direction) for i in range(-1, nodes.size)]
    base, *closed = run_batch(tg, _closure_task, jobs, scheduler=scheduler, n_workers=n_workers)
    lost = base[None, :] - np.vstack(closed)
    cols = {f"lost_{t / 60:g}min": lost[:, j] for j, t in enumerate(targets)}
    df = pd.DataFrame({"facility_id": ids, **cols})
    return df.sort_values(list(cols), ascending=False, kind="stable").reset_index(drop=True)


def _matrix_task(tg: TravelGraph, origins: npt.NDArray[np.int64],
                 destinations: npt.NDArray[np.int64], cutoff_s: float | None
                 ) -> npt.NDArray[np.float64]:
    from navigator.roads import travel_time_matrix

    return travel_time_matrix(tg, origins, destinations, cutoff_s=cutoff_s)


#: Graphs already on a cluster: graph -> {client id: future}. Entries go with the graph.
_SHIPPED: weakref.WeakKeyDictionary[TravelGraph, dict[str, Future]] = weakref.WeakKeyDictionary()


def _shipped(client: Client, tg: TravelGraph) -> Future:
    """Return the graph on every worker, scattering it on the first batch of this client."""
    per_client = _SHIPPED.setdefault(tg, {})
    future = per_client.get(client.id)
    if future is None or future.status != "finished":
        # The derived caches (KD-trees, H3 cells) are rebuilt on the workers, not shipped.
        # hash=False: a fresh key, so releasing an older copy cannot race with new tasks.
        future = client.scatter(dataclasses.replace(tg, _memo={}), broadcast=True, hash=False)
        per_client[client.id] = future
    return future


def run_batch(shared: Any, func: Any, jobs: Sequence[tuple[Any, ...]], *,
              scheduler: str | Client | None = None, n_workers: int | None = None,
              priorities: Sequence[int] | None = None) -> list[Any]:
    """Return ``[func(shared, *job) for job in jobs]``, computed on the chosen scheduler.

    ``shared`` (a graph, a matrix) goes to each worker once, not with every task; a
    :class:`~navigator.network.TravelGraph` stays there for later batches of the same client.
    ``func`` must be importable by the workers (a module-level function). ``priorities``:
    higher starts first (give the longest jobs the highest, so no long job starts last).
    """
    from navigator.roads import TravelGraph

    chosen = resolve_scheduler(scheduler)
    if chosen == "sync":
        return [func(shared, *job) for job in jobs]
    with dask_client(chosen, n_workers=n_workers) as client:
        if isinstance(shared, TravelGraph):
            data = _shipped(client, shared)  # once per worker and client, not per task
        else:
            data = client.scatter(shared, broadcast=True, hash=False)  # once per batch
        prio = list(priorities) if priorities is not None else [0] * len(jobs)
        futures = [client.submit(func, data, *job, pure=False, priority=p)
                   for job, p in zip(jobs, prio, strict=True)]
        return list(client.gather(futures))


def _allocation_task(cost_s: npt.NDArray[np.float64], people: npt.NDArray[np.float64] | None,
                     model: str, options: dict[str, Any]) -> Allocation:
    from navigator.decide import allocation

    if model == "mclp":
        return allocation.max_coverage(cost_s, people, **options)
    if model == "lscp":
        return allocation.min_sites(cost_s, people, **options)
    return allocation.p_median(cost_s, people, **options)


def batch_allocations(cost_s: npt.ArrayLike, people: npt.ArrayLike | None,
                      scenarios: Sequence[Mapping[str, Any]], *,
                      scheduler: str | Client | None = None, n_workers: int | None = None
                      ) -> list[Allocation]:
    """Solve many location-allocation scenarios on one cost matrix, in order.

    Sweeps are where a cluster pays off: each MILP runs single-threaded in HiGHS for tenths of
    a second to seconds, so two worker processes solve two at once. The matrix is scattered
    once per batch.

    Parameters
    ----------
    cost_s, people
        As in :mod:`navigator.allocation` (seconds, ``(n_sites, n_demand)``; people per unit).
    scenarios
        One mapping per scenario: ``model`` (``"mclp"``, ``"lscp"`` or ``"p_median"``) and the
        model's keyword options, e.g. ``{"model": "mclp", "k": 3, "target_s": 300,
        "forced": [4, 9]}``.
    scheduler, n_workers
        See :func:`batch_surfaces`.

    Raises
    ------
    ValidationError
        For an unknown model (before anything runs); a model's own errors come back as is.
    """
    jobs, budgets = [], []
    for i, sc in enumerate(scenarios):
        opts = dict(sc)
        model = opts.pop("model", None)
        if model not in ("mclp", "lscp", "p_median"):
            msg = f"scenario {i}: model must be 'mclp', 'lscp' or 'p_median', got {model!r}"
            raise ValidationError(msg)
        jobs.append((None if people is None else np.asarray(people, dtype=np.float64), model,
                     opts))
        budgets.append(int(opts.get("k", opts.get("p", 0))))
    # Bigger budgets tend to be the longest solves: start them first (measured on an MCLP
    # sweep k = 1..10, where k = 10 alone took 3.1 of 4.9 s).
    return run_batch(np.asarray(cost_s, dtype=np.float64), _allocation_task, jobs,
                     scheduler=scheduler, n_workers=n_workers, priorities=budgets)


def batch_surfaces(tg: TravelGraph, facility_sets: Sequence[npt.ArrayLike], *,
                   labels: Sequence[str] | None = None,
                   facility_ids: Sequence[tuple[str, ...] | None] | None = None,
                   direction: Direction = "from", cutoff_s: float | None = None,
                   scheduler: str | Client | None = None, n_workers: int | None = None
                   ) -> list[CoverageSurface]:
    """Return one coverage surface per facility set (scenario), in order.

    Parameters
    ----------
    tg
        Road network (scattered to the workers once).
    facility_sets
        Node indices of the facilities of each scenario.
    labels, facility_ids
        Per scenario (optional).
    direction, cutoff_s
        As in :func:`navigator.coverage.coverage_surface`.
    scheduler
        See :func:`resolve_scheduler`; ``"sync"`` is the single-process path.
    n_workers
        Workers of a local process cluster.

    Raises
    ------
    ValidationError
        If a facility set is empty or the per-scenario lists differ in length.
    """
    n = len(facility_sets)
    labels = list(labels) if labels is not None else [f"scenario {i + 1}" for i in range(n)]
    jobs = _surface_jobs(facility_sets, labels, facility_ids, direction, cutoff_s)
    return run_batch(tg, _surface_task, jobs, scheduler=scheduler, n_workers=n_workers)


def _surface_jobs(facility_sets: Sequence[npt.ArrayLike], labels: list[str],
                  facility_ids: Sequence[tuple[str, ...] | None] | None, direction: Direction,
                  cutoff_s: float | None) -> list[tuple[Any, ...]]:
    n = len(facility_sets)
    ids = list(facility_ids) if facility_ids is not None else [None] * n
    if len(labels) != n or len(ids) != n:
        msg = f"{n} facility sets but {len(labels)} labels and {len(ids)} id lists"
        raise ValidationError(msg)
    jobs = []
    for fs, lab, fid in zip(facility_sets, labels, ids, strict=True):
        nodes = np.atleast_1d(np.asarray(fs, dtype=np.int64))
        if nodes.size == 0:
            msg = f"scenario {lab!r} has no facility"
            raise ValidationError(msg)
        jobs.append((nodes, fid, direction, cutoff_s, lab))
    return jobs


def batch_hex_surfaces(tg: TravelGraph, facility_sets: Sequence[npt.ArrayLike], *,
                       resolution: int = 8, labels: Sequence[str] | None = None,
                       direction: Direction = "from", cutoff_s: float | None = None,
                       scheduler: str | Client | None = None, n_workers: int | None = None
                       ) -> list[gpd.GeoDataFrame]:
    """Return the H3 travel-time surface of each scenario (region-wide maps), in order.

    Each worker computes the surface and aggregates it (:func:`navigator.coverage.hex_surface`,
    EPSG:4326 hexagons, seconds) and sends back only the cells, with a ``scenario`` column.
    Parameters are those of :func:`batch_surfaces`; ``resolution`` is the H3 resolution.
    """
    labels = list(labels) if labels is not None else [
        f"scenario {i + 1}" for i in range(len(facility_sets))]
    jobs = [(*job, resolution) for job in _surface_jobs(facility_sets, labels, None, direction,
                                                         cutoff_s)]
    return run_batch(tg, _hex_task, jobs, scheduler=scheduler, n_workers=n_workers)


def batch_travel_time_matrix(tg: TravelGraph, origins: npt.ArrayLike,
                             destinations: npt.ArrayLike, *, block_rows: int = 256,
                             cutoff_s: float | None = None,
                             scheduler: str | Client | None = None,
                             n_workers: int | None = None) -> npt.NDArray[np.float64]:
    """Return the ``(origins, destinations)`` travel-time matrix, seconds, in row blocks.

    Equal to :func:`navigator.routing.travel_time_matrix` (``inf`` = unreachable).

    Parameters
    ----------
    tg, origins, destinations, cutoff_s
        As in :func:`navigator.routing.travel_time_matrix`.
    block_rows
        Origins per task.
    scheduler, n_workers
        See :func:`batch_surfaces`.
    """
    if block_rows < 1:
        msg = f"block_rows must be at least 1, got {block_rows}"
        raise ValidationError(msg)
    o = np.atleast_1d(np.asarray(origins, dtype=np.int64))
    d = np.atleast_1d(np.asarray(destinations, dtype=np.int64))
    if o.size == 0 or d.size == 0:
        return np.zeros((o.size, d.size))
    jobs = [(o[i:i + block_rows], d, cutoff_s) for i in range(0, o.size, block_rows)]
    return np.vstack(run_batch(tg, _matrix_task, jobs, scheduler=scheduler, n_workers=n_workers))
