"""Caseworker services: nearest fitting open beds and care sites, holds, serving hotlines.

Every function takes the store, the graph and the settings first and options
keyword-only, records its decision with ``store.record`` and never routes while the store
holds a lock (holds and assignments are single guarded store calls after the routing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from navigator.decide.matching import (
    HotlineMatch,
    Needs,
    Reason,
    ResourceMatch,
    SearchResult,
    alternatives,
    classify,
    eligible,
    fresh_counts,
    rank,
    serving_hotlines,
    stale_text,
)
from navigator.decide.results import ResponseTargets
from navigator.errors import NoAvailableResourceError, ValidationError
from navigator.hours import closes_at, is_open, next_open, parse_hours
from navigator.model import (
    CARE_KINDS,
    LIFELINE_988,
    BedType,
    Channel,
    ResourceKind,
    check_lonlat,
    hotline_area_known,
)
from navigator.services._on_road import snap_sites
from navigator.services.context import (
    AreaContext,
    area_context,
    checked_moment,
    holiday_calendar,
)

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.model import Hold
    from navigator.roads import EdgeSnap, TravelGraph
    from navigator.store import Store
    from navigator.store.base import SearchSites
    from navigator.store.sessions import SessionGuard

__all__ = ["confirm_hold", "find_beds", "find_services",
           "hold_bed", "hotlines_for", "release_hold"]

CONFIDENTIAL_NAME = "Confidential domestic-violence shelter"


def _needs(needs: Needs | Mapping[str, Any] | None) -> Needs:
    if needs is None:
        return Needs()
    return needs if isinstance(needs, Needs) else Needs.from_dict(needs)


def _positions(res: Sequence[Mapping[str, Any]], hide: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Return lon/lat to route to: meeting points for hidden confidential sites."""
    lon = np.array([r["lon"] for r in res], dtype=np.float64)
    lat = np.array([r["lat"] for r in res], dtype=np.float64)
    for i in np.flatnonzero(hide).tolist():
        mlon, mlat = res[i]["meeting_point_lon"], res[i]["meeting_point_lat"]
        lon[i], lat[i] = (np.nan, np.nan) if mlon is None or mlat is None else (mlon, mlat)
    return lon, lat


def _open_state(hours: str, at: datetime, ctx: AreaContext) -> tuple[bool, datetime | None,
                                                                      datetime | None]:
    try:
        oh = parse_hours(hours)
    except ValidationError:
        return False, None, None  # unparseable hours count as unknown: closed
    opened = is_open(oh, at, tz=ctx.timezone, holidays=ctx.holidays)
    if opened:
        return True, None, closes_at(oh, at, tz=ctx.timezone, holidays=ctx.holidays)
    return False, next_open(oh, at, tz=ctx.timezone, holidays=ctx.holidays), None


@dataclass
class _Registry:
    """The live counts of a bed search, one entry per resource row."""

    free: np.ndarray
    free_other: np.ndarray
    fresh: np.ndarray
    accepting: np.ndarray
    age_s: np.ndarray
    other_counts: list[dict[str, int]]
    reported: list[datetime | None]
    reporter: list[str]
    status: list[str]
    note: list[str]


def _registry(found: SearchSites, needs: Needs, at: datetime, fresh_hours: float
              ) -> _Registry:
    """Return the wanted type's free beds, other types' fresh ones and the sites' states."""
    n = len(found.resources)
    row_of = {r["id"]: i for i, r in enumerate(found.resources)}
    window_s = np.full(n, fresh_hours * 3600.0)
    status, note = ["open"] * n, [""] * n
    for site in found.sites:
        i = row_of[site["resource_id"]]
        status[i], note[i] = str(site["status"]), str(site["note"])
        if site["fresh_hours"] is not None and np.isfinite(site["fresh_hours"]):
            window_s[i] = float(site["fresh_hours"]) * 3600.0
    out = _Registry(free=np.zeros(n), free_other=np.zeros(n),
                    # A site without the wanted bed type has no count to be stale.
                    fresh=np.ones(n, dtype=bool),
                    accepting=np.array([st == "open" for st in status], dtype=bool),
                    age_s=np.full(n, np.nan), other_counts=[{} for _ in range(n)],
                    reported=[None] * n, reporter=[""] * n, status=status, note=note)
    where = np.array([row_of[b["resource_id"]] for b in found.beds], dtype=np.int64)
    ages = np.array([np.nan if b["reported_at"] is None
                     else (at - b["reported_at"]).total_seconds() for b in found.beds])
    fresh_now = fresh_counts(ages, window_s[where]) if where.size else np.zeros(0, dtype=bool)
    for b, i, age, ok_now in zip(found.beds, where.tolist(), ages.tolist(),
                                 fresh_now.tolist(), strict=True):
        if b["bed_type"] == needs.bed_type:
            out.free[i] = b["free"]
            out.fresh[i] = ok_now
            out.age_s[i] = age
            out.reported[i] = b["reported_at"]
            out.reporter[i] = str(b["reported_by"])
        elif b["bed_type"] != BedType.DV and b["free"] > 0 and ok_now:  # DV: DV intake only
            out.free_other[i] += b["free"]
            out.other_counts[i][str(b["bed_type"])] = int(b["free"])
    return out


def _search(store: Store, graph: TravelGraph, settings: Settings, *, lon: float, lat: float,
            needs: Needs, at: datetime, k: int, max_time_s: float, can_see_confidential: bool,
            kinds: tuple[ResourceKind, ...], beds: bool, prefilter_n: int, ctx: AreaContext,
            what: str, fresh_only: bool = False) -> SearchResult:
    from navigator.roads import (
        great_circle_m,
        point_travel_time_matrix,
        route_between_points,
        snap_to_edges,
    )

    check_lonlat("client", lon, lat)
    # On-road points (issue 14): the client and every site snap to the nearest edge, and the
    # ETAs include the partial edge times at both ends.
    client = snap_to_edges(graph, [lon], [lat], max_snap_m=settings.max_snap_m)
    found = store.search_sites(kinds, registry=beds)
    res = found.resources
    n = len(res)
    ok = eligible(res, needs)
    reg = _registry(found, needs, at, settings.bed_fresh_hours) if beds else None
    hide = np.array([r["confidential"] for r in res], dtype=bool) & (not can_see_confidential)
    rlon, rlat = _positions(res, hide)
    # Straight-line prefilter: the nearest eligible candidates; ranking is by road time.
    straight = great_circle_m(np.full(n, lat), np.full(n, lon), rlat, rlon)
    straight = np.where(np.isfinite(straight) & ok, straight, np.inf)
    cand = np.argsort(straight, kind="stable")[:prefilter_n]
    cand = cand[np.isfinite(straight[cand])]
    time_s = np.full(n, np.inf)
    on_road: dict[int, EdgeSnap] = {}  # resource row -> its on-road point
    if cand.size:
        places = snap_sites(graph, rlon[cand], rlat[cand], max_snap_m=settings.max_snap_m)
        found_at = np.flatnonzero(places.edge >= 0)
        on_road = {int(cand[j]): places.take(j) for j in found_at}
        if found_at.size:
            time_s[cand[found_at]] = point_travel_time_matrix(graph, client,
                                                              places.take(found_at))[0]
    in_cand = set(cand.tolist())
    states = [_open_state(res[i]["opening_hours"], at, ctx) if i in in_cand
              else (False, None, None) for i in range(n)]
    opened = np.array([s[0] for s in states], dtype=bool)
    reason = classify(time_s, eligible=ok & np.isin(np.arange(n), cand), open_now=opened,
                      free=None if reg is None else reg.free,
                      free_other=None if reg is None else reg.free_other,
                      max_time_s=max_time_s, fresh=None if reg is None else reg.fresh,
                      accepting=None if reg is None else reg.accepting)

    def match(i: int) -> ResourceMatch:
        r = res[i]
        path = route_between_points(graph, client, on_road[i])
        hidden = bool(hide[i])
        phone = r["intake_phone"] if hidden else (r["phone"] or r["intake_phone"])
        is_stale = reason[i] == Reason.STALE
        return ResourceMatch(
            resource_id=r["id"], name=CONFIDENTIAL_NAME if hidden else r["name"], kind=r["kind"],
            eta_s=float(time_s[i]), distance_m=path.length_m, lon=float(rlon[i]),
            lat=float(rlat[i]), reason=Reason(reason[i]).label, route=path,
            address="" if hidden else r["address"],
            phone=phone,
            bed_type=str(needs.bed_type) if beds and needs.bed_type else None,
            free_beds=int(reg.free[i]) if reg is not None and not is_stale else None,
            other_free_beds=reg.other_counts[i] if reg is not None else None,
            opening_hours=r["opening_hours"], open_now=bool(opened[i]), opens_at=states[i][1],
            closes_at=states[i][2], services=tuple(r["services"]), walk_in=bool(r["walk_in"]),
            languages=tuple(r["languages"]), confidential=bool(r["confidential"]),
            at_meeting_point=hidden, intake_phone=r["intake_phone"],
            synthetic=bool(r["synthetic"]),
            reported_at=reg.reported[i] if reg is not None else None,
            reported_by=reg.reporter[i] if reg is not None else "",
            fresh=None if reg is None else bool(reg.fresh[i]),
            stale_text=stale_text(float(reg.age_s[i]), phone) if reg is not None and is_stale
            else "",
            site_status=reg.status[i] if reg is not None else "",
            site_note=reg.note[i] if reg is not None else "")

    matches = tuple(match(int(i)) for i in rank(time_s, reason, k=k))
    alts = tuple(match(int(i)) for i in alternatives(time_s, reason, k=k))
    stale = () if fresh_only else tuple(
        match(int(i)) for i in alternatives(time_s, reason, k=k, reasons=(Reason.STALE,))
        if time_s[i] <= max_time_s)
    minutes = f"{max_time_s / 60:g} minutes"
    if matches:
        message = f"{len(matches)} {what} within {minutes}, nearest {matches[0].eta_s / 60:.0f} min"
    else:
        message = f"no {what} within {minutes}"
        if alts:
            message += "; alternatives: " + ", ".join(f"{a.name} ({a.reason})" for a in alts)
    if stale:
        message += (f"; {len(stale)} site{'s' if len(stale) > 1 else ''} with an unconfirmed "
                    "count listed after (not counted as free: call ahead)")
    return SearchResult(matches=matches, alternatives=alts, message=message, at=at,
                        max_time_s=max_time_s, stale=stale)


def _audit(store: Store, action: str, *, actor: str, inputs: dict[str, Any],
           result: SearchResult) -> None:
    brief = [{"resource_id": m.resource_id, "reason": m.reason,
              "eta_s": round(m.eta_s, 1) if np.isfinite(m.eta_s) else None}
             for m in (*result.matches, *result.alternatives, *result.stale)]
    store.record(action, actor=actor, inputs=inputs,
                 result={"message": result.message, "candidates": brief})


def _finish(store: Store, action: str, actor: str, inputs: dict[str, Any],
            result: SearchResult) -> SearchResult:
    _audit(store, action, actor=actor, inputs=inputs, result=result)
    if not result.matches:
        raise NoAvailableResourceError(result.message,
                                       alternatives=(*result.alternatives, *result.stale))
    return result


def find_beds(store: Store, graph: TravelGraph, settings: Settings, *, lon: float, lat: float,
              needs: Needs | Mapping[str, Any], at: datetime | None = None, k: int = 3,
              actor: str, can_see_confidential: bool = False, max_time_s: float = 1800.0,
              prefilter_n: int = 40, area: AreaContext | None = None,
              fresh_only: bool = False) -> SearchResult:
    """Return the ``k`` shelters nearest by road that are open and have a free bed of the type.

    Only fresh counts are free beds: a count older than the site's freshness window
    (``settings.bed_fresh_hours`` unless the site has its own) is never a match. Such sites
    come in ``SearchResult.stale``, nearest first, after the matches, with "last confirmed
    N days ago, call ahead" and the phone (``stale_text``); ``fresh_only`` leaves them out.
    A site whose status is full, closed or diverting is never a match either.

    Parameters
    ----------
    store, graph, settings
        Where records, roads and defaults come from.
    lon, lat
        The client's location, EPSG:4326 degrees.
    needs
        :class:`~navigator.navigate.Needs` (or its dict); ``bed_type`` (or ``family``) required.
    at
        Moment asked about (timezone-aware; default now).
    k
        Matches (and alternatives) to return.
    actor
        Who asks (audit log).
    can_see_confidential
        Whether the role may see confidential (DV) sites' location; without it those sites
        are given by intake phone and meeting point only.
    max_time_s
        Travel-time limit, seconds.
    prefilter_n
        Eligible candidates kept by straight-line distance before road routing.
    area
        Time zone, holidays and targets (default :func:`area_context`).
    fresh_only
        Leave sites with stale counts out altogether.

    Returns
    -------
    SearchResult

    Raises
    ------
    NoAvailableResourceError
        No match; the message says what was searched, ``alternatives`` holds other bed types,
        places closed now (with ``opens_at``), places beyond the limit, then stale sites.
    UnreachableError
        The client is farther than ``settings.max_snap_m`` from a road.
    """
    n = _needs(needs)
    if n.bed_type is None:
        msg = "find_beds needs a bed_type (or family=True)"
        raise ValidationError(msg)
    when = checked_moment(at)
    ctx = area or area_context(graph, settings)
    result = _search(store, graph, settings, lon=lon, lat=lat, needs=n, at=when, k=k,
                     max_time_s=max_time_s, can_see_confidential=can_see_confidential,
                     kinds=n.kinds or (ResourceKind.SHELTER,), beds=True,
                     prefilter_n=prefilter_n, ctx=ctx, what=f"open bed of type {n.bed_type}",
                     fresh_only=fresh_only)
    inputs = {"lon": lon, "lat": lat, "needs": n.to_dict(), "at": when.isoformat(), "k": k,
              "max_time_s": max_time_s, "can_see_confidential": can_see_confidential,
              "fresh_only": fresh_only}
    return _finish(store, "find_bed", actor, inputs, result)


def find_services(store: Store, graph: TravelGraph, settings: Settings, *, lon: float,
                  lat: float, needs: Needs | Mapping[str, Any], at: datetime | None = None,
                  k: int = 3, actor: str, can_see_confidential: bool = False,
                  max_time_s: float = 1800.0, prefilter_n: int = 40,
                  area: AreaContext | None = None) -> SearchResult:
    """Return the ``k`` clinics, hospitals or crisis units nearest by road that are open now.

    ``needs.service`` must be offered and ``needs.walk_in`` asks for walk-in sites;
    ``needs.kinds`` narrows the kinds (default clinics, hospitals and crisis units). Other
    parameters, the result and errors as in :func:`find_beds`.
    """
    n = _needs(needs)
    when = checked_moment(at)
    ctx = area or area_context(graph, settings)
    what = f"open {n.service or 'care'} site" + (" with walk-in" if n.walk_in else "")
    result = _search(store, graph, settings, lon=lon, lat=lat, needs=n, at=when, k=k,
                     max_time_s=max_time_s, can_see_confidential=can_see_confidential,
                     kinds=n.kinds or CARE_KINDS, beds=False, prefilter_n=prefilter_n,
                     ctx=ctx, what=what)
    inputs = {"lon": lon, "lat": lat, "needs": n.to_dict(), "at": when.isoformat(), "k": k,
              "max_time_s": max_time_s, "can_see_confidential": can_see_confidential}
    return _finish(store, "find_service", actor, inputs, result)


def hold_bed(store: Store, settings: Settings, *, resource_id: str, bed_type: BedType | str,
             actor: str, idempotency_key: str | None = None, client_ref: str = "",
             now: datetime | None = None, session: SessionGuard | None = None) -> Hold:
    """Hold one bed for ``settings.hold_ttl_s`` seconds (one guarded store transaction).

    Raises ``ConflictError`` when no bed of the type is free any more; a repeated
    ``idempotency_key`` returns the earlier hold. Nothing is routed or re-checked here.
    ``session`` (:func:`navigator.services.logins.session_guard`): the hold is made only
    while that login session is live (``SessionEndedError`` otherwise), checked by the store
    in the hold's own round trip.
    """
    try:
        bt = BedType(bed_type)
    except ValueError as e:
        msg = f"bed_type={bed_type!r} is not one of {', '.join(b.value for b in BedType)}"
        raise ValidationError(msg) from e
    return store.hold_bed(resource_id, bt, actor=actor, ttl_s=settings.hold_ttl_s,
                          idempotency_key=idempotency_key, client_ref=client_ref, now=now,
                          session=session)


def confirm_hold(store: Store, *, hold_id: str, actor: str, now: datetime | None = None) -> Hold:
    """Mark a held bed as taken by the client (``ConflictError`` if no longer held)."""
    return store.confirm_hold(hold_id, actor=actor, now=now)


def release_hold(store: Store, *, hold_id: str, actor: str, now: datetime | None = None) -> Hold:
    """Give a held bed back (``ConflictError`` if no longer held)."""
    return store.release_hold(hold_id, actor=actor, now=now)


def hotlines_for(store: Store, settings: Settings, *, lon: float, lat: float,
                 at: datetime | None = None, language: str | None = None,
                 channel: Channel | str | None = None, actor: str,
                 area: AreaContext | None = None, crisis: bool = False
                 ) -> tuple[HotlineMatch, ...]:
    """Return the hotlines serving a place now: local lines first, the 988 Lifeline last.

    Lines whose area covers the point (or nationwide lines), open at ``at``, speaking
    ``language`` and offering ``channel`` are returned. A line whose service area is unknown
    (an import found a phone but no area) never answers: it is not taken for a national one.
    The national 988 Suicide & Crisis Lifeline is always included (``fallback=True`` when it
    fails a filter or the store holds no 988 line); for a person in crisis (``crisis``) it
    comes first.
    """
    import shapely

    from navigator.roads import area_timezone

    check_lonlat("place", lon, lat)
    when = checked_moment(at)
    tz = area.timezone if area else area_timezone(lon, lat)
    calendar = area.holidays if area else holiday_calendar(settings)
    ch = Channel(channel) if channel else None
    lines = store.hotlines().reset_index(drop=True)
    national = (lines.geometry.isna() & lines["source"].map(hotline_area_known)).to_numpy(
        dtype=bool)
    point = shapely.Point(lon, lat)
    cover = np.array([g is not None and bool(g.covers(point)) for g in lines.geometry],
                     dtype=bool)
    opened = np.array([_open_state(h, when, AreaContext(tz, calendar, ResponseTargets(1.0)))[0]
                       for h in lines["opening_hours"]], dtype=bool)
    speaks = np.array([not language or language in tuple(x) for x in lines["languages"]])
    has = np.array([ch is None or ch.value in tuple(str(c) for c in x)
                    for x in lines["channels"]])
    order = serving_hotlines(covers=cover, national=national, open_now=opened, speaks=speaks,
                             has_channel=has)
    out = []
    for i in order:
        r = lines.iloc[int(i)]
        out.append(HotlineMatch(
            hotline_id=r["id"], name=r["name"], phone=r["phone"],
            channels=tuple(str(c) for c in r["channels"]), languages=tuple(r["languages"]),
            opening_hours=r["opening_hours"], national=bool(national[i]),
            text_number=r["text_number"], chat_url=r["chat_url"],
            synthetic=bool(r["synthetic"])))
    if not any(m.phone == "988" for m in out):
        line = LIFELINE_988
        out.append(HotlineMatch(
            hotline_id=line.id, name=line.name, phone=line.phone,
            channels=tuple(c.value for c in line.channels), languages=line.languages,
            opening_hours=line.opening_hours, national=True, text_number=line.text_number,
            chat_url=line.chat_url, fallback=True, synthetic=False))
    if crisis:
        out.sort(key=lambda m: m.phone != "988")  # stable: the rest keep their order
    store.record("hotlines_for", actor=actor,
                 inputs={"lon": lon, "lat": lat, "at": when.isoformat(), "language": language,
                         "channel": ch.value if ch else None, "crisis": crisis},
                 result={"hotlines": [m.hotline_id for m in out]})
    return tuple(out)
