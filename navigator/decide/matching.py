"""Caseworker decisions: nearest fitting open resource with a free bed, and serving hotlines.

The decisions are pure functions on arrays (one entry per candidate resource or hotline):
:func:`classify` gives each candidate a :class:`Reason`, :func:`rank` and
:func:`alternatives` order them by road travel time. :func:`eligible` is the one adapter from
resource rows (the store's resource columns) to a mask. :mod:`navigator.services`
builds the arrays from the store and the road network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError
from navigator.jsonsafe import json_safe
from navigator.model import GENDERS, BedType, ResourceKind

if TYPE_CHECKING:
    from navigator.roads import Route

__all__ = ["HotlineMatch", "Needs", "Reason", "ResourceMatch", "SearchResult",
           "alternatives", "classify", "eligible", "fresh_counts", "rank", "serving_hotlines",
           "stale_text"]


class Reason(IntEnum):
    """Why a candidate is (not) a match; the first failing test, in this order of checks."""

    MATCH = 0
    UNREACHABLE = 1
    NOT_ELIGIBLE = 2
    FULL = 3
    OTHER_BED_TYPE = 4
    CLOSED = 5
    BEYOND_LIMIT = 6
    #: The bed count is older than the site's freshness window: "empty is not available".
    STALE = 7
    #: The site says it is full, closed or diverting (its status, whatever its counts).
    NOT_ACCEPTING = 8

    @property
    def label(self) -> str:
        """Return the lower-case name used in messages and JSON."""
        return self.name.lower()


@dataclass(frozen=True)
class Needs:
    """What a client needs; None/False fields do not restrict the search.

    Attributes
    ----------
    bed_type
        Bed type wanted (shelter searches); ``family=True`` implies ``families``.
    gender
        One of :data:`navigator.model.GENDERS`.
    age
        Years.
    family
        Household with children.
    language
        ISO 639-1 code the place must speak (hard filter).
    wheelchair, pets
        Place must be wheelchair accessible / accept pets.
    service
        Service the place must offer (e.g. ``"psychiatric"``, ``"detox"``).
    walk_in
        Place must see people without an appointment.
    kinds
        Resource kinds to search (empty: shelters for beds, care sites for services).
    """

    bed_type: BedType | None = None
    gender: str | None = None
    age: int | None = None
    family: bool = False
    language: str | None = None
    wheelchair: bool = False
    pets: bool = False
    service: str | None = None
    walk_in: bool = False
    kinds: tuple[ResourceKind, ...] = ()

    def __post_init__(self) -> None:
        if self.bed_type is not None:
            try:
                object.__setattr__(self, "bed_type", BedType(self.bed_type))
            except ValueError as e:
                msg = f"needs: bed_type={self.bed_type!r} is not one of " + \
                      ", ".join(b.value for b in BedType)
                raise ValidationError(msg) from e
        elif self.family:
            object.__setattr__(self, "bed_type", BedType.FAMILIES)
        if self.gender is not None and self.gender not in GENDERS:
            msg = f"needs: gender={self.gender!r} is not one of {', '.join(GENDERS)}"
            raise ValidationError(msg)
        if self.age is not None and (isinstance(self.age, bool) or not isinstance(self.age, int)
                                     or not 0 <= self.age <= 130):
            msg = f"needs: age={self.age!r} must be an integer in 0..130"
            raise ValidationError(msg)
        try:
            object.__setattr__(self, "kinds", tuple(ResourceKind(k) for k in self.kinds))
        except ValueError as e:
            msg = f"needs: kinds={self.kinds!r} holds an unknown kind"
            raise ValidationError(msg) from e

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Needs:
        """Build from a dict such as :meth:`to_dict` output (unknown keys are an error)."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            msg = f"needs: unknown field(s) {', '.join(sorted(unknown))}"
            raise ValidationError(msg)
        values = dict(data)
        if "kinds" in values:
            values["kinds"] = tuple(values["kinds"] or ())
        return cls(**values)


def eligible(resources: Sequence[Mapping[str, Any]], needs: Needs) -> npt.NDArray[np.bool_]:
    """Return which resources serve a client with ``needs`` (bed availability aside).

    Parameters
    ----------
    resources
        One mapping per resource with the store's resource columns (``eligibility`` dicts,
        ``languages`` and ``services`` tuples, ``wheelchair``, ``pets``, ``walk_in``,
        ``kind``), e.g. :meth:`~navigator.store.base.Store.search_sites` rows or a
        resource table's ``to_dict("records")``.
    needs
        The client's needs.

    Returns
    -------
    numpy.ndarray
        Boolean mask, one entry per resource.
    """
    kinds = {k.value for k in needs.kinds}
    out = np.ones(len(resources), dtype=bool)
    for i, row in enumerate(resources):
        rules = row["eligibility"] or {}
        genders = tuple(rules.get("genders") or ())
        ok = not (needs.gender and genders and needs.gender not in genders)
        if needs.age is not None:
            lo, hi = rules.get("min_age"), rules.get("max_age")
            ok &= (lo is None or needs.age >= lo) and (hi is None or needs.age <= hi)
        if needs.family:
            ok &= bool(rules.get("families", True))
        if needs.language:
            ok &= needs.language in tuple(row["languages"] or ())
        ok &= bool(row["wheelchair"]) or not needs.wheelchair
        ok &= bool(row["pets"]) or not needs.pets
        ok &= bool(row["walk_in"]) or not needs.walk_in
        if needs.service:
            ok &= needs.service in tuple(row["services"] or ())
        if needs.kinds:
            ok &= row["kind"] in kinds
        out[i] = ok
    return out


def fresh_counts(age_s: npt.ArrayLike, window_s: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Return which bed counts are fresh: confirmed no longer than ``window_s`` seconds ago.

    Parameters
    ----------
    age_s
        Seconds since each count was reported (NaN: never reported; a report dated after
        the moment asked about counts as age 0).
    window_s
        Freshness window per count, seconds (positive).

    Returns
    -------
    numpy.ndarray
        True where the count may be offered as free beds.
    """
    age = np.maximum(np.asarray(age_s, dtype=np.float64), 0.0)
    window = np.broadcast_to(np.asarray(window_s, dtype=np.float64), age.shape)
    return np.isfinite(age) & (age <= window)


def stale_text(age_s: float | None, phone: str = "") -> str:
    """Return what a caseworker reads for a stale count: "last confirmed 3 days ago, call ahead".

    ``age_s`` None (or NaN) means nobody ever confirmed the count.
    """
    if age_s is None or not np.isfinite(age_s):
        text = "never confirmed by the shelter, call ahead"
    else:
        hours = max(float(age_s), 0.0) / 3600.0
        if hours >= 48:
            when = f"{hours / 24:.0f} days ago"
        elif hours >= 1:
            when = f"{hours:.0f} hour{'s' if round(hours) != 1 else ''} ago"
        else:
            when = "less than an hour ago"
        text = f"last confirmed {when}, call ahead"
    return f"{text}: {phone}" if phone else text


def classify(time_s: npt.ArrayLike, *, eligible: npt.ArrayLike, open_now: npt.ArrayLike,
             free: npt.ArrayLike | None = None, free_other: npt.ArrayLike | None = None,
             max_time_s: float = np.inf, fresh: npt.ArrayLike | None = None,
             accepting: npt.ArrayLike | None = None) -> npt.NDArray[np.int8]:
    """Return each candidate's :class:`Reason`: the first of the checks it fails.

    Parameters
    ----------
    time_s
        Road travel time to each candidate, seconds (``inf`` = unreachable).
    eligible
        Whether the candidate serves the client.
    open_now
        Whether it is open at the time asked.
    free
        Free beds of the wanted type (None: no bed needed, e.g. a clinic).
    free_other
        Free beds of other types (to offer as an alternative); None = 0.
    max_time_s
        Travel-time limit, seconds.
    fresh
        Whether each bed count is fresh (None: all are). A stale count is never a free bed:
        the candidate is ``STALE`` whatever its count says.
    accepting
        Whether the site's status is ``open`` (None: all are); else ``NOT_ACCEPTING``.

    Returns
    -------
    numpy.ndarray
        ``Reason`` values (int8), one per candidate.
    """
    t = np.asarray(time_s, dtype=np.float64)
    n = t.shape[0]
    ok = np.asarray(eligible, dtype=bool)
    opened = np.asarray(open_now, dtype=bool)
    beds = np.ones(n) if free is None else np.asarray(free, dtype=np.float64)
    other = np.zeros(n) if free_other is None else np.asarray(free_other, dtype=np.float64)
    if not (ok.shape == opened.shape == beds.shape == other.shape == (n,)):
        msg = "time_s, eligible, open_now, free and free_other must be 1-d of one length"
        raise ValidationError(msg)
    reason = np.full(n, Reason.MATCH, dtype=np.int8)
    # Checks from the last to the first, so the first failing check is what remains.
    reason[t > max_time_s] = Reason.BEYOND_LIMIT
    reason[~opened] = Reason.CLOSED
    reason[(beds <= 0) & (other <= 0)] = Reason.FULL
    reason[(beds <= 0) & (other > 0)] = Reason.OTHER_BED_TYPE
    if fresh is not None:
        reason[~np.asarray(fresh, dtype=bool)] = Reason.STALE
    if accepting is not None:
        reason[~np.asarray(accepting, dtype=bool)] = Reason.NOT_ACCEPTING
    reason[~ok] = Reason.NOT_ELIGIBLE
    reason[~np.isfinite(t)] = Reason.UNREACHABLE
    return reason


def rank(time_s: npt.ArrayLike, reason: npt.ArrayLike, *, k: int) -> npt.NDArray[np.int64]:
    """Return the positions of the ``k`` fastest matches, fastest first (ties by position)."""
    if k < 1:
        msg = f"k must be at least 1, got {k}"
        raise ValidationError(msg)
    return alternatives(time_s, reason, k=k, reasons=(Reason.MATCH,))


def alternatives(time_s: npt.ArrayLike, reason: npt.ArrayLike, *, k: int,
                 reasons: tuple[Reason, ...] = (Reason.OTHER_BED_TYPE, Reason.CLOSED,
                                                Reason.BEYOND_LIMIT)) -> npt.NDArray[np.int64]:
    """Return positions of the ``k`` fastest candidates whose reason is in ``reasons``."""
    t = np.asarray(time_s, dtype=np.float64)
    r = np.asarray(reason)
    pos = np.flatnonzero(np.isin(r, [int(x) for x in reasons]))
    order = np.lexsort((pos, t[pos]))
    return pos[order][:k].astype(np.int64)


def serving_hotlines(*, covers: npt.ArrayLike, national: npt.ArrayLike,
                     open_now: npt.ArrayLike, speaks: npt.ArrayLike,
                     has_channel: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Return positions of the hotlines to offer, best first.

    Local lines (area covers the point) that are open, speak the language and offer the
    channel come first, national lines after them; lines that are closed, or lack the
    language or channel, are dropped. Ties keep input order.
    """
    local = np.asarray(covers, dtype=bool) & ~np.asarray(national, dtype=bool)
    nat = np.asarray(national, dtype=bool)
    keep = ((local | nat) & np.asarray(open_now, dtype=bool) & np.asarray(speaks, dtype=bool)
            & np.asarray(has_channel, dtype=bool))
    pos = np.flatnonzero(keep)
    return pos[np.argsort(nat[pos], kind="stable")].astype(np.int64)


@dataclass(frozen=True)
class ResourceMatch:
    """One resource offered to a caseworker (a bed, a clinic, a crisis unit).

    For a confidential site seen by a role without access, ``lon``/``lat`` and ``route`` are
    those of the public meeting point (``at_meeting_point=True``), ``address`` is empty and
    ``phone`` is the intake phone.

    Attributes
    ----------
    eta_s, distance_m
        Road travel time, seconds, and route length, metres (None/inf when unknown).
    reason
        ``"match"`` or why it is only an alternative (``"closed"``, ``"beyond_limit"``,
        ``"other_bed_type"``).
    opens_at, closes_at
        Next opening (when closed) and closing (when open), area time zone.
    """

    resource_id: str
    name: str
    kind: str
    eta_s: float
    distance_m: float
    lon: float
    lat: float
    reason: str = "match"
    route: Route | None = None
    address: str = ""
    phone: str = ""
    bed_type: str | None = None
    free_beds: int | None = None
    other_free_beds: dict[str, int] | None = None
    opening_hours: str = ""
    open_now: bool = True
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    services: tuple[str, ...] = ()
    walk_in: bool = False
    languages: tuple[str, ...] = ()
    confidential: bool = False
    at_meeting_point: bool = False
    intake_phone: str = ""
    synthetic: bool = False
    #: Bed searches: when and by whom the count was confirmed, whether it is fresh, and for a
    #: stale count what to tell the caseworker ("last confirmed 3 days ago, call ahead: …").
    reported_at: datetime | None = None
    reported_by: str = ""
    fresh: bool | None = None
    stale_text: str = ""
    site_status: str = ""
    site_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (inf becomes None, the route a GeoJSON Feature)."""
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class SearchResult:
    """The answer to a caseworker search: matches, alternatives and a one-line message."""

    matches: tuple[ResourceMatch, ...]
    alternatives: tuple[ResourceMatch, ...]
    message: str
    at: datetime
    max_time_s: float
    #: Sites whose count is stale, nearest first: shown after the matches, never as free.
    stale: tuple[ResourceMatch, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class HotlineMatch:
    """A hotline that serves a place now."""

    hotline_id: str
    name: str
    phone: str
    channels: tuple[str, ...]
    languages: tuple[str, ...]
    opening_hours: str
    national: bool
    text_number: str = ""
    chat_url: str = ""
    fallback: bool = False
    synthetic: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}
