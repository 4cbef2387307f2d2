"""The road network type: a frozen CSR drive graph with a typed per-graph memo."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")

@dataclass(frozen=True, eq=False)
class TravelGraph:
    """A directed drive network in compressed sparse row form, read-only once built.

    Node ``i``'s out-edges are ``indices[indptr[i]:indptr[i + 1]]``; the edge id is the CSR
    position. The reverse CSR (``rindptr``, ``rindices``, ``rtravel_time``) lists in-edges, with
    ``redge`` giving the forward edge id of each. Parallel edges are reduced to the one with
    the least travel time.

    Attributes
    ----------
    indptr, indices, travel_time, length
        Forward CSR; ``travel_time`` in seconds, ``length`` in metres (great-circle).
    rindptr, rindices, rtravel_time, redge
        Reverse CSR (in-edges), for many-to-one searches.
    osmid
        OSM node id of each node.
    lon, lat
        Node coordinates, degrees, EPSG:4326.
    geom_ptr, geom_lon, geom_lat
        Shape points strictly inside edge ``e`` are ``geom_*[geom_ptr[e]:geom_ptr[e + 1]]``.
    ch_pos, up_indptr, up_indices, up_weight, dn_indptr, dn_indices, dn_weight
        Contraction hierarchy for PHAST sweeps: node ``v`` sits at sweep position
        ``ch_pos[v]`` (highest rank first); ``up_*`` lists per position the edges and shortcuts
        to higher-ranked positions, ``dn_*`` those from higher-ranked positions (seconds).
    up_mid, dn_mid
        Per CH edge, the position of the node a shortcut bypasses (-1 for a road edge), for
        unpacking CH paths into road edges.
    source, source_sha256, settings_hash, crs, simplified
        Where the graph came from and how it was built.
    closed_edges
        Edge ids a road closure takes out of use on this derived graph (empty when built).
    original_node, target_node
        Turn restrictions (:mod:`navigator.roads.turns`) split restricted intersections into
        search nodes numbered after the ``n_nodes`` intersections: ``original_node`` gives the
        intersection of every search node, ``target_node`` the search node a route *to* an
        intersection ends at (identity maps on a graph without restrictions). Node ids in
        every public query and result are intersections; edge ids are CSR positions of the
        search graph, whose *turn edges* (``is_turn_edge``: 0 s, or a turn's penalty) join an
        intersection's parts.
    ghost_edge, ghost_road
        Via-way restrictions (:mod:`navigator.roads.turn_graph`): the sorted ids of the ghost
        edges, duplicates of road edges that remember the drive came from a restricted
        sequence, and the road edge each duplicates (empty without via-way restrictions).
    """

    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int32]
    travel_time: npt.NDArray[np.float64]
    length: npt.NDArray[np.float64]
    rindptr: npt.NDArray[np.int64]
    rindices: npt.NDArray[np.int32]
    rtravel_time: npt.NDArray[np.float64]
    redge: npt.NDArray[np.int64]
    osmid: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    geom_ptr: npt.NDArray[np.int64]
    geom_lon: npt.NDArray[np.float64]
    geom_lat: npt.NDArray[np.float64]
    ch_pos: npt.NDArray[np.int64]
    up_indptr: npt.NDArray[np.int64]
    up_indices: npt.NDArray[np.int32]
    up_weight: npt.NDArray[np.float64]
    dn_indptr: npt.NDArray[np.int64]
    dn_indices: npt.NDArray[np.int32]
    dn_weight: npt.NDArray[np.float64]
    up_mid: npt.NDArray[np.int32]
    dn_mid: npt.NDArray[np.int32]
    source: str = ""
    source_sha256: str = ""
    settings_hash: str = ""
    crs: str = "EPSG:4326"
    simplified: bool = True
    #: IANA time zone at the median node, found when the graph was built and kept in its
    #: cache ("" when unknown: :func:`navigator.roads.network_timezone` looks it up).
    timezone: str = ""
    #: Edge ids closed on this derived graph (:func:`navigator.roads.with_closures`); empty on
    #: a graph as built.
    closed_edges: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.empty(0, dtype=np.int64), repr=False, compare=False)
    original_node: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.empty(0, dtype=np.int64), repr=False, compare=False)
    target_node: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.empty(0, dtype=np.int64), repr=False, compare=False)
    ghost_edge: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.empty(0, dtype=np.int64), repr=False, compare=False)
    ghost_road: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.empty(0, dtype=np.int64), repr=False, compare=False)
    _memo: dict[tuple[Callable[..., Any], tuple[Hashable, ...]], Any] = field(
        default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Fill identity node maps for a graph built without turn restrictions."""
        if self.original_node.shape[0] == 0:
            object.__setattr__(self, "original_node",
                               np.arange(self.n_search_nodes, dtype=np.int64))
        if self.target_node.shape[0] == 0:
            object.__setattr__(self, "target_node", np.arange(self.n_nodes, dtype=np.int64))

    def cached(self, build: Callable[..., T], *args: Hashable) -> T:
        """Return ``build(self, *args)``, computed once per graph and arguments.

        For what is derived from the graph alone (KD-trees, the basemap, the time zone): the
        builder function and its arguments are the key, so each derived structure has one
        builder and one type. Thread-safe: racing builders compute equal values; one is kept.
        """
        key = (build, args)
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            return self._memo.setdefault(key, build(self, *args))  # type: ignore[no-any-return]

    @property
    def closures_in_effect(self) -> bool:
        """Whether some edges of this graph are closed (answers differ from the plain network)."""
        return bool(self.closed_edges.shape[0])

    @property
    def n_nodes(self) -> int:
        """Number of nodes (intersections, dead ends: the nodes of every public query)."""
        return int(self.osmid.shape[0])

    @property
    def n_search_nodes(self) -> int:
        """Number of search nodes: ``n_nodes`` plus the parts of restricted intersections."""
        return int(self.indptr.shape[0] - 1)

    @property
    def n_road_edges(self) -> int:
        """Number of directed road edges (``n_edges`` without turn and ghost edges)."""
        return int(self.is_road_edge().sum()) if self.turn_restricted else self.n_edges

    @property
    def n_restricted_nodes(self) -> int:
        """Number of intersections split by turn restrictions."""
        return int(np.unique(self.original_node[self.n_nodes:]).shape[0])

    @property
    def turn_restricted(self) -> bool:
        """Whether turn restrictions split some intersections of this graph."""
        return self.n_search_nodes != self.n_nodes

    def road_ends(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """Return the intersections at the tail and at the head of every edge (CSR order)."""
        return self.cached(_road_ends)

    def is_turn_edge(self) -> npt.NDArray[np.bool_]:
        """Return per edge whether it is a turn edge inside an intersection (no road)."""
        return self.cached(_turn_edges)

    def is_road_edge(self) -> npt.NDArray[np.bool_]:
        """Return per edge whether it is a road itself (neither a turn edge nor a ghost)."""
        return self.cached(_road_edges)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.indices.shape[0])

    def edge_sources(self) -> npt.NDArray[np.int64]:
        """Return the tail search node of every edge (CSR order)."""
        return np.repeat(np.arange(self.n_search_nodes, dtype=np.int64), np.diff(self.indptr))

    def node_of_osmid(self, osmid: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Return node indices for OSM node ids.

        Raises
        ------
        NotFoundError
            If an id is not a node of this graph.
        """
        from navigator.errors import NotFoundError

        ids = np.atleast_1d(np.asarray(osmid, dtype=np.int64))
        order = self.cached(_osmid_order)
        pos = np.searchsorted(self.osmid, ids, sorter=order)
        pos = np.minimum(pos, len(order) - 1)
        nodes = order[pos]
        bad = self.osmid[nodes] != ids
        if bad.any():
            msg = f"OSM node {int(ids[bad][0])} is not in the road network"
            raise NotFoundError(msg)
        return nodes.astype(np.int64)


def _road_ends(tg: TravelGraph) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    tails = tg.edge_sources()
    if not tg.turn_restricted:
        return tails, tg.indices
    orig = tg.original_node
    return orig[tails], orig[tg.indices].astype(np.int32)


def _turn_edges(tg: TravelGraph) -> npt.NDArray[np.bool_]:
    orig = tg.original_node
    turn: npt.NDArray[np.bool_] = orig[tg.edge_sources()] == orig[tg.indices]
    return turn


def _road_edges(tg: TravelGraph) -> npt.NDArray[np.bool_]:
    road: npt.NDArray[np.bool_] = ~tg.is_turn_edge()
    road[tg.ghost_edge] = False
    return road


def _osmid_order(tg: TravelGraph) -> npt.NDArray[np.int64]:
    return np.argsort(tg.osmid, kind="stable")


def take_rows(ptr: npt.NDArray[np.int64], values: npt.NDArray[Any],
              pick: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """Return rows ``pick`` of a ragged array (row ``i`` is ``values[ptr[i]:ptr[i + 1]]``).

    The shape points of some edges (``geom_ptr``/``geom_xy``), the out-edges of some nodes
    (a CSR): the new row offsets and the rows' values, concatenated, without a Python loop.
    """
    counts = ptr[pick + 1] - ptr[pick]
    new_ptr = np.zeros(len(pick) + 1, dtype=np.int64)
    np.cumsum(counts, out=new_ptr[1:])
    idx = np.repeat(ptr[pick] - new_ptr[:-1], counts) + np.arange(new_ptr[-1])
    return new_ptr, values[idx]
