"""Domain model: enums and frozen records for resources, beds, hotlines, teams and incidents.

Every record validates itself on construction and raises
:class:`~navigator.errors.ValidationError` naming the record and the field, so bad input is
refused before it reaches a store. Coordinates are longitude/latitude in EPSG:4326; times are
timezone-aware datetimes (UTC in the store).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, Literal

from navigator.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping


class ResourceKind(StrEnum):
    """What a place in the resource directory is."""

    SHELTER = "shelter"
    CLINIC = "clinic"
    HOSPITAL = "hospital"
    CRISIS_UNIT = "crisis_unit"
    TEAM_BASE = "team_base"
    #: A directory service that fits none of the kinds above (e.g. a food bank or a youth
    #: programme from an HSDS export whose taxonomy names no Navigator kind).
    OTHER = "other"
    #: A surge (emergency / evacuation) shelter: opened by an admin during a disaster and
    #: shown on the maps only while active (see :class:`SurgeSite`); beds by need.
    EVACUATION_SHELTER = "evacuation_shelter"


class BedType(StrEnum):
    """Kinds of shelter bed; a bed of one type is not interchangeable with another."""

    SINGLE_MEN = "single_men"
    SINGLE_WOMEN = "single_women"
    FAMILIES = "families"
    YOUTH = "youth"
    DV = "dv"
    #: Surge shelters count spaces by need (FEMA / Red Cross mass-care practice; see
    #: :data:`SURGE_NEEDS`): general population, functional and access needs support (FNSS),
    #: medical (a medical shelter, staffed for people who need nursing care) and pets (a
    #: person's place in the co-located pet-friendly area with one crate for the household's
    #: pets; service animals are not pets and go with their handler into any space).
    GENERAL = "general"
    FNSS = "fnss"
    MEDICAL = "medical"
    PETS = "pets"


class TeamStatus(StrEnum):
    """Where a mobile crisis team is in its duty cycle."""

    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RETURNING = "returning"
    OFF_DUTY = "off_duty"


class IncidentStatus(StrEnum):
    """Lifecycle of an incident."""

    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


class CrisisType(StrEnum):
    """Kinds of crisis a mobile team responds to."""

    SUICIDE_RISK = "suicide_risk"
    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_USE = "substance_use"
    DOMESTIC_VIOLENCE = "domestic_violence"
    WELFARE_CHECK = "welfare_check"
    YOUTH = "youth"
    HOUSING = "housing"


class Channel(StrEnum):
    """Ways to reach a hotline."""

    CALL = "call"
    TEXT = "text"
    CHAT = "chat"


class HoldStatus(StrEnum):
    """Lifecycle of a bed hold."""

    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"


class AssignmentStatus(StrEnum):
    """Lifecycle of a team assignment; a team has at most one ``active``."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class RequiredResponse(IntEnum):
    """What must go to the scene, least intensive first (a larger value wins)."""

    PEER_TEAM = 1
    CLINICIAN_TEAM = 2
    CO_RESPONDER = 3
    EMS_REFERRAL = 4

    @property
    def label(self) -> str:
        """Return the response in words."""
        return {RequiredResponse.PEER_TEAM: "peer support team",
                RequiredResponse.CLINICIAN_TEAM: "clinician team",
                RequiredResponse.CO_RESPONDER: "co-responder team with law enforcement",
                RequiredResponse.EMS_REFERRAL: "EMS referral (911); a crisis team may follow"}[self]


#: Skills a mobile team may have (and an incident or a triage rule may need).
TEAM_SKILLS = ("clinician", "peer_support", "youth", "substance_use", "dv_advocate", "medical")


class Role(StrEnum):
    """What a user may do: one page and its API per role; ``admin`` may do everything."""

    DISPATCHER = "dispatcher"
    CASEWORKER = "caseworker"
    PLANNER = "planner"
    ADMIN = "admin"
    SHELTER = "shelter"


class Region(StrEnum):
    """The demo regions Navigator ships data for (``navigator demo --region``)."""

    COLUMBUS = "columbus"
    IMPERIAL = "imperial"


class DispatchPolicy(StrEnum):
    """How the dispatch-policy simulator sends teams (``navigator simulate --policies``).

    ``closest``: the nearest free team; ``coverage``: among free teams within a slack of the
    nearest, the one whose departure leaves the fewest people beyond the target; ``preempt``:
    as closest, and with no team free an urgent call diverts a team on its way to a less
    urgent one; ``batch``: waiting calls are assigned together every few minutes
    (priority first, then the least weighted total ETA).
    """

    CLOSEST = "closest"
    COVERAGE = "coverage"
    PREEMPT = "preempt"
    BATCH = "batch"


class FacilityKind(StrEnum):
    """Which facilities a coverage surface is measured from (see :data:`FACILITY_KINDS`)."""

    TEAM_BASES = "team_bases"
    TEAMS = "teams"
    SHELTERS = "shelters"
    CLINICS = "clinics"
    ALL = "all"


#: Kinds of resource that have beds (a registry entry staff report counts for).
BED_KINDS = (ResourceKind.SHELTER, ResourceKind.EVACUATION_SHELTER)

#: The need categories evacuees are placed by, one bed type each: a person of one need takes
#: only a space of that need (an FNSS space has the support, a pet space the crate).
SURGE_NEEDS = (BedType.GENERAL, BedType.FNSS, BedType.MEDICAL, BedType.PETS)

#: Kinds of care site a service search covers when the client names none.
CARE_KINDS = (ResourceKind.CLINIC, ResourceKind.HOSPITAL, ResourceKind.CRISIS_UNIT)

#: Facility kind -> (resource kinds, who travels: ``"from"`` = the service drives out to
#: people, ``"to"`` = people travel to it). ``teams`` are the bases of the teams on shift.
FACILITY_KINDS: Mapping[str, tuple[tuple[ResourceKind, ...], Literal["from", "to"]]] = {
    FacilityKind.TEAM_BASES: ((ResourceKind.TEAM_BASE,), "from"),
    FacilityKind.TEAMS: ((ResourceKind.TEAM_BASE,), "from"),
    FacilityKind.SHELTERS: ((ResourceKind.SHELTER,), "to"),
    FacilityKind.CLINICS: (CARE_KINDS, "to"),
    FacilityKind.ALL: ((ResourceKind.TEAM_BASE, ResourceKind.SHELTER, *CARE_KINDS,
                        ResourceKind.OTHER, ResourceKind.EVACUATION_SHELTER), "to"),
}

#: Named groups of candidate sites for new-site recommendations -> resource kinds (public
#: facilities that could host a team or a service; confidential sites are never candidates).
CANDIDATE_GROUPS: Mapping[str, tuple[ResourceKind, ...]] = {
    "team_bases": (ResourceKind.TEAM_BASE,),
    "clinics": (ResourceKind.CLINIC,),
    "hospitals": (ResourceKind.HOSPITAL,),
    "public": (ResourceKind.TEAM_BASE, ResourceKind.CLINIC, ResourceKind.HOSPITAL),
}

#: Incident statuses a dispatcher sets by hand (``assigned`` follows from an assignment).
INCIDENT_STATUSES_BY_HAND = (IncidentStatus.OPEN, IncidentStatus.RESOLVED,
                             IncidentStatus.CANCELLED)
#: How an active assignment ends.
ASSIGNMENT_ENDINGS = (AssignmentStatus.COMPLETED, AssignmentStatus.CANCELLED)

#: Gender values eligibility rules may name (empty = anyone).
GENDERS = ("female", "male", "nonbinary")

#: Siting models of the planner's new-site recommendations (navigator.decide.allocation).
Model = Literal["mclp", "lscp", "p_median", "p_center", "mexclp", "backup"]
#: Every model name, for CLI choices, request schemas and page menus.
MODELS: tuple[Model, ...] = ("mclp", "lscp", "p_median", "p_center", "mexclp", "backup")
#: What a batch dispatch plan minimises (navigator.decide.dispatch): the priority-weighted
#: total ETA, or the worst ETA.
Objective = Literal["total", "bottleneck"]
#: How evacuees are placed (navigator.decide.evacuation).
PlacementMethod = Literal["optimal", "greedy"]
PLACEMENT_METHODS: tuple[PlacementMethod, ...] = ("optimal", "greedy")


def check_lonlat(record: str, lon: object, lat: object, *, name: str = "location") -> None:
    """Raise unless ``lon``/``lat`` are finite degrees in range (EPSG:4326).

    Parameters
    ----------
    record
        Record label used in the message, e.g. ``"shelter 'faith-mission'"``.
    lon, lat
        Longitude and latitude in degrees.
    name
        Field name used in the message.

    Raises
    ------
    ValidationError
        If either value is not a finite number or is out of range.
    """
    for axis, value, bound in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"{record}: {name}.{axis} must be a number, got {value!r}"
            raise ValidationError(msg)
        if not math.isfinite(value):
            msg = f"{record}: {name}.{axis} must be finite, got {value!r}"
            raise ValidationError(msg)
        if not -bound <= value <= bound:
            msg = f"{record}: {name}.{axis}={value} is outside [-{bound:g}, {bound:g}]"
            if axis == "lat" and -180 <= value <= 180 and -90 <= float(lon) <= 90:  # type: ignore[arg-type]
                msg += " (latitude and longitude swapped?)"
            raise ValidationError(msg)


def _require_id(record: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        msg = f"{record}: id must be a non-empty string, got {value!r}"
        raise ValidationError(msg)


def _enum(record: str, name: str, enum: type[StrEnum], value: object) -> Any:
    try:
        return enum(value)  # type: ignore[arg-type]  # any value: a bad one is the error below
    except ValueError as e:
        allowed = ", ".join(m.value for m in enum)
        msg = f"{record}: {name}={value!r} is not one of {allowed}"
        raise ValidationError(msg) from e


def _aware(record: str, name: str, value: datetime | None) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        msg = f"{record}: {name} must be a timezone-aware datetime, got {value!r}"
        raise ValidationError(msg)


def _str_tuple(record: str, name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        msg = f"{record}: {name} must be a list of strings, got {value!r}"
        raise ValidationError(msg)
    out = tuple(str(v).strip() for v in value)
    if any(not v for v in out):
        msg = f"{record}: {name} holds an empty string"
        raise ValidationError(msg)
    return out


@dataclass(frozen=True)
class Eligibility:
    """Who a resource serves; empty or None fields mean "no restriction".

    Attributes
    ----------
    genders
        Genders served (values from :data:`GENDERS`); empty means anyone.
    min_age, max_age
        Age range in years, inclusive.
    families
        Whether households with children are accepted.
    """

    genders: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    families: bool = True

    def check(self, record: str) -> None:
        """Raise :class:`ValidationError` if a field is out of range."""
        for g in self.genders:
            if g not in GENDERS:
                msg = f"{record}: eligibility.genders holds {g!r}, not one of {', '.join(GENDERS)}"
                raise ValidationError(msg)
        for name in ("min_age", "max_age"):
            age = getattr(self, name)
            if age is not None and (isinstance(age, bool) or not isinstance(age, int)
                                    or not 0 <= age <= 130):
                msg = f"{record}: eligibility.{name}={age!r} must be an integer in 0..130"
                raise ValidationError(msg)
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            msg = f"{record}: eligibility.min_age {self.min_age} > max_age {self.max_age}"
            raise ValidationError(msg)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {"genders": list(self.genders), "min_age": self.min_age,
                "max_age": self.max_age, "families": self.families}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Eligibility:
        """Build from :meth:`to_dict` output (None means no restriction)."""
        data = data or {}
        return cls(genders=tuple(data.get("genders") or ()), min_age=data.get("min_age"),
                   max_age=data.get("max_age"), families=bool(data.get("families", True)))


@dataclass(frozen=True)
class Beds:
    """Capacity and free beds of one type at one shelter."""

    bed_type: BedType
    capacity: int
    free: int

    def check(self, record: str) -> None:
        """Raise :class:`ValidationError` unless ``0 <= free <= capacity``."""
        _enum(record, "beds.bed_type", BedType, self.bed_type)
        for name in ("capacity", "free"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                msg = (f"{record}: beds[{self.bed_type}].{name}={value!r} must be a "
                       "non-negative integer")
                raise ValidationError(msg)
        if self.free > self.capacity:
            msg = (f"{record}: beds[{self.bed_type}].free={self.free} exceeds "
                   f"capacity={self.capacity}")
            raise ValidationError(msg)


@dataclass(frozen=True)
class Resource:
    """A place people are sent to or teams start from: shelter, clinic, crisis unit, base.

    Attributes
    ----------
    id
        Stable identifier (string).
    kind
        What the place is.
    name, address, phone
        Public contact details (hidden for confidential sites).
    lon, lat
        Location, EPSG:4326 degrees.
    opening_hours
        OSM ``opening_hours`` syntax (e.g. ``"24/7"``, ``"Mo-Fr 08:00-17:00; PH off"``);
        empty means unknown.
    beds
        Bed counts by type (shelters only).
    services
        Services offered (e.g. ``"psychiatric"``, ``"detox"``, ``"primary_care"``).
    walk_in
        Whether people are seen without an appointment.
    eligibility
        Who is served.
    languages
        ISO 639-1 codes of languages spoken (ISO 639-3 for a language without one, e.g.
        ``"ase"`` for American Sign Language); empty means unknown.
    wheelchair, pets
        Accessibility and pets-allowed flags.
    confidential
        Domestic-violence site: location, address and route never leave the store for roles
        without access; ``intake_phone`` and ``meeting_point`` are shared instead.
    intake_phone
        Number to call for intake (confidential sites).
    meeting_point_lon, meeting_point_lat
        Public meeting point for a confidential site.
    synthetic
        True when any value of the record was generated for the demo.
    source
        Where the record came from (e.g. ``"City of Columbus POI 5790001"``).
    """

    id: str
    kind: ResourceKind
    name: str
    lon: float
    lat: float
    address: str = ""
    phone: str = ""
    opening_hours: str = ""
    beds: tuple[Beds, ...] = ()
    services: tuple[str, ...] = ()
    walk_in: bool = False
    eligibility: Eligibility = field(default_factory=Eligibility)
    languages: tuple[str, ...] = ("en",)
    wheelchair: bool = False
    pets: bool = False
    confidential: bool = False
    intake_phone: str = ""
    meeting_point_lon: float | None = None
    meeting_point_lat: float | None = None
    synthetic: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        label = f"resource {self.id!r}"
        _require_id(label, self.id)
        object.__setattr__(self, "kind", _enum(label, "kind", ResourceKind, self.kind))
        if not isinstance(self.name, str) or not self.name.strip():
            msg = f"{label}: name must be a non-empty string"
            raise ValidationError(msg)
        check_lonlat(label, self.lon, self.lat)
        beds = tuple(self.beds)
        seen: set[str] = set()
        for b in beds:
            if not isinstance(b, Beds):
                msg = f"{label}: beds must hold Beds records, got {b!r}"
                raise ValidationError(msg)
            b.check(label)
            if b.bed_type in seen:
                msg = f"{label}: beds lists bed_type {b.bed_type!r} twice"
                raise ValidationError(msg)
            seen.add(b.bed_type)
        if beds and self.kind not in BED_KINDS:
            msg = f"{label}: only shelters have beds (kind is {self.kind})"
            raise ValidationError(msg)
        object.__setattr__(self, "beds", beds)
        object.__setattr__(self, "services", _str_tuple(label, "services", self.services))
        object.__setattr__(self, "languages", _str_tuple(label, "languages", self.languages))
        self.eligibility.check(label)
        if (self.meeting_point_lon is None) != (self.meeting_point_lat is None):
            msg = f"{label}: meeting_point needs both lon and lat"
            raise ValidationError(msg)
        if self.meeting_point_lon is not None:
            check_lonlat(label, self.meeting_point_lon, self.meeting_point_lat,
                         name="meeting_point")


#: ``Hotline.source`` prefix recording that a line's service area is unknown (see
#: :attr:`Hotline.area_known`); stores keep it in the ``source`` column they already have.
AREA_UNKNOWN_PREFIX = "area unknown: "


def hotline_area_known(source: str) -> bool:
    """Return False when a hotline's ``source`` marks its service area as unknown.

    Use it on store frames, where only the ``source`` column carries the mark:
    ``lines["source"].map(hotline_area_known)``.
    """
    return not str(source or "").startswith(AREA_UNKNOWN_PREFIX)


@dataclass(frozen=True)
class Hotline:
    """A phone, text or chat line, with the area it serves.

    ``area=None`` means nationwide only when ``area_known`` is True. A directory service with
    a phone but no location and no service area is kept with ``area_known=False``: it is
    listed, but never answers a "which line serves this place" query. The flag travels in
    ``source`` (prefixed :data:`AREA_UNKNOWN_PREFIX`), so every store keeps it unchanged.
    """

    id: str
    name: str
    phone: str
    channels: tuple[Channel, ...] = (Channel.CALL,)
    languages: tuple[str, ...] = ("en",)
    opening_hours: str = "24/7"
    #: Service area as a shapely (Multi)Polygon in EPSG:4326; None means nationwide.
    area: Any = None
    text_number: str = ""
    chat_url: str = ""
    synthetic: bool = False
    source: str = ""
    #: False when nothing says where the line serves (never offered for a place).
    area_known: bool = True

    def __post_init__(self) -> None:
        label = f"hotline {self.id!r}"
        _require_id(label, self.id)
        if not self.name or not self.phone:
            msg = f"{label}: name and phone are required"
            raise ValidationError(msg)
        source = str(self.source or "")
        if not hotline_area_known(source):
            object.__setattr__(self, "area_known", False)
        elif not self.area_known:
            object.__setattr__(self, "source", AREA_UNKNOWN_PREFIX + source)
        if not self.area_known and self.area is not None:
            msg = f"{label}: a line with a service area cannot have area_known=False"
            raise ValidationError(msg)
        channels = tuple(_enum(label, "channels", Channel, c) for c in self.channels)
        if not channels:
            msg = f"{label}: channels must name at least one of call, text, chat"
            raise ValidationError(msg)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "languages", _str_tuple(label, "languages", self.languages))
        if self.area is not None:
            geom_type = getattr(self.area, "geom_type", None)
            if geom_type not in {"Polygon", "MultiPolygon"}:
                msg = f"{label}: area must be a Polygon or MultiPolygon, got {geom_type!r}"
                raise ValidationError(msg)
            if self.area.is_empty or not self.area.is_valid:
                msg = f"{label}: area is empty or not a valid polygon"
                raise ValidationError(msg)
            minx, miny, maxx, maxy = self.area.bounds
            check_lonlat(label, minx, miny, name="area")
            check_lonlat(label, maxx, maxy, name="area")


@dataclass(frozen=True)
class Team:
    """A mobile crisis team: where it is based, where it is now, what it can do."""

    id: str
    name: str
    base_id: str
    lon: float
    lat: float
    status: TeamStatus = TeamStatus.AVAILABLE
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    shift_start: datetime | None = None
    shift_end: datetime | None = None
    synthetic: bool = False
    source: str = ""
    #: When the current position was fixed (a GPS ping or a hand update); None: never.
    position_at: datetime | None = None

    def __post_init__(self) -> None:
        label = f"team {self.id!r}"
        _require_id(label, self.id)
        _require_id(f"{label} base_id", self.base_id)
        if not self.name:
            msg = f"{label}: name is required"
            raise ValidationError(msg)
        check_lonlat(label, self.lon, self.lat, name="position")
        object.__setattr__(self, "status", _enum(label, "status", TeamStatus, self.status))
        object.__setattr__(self, "skills", _str_tuple(label, "skills", self.skills))
        object.__setattr__(self, "languages", _str_tuple(label, "languages", self.languages))
        _aware(label, "shift_start", self.shift_start)
        _aware(label, "shift_end", self.shift_end)
        _aware(label, "position_at", self.position_at)
        if self.shift_start and self.shift_end and self.shift_end <= self.shift_start:
            msg = f"{label}: shift_end must be after shift_start"
            raise ValidationError(msg)


@dataclass(frozen=True)
class Incident:
    """A call for a mobile crisis team at a place."""

    id: str
    lon: float
    lat: float
    crisis_type: CrisisType
    priority: int = 2
    needed_skills: tuple[str, ...] = ()
    needed_languages: tuple[str, ...] = ()
    status: IncidentStatus = IncidentStatus.OPEN
    created_at: datetime | None = None
    updated_at: datetime | None = None
    notes: str = ""
    synthetic: bool = False
    #: Where the caller may be when only an area is known (988 georouting): a shapely
    #: MultiPolygon, EPSG:4326; None for a point incident. ``lon``/``lat`` are then the
    #: area's centre (a circle) or representative point, so point code paths keep working.
    #: Cleared when the dispatcher refines the incident to a point.
    area: Any = None
    #: The circle's radius, metres, when the area was given as centre + radius (display).
    area_radius_m: float | None = None

    @property
    def is_area(self) -> bool:
        """Whether only an area, not a point, is known for this incident."""
        return self.area is not None

    def __post_init__(self) -> None:
        label = f"incident {self.id!r}"
        _require_id(label, self.id)
        check_lonlat(label, self.lon, self.lat)
        _check_incident_area(label, self.area, self.area_radius_m)
        object.__setattr__(self, "crisis_type",
                           _enum(label, "crisis_type", CrisisType, self.crisis_type))
        object.__setattr__(self, "status", _enum(label, "status", IncidentStatus, self.status))
        if isinstance(self.priority, bool) or self.priority not in (1, 2, 3, 4):
            msg = f"{label}: priority={self.priority!r} must be 1 (highest) to 4"
            raise ValidationError(msg)
        object.__setattr__(self, "needed_skills",
                           _str_tuple(label, "needed_skills", self.needed_skills))
        object.__setattr__(self, "needed_languages",
                           _str_tuple(label, "needed_languages", self.needed_languages))
        _aware(label, "created_at", self.created_at)
        _aware(label, "updated_at", self.updated_at)


def _check_incident_area(label: str, area: Any, radius_m: Any) -> None:
    """Raise unless ``area`` is None or a valid, non-empty (Multi)Polygon (EPSG:4326).

    The size and road-network checks live in :mod:`navigator.services.incident_area`.
    """
    if area is None:
        if radius_m is not None:
            msg = f"{label}: area_radius_m={radius_m!r} needs an area"
            raise ValidationError(msg)
        return
    if getattr(area, "geom_type", None) not in ("Polygon", "MultiPolygon"):
        msg = f"{label}: area must be a Polygon or MultiPolygon, got {type(area).__name__}"
        raise ValidationError(msg)
    if area.is_empty or not area.is_valid:
        msg = f"{label}: area is empty or invalid (e.g. self-intersecting)"
        raise ValidationError(msg)
    minx, miny, maxx, maxy = area.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        msg = f"{label}: area bounds {area.bounds!r} are not lon/lat degrees (EPSG:4326)"
        raise ValidationError(msg)
    if radius_m is not None and (isinstance(radius_m, bool) or not isinstance(
            radius_m, int | float) or not math.isfinite(radius_m) or radius_m <= 0):
        msg = f"{label}: area_radius_m={radius_m!r} must be a positive number of metres"
        raise ValidationError(msg)


@dataclass(frozen=True)
class Hold:
    """A bed held for a client until it is confirmed, released or expires."""

    id: str
    resource_id: str
    bed_type: BedType
    status: HoldStatus
    actor: str
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    idempotency_key: str | None = None
    client_ref: str = ""
    #: The shelter's answer (:class:`HoldResponse` value; empty until it answers).
    response: str = ""
    responded_by: str = ""
    responded_at: datetime | None = None
    #: Free beds of this type at the resource, read in the same transaction as the hold
    #: (None if the resource no longer lists the type). A snapshot, left out of comparisons.
    free_beds: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Assignment:
    """A team sent to an incident; a team has at most one active assignment."""

    id: str
    team_id: str
    incident_id: str
    status: AssignmentStatus
    actor: str
    created_at: datetime
    updated_at: datetime
    eta_s: float | None = None
    idempotency_key: str | None = None
    #: Why a team lacking a needed skill or language was sent anyway ("" when it fits).
    override_reason: str = ""


@dataclass(frozen=True)
class PositionPing:
    """One GPS fix of a team: where (EPSG:4326 degrees) and when (timezone-aware)."""

    lon: float
    lat: float
    at: datetime

    def __post_init__(self) -> None:
        check_lonlat("position ping", self.lon, self.lat, name="position")
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            msg = f"position ping: at must be a timezone-aware datetime, got {self.at!r}"
            raise ValidationError(msg)


@dataclass(frozen=True)
class PositionUpdate:
    """What a batch of pings did: the team as stored now, pings applied and ignored.

    Only the newest ping moves the team; pings no newer than the stored fix (late, out of
    order or repeated) are ignored.
    """

    team: Team
    applied: bool
    accepted: int
    ignored: int


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit log: who did what, when, with which inputs."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    inputs: dict[str, Any]
    result: dict[str, Any]


@dataclass(frozen=True)
class Bundle:
    """A set of records loaded into a store in one all-or-nothing transaction."""

    resources: tuple[Resource, ...] = ()
    hotlines: tuple[Hotline, ...] = ()
    teams: tuple[Team, ...] = ()
    incidents: tuple[Incident, ...] = ()
    #: Free text saying where the bundle came from and what was clipped or generated.
    notes: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """Return the number of records of each kind."""
        return {"resources": len(self.resources), "hotlines": len(self.hotlines),
                "teams": len(self.teams), "incidents": len(self.incidents)}


#: The one real hotline: 988 Suicide & Crisis Lifeline (nationwide, 24/7).
LIFELINE_988 = Hotline(
    id="988-lifeline", name="988 Suicide & Crisis Lifeline", phone="988",
    channels=(Channel.CALL, Channel.TEXT, Channel.CHAT), languages=("en", "es"),
    opening_hours="24/7", area=None, text_number="988", chat_url="https://988lifeline.org/chat",
    synthetic=False, source="988lifeline.org",
)


# -- the live bed registry and referral episodes ------------------------------------------------
class SiteStatus(StrEnum):
    """What a shelter says about taking people now; only ``open`` offers its free beds."""

    OPEN = "open"
    FULL = "full"
    CLOSED = "closed"
    DIVERTING = "diverting"


class ReportVia(StrEnum):
    """How a bed count reached the store."""

    IMPORT = "import"
    STAFF = "staff"
    CENSUS = "census"


class HoldResponse(StrEnum):
    """A shelter's answer to an incoming hold (none yet: empty)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


class Transport(StrEnum):
    """How a client travels to the bed."""

    SELF = "self"
    TEAM = "team"
    OTHER = "other"


class EpisodeState(StrEnum):
    """Where a referral episode (the "flight strip" of one client) is."""

    SEARCH = "search"
    HOLD = "hold"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TRANSPORT = "transport"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


#: Allowed episode transitions: state -> states it may move to. ``closed`` is final; any open
#: episode may be closed (the client found a place elsewhere, or the referral was withdrawn).
EPISODE_TRANSITIONS: dict[EpisodeState, frozenset[EpisodeState]] = {
    EpisodeState.SEARCH: frozenset({EpisodeState.HOLD, EpisodeState.CLOSED}),
    EpisodeState.HOLD: frozenset({EpisodeState.ACCEPTED, EpisodeState.DECLINED,
                                  EpisodeState.CLOSED}),
    EpisodeState.ACCEPTED: frozenset({EpisodeState.TRANSPORT, EpisodeState.ARRIVED,
                                      EpisodeState.NO_SHOW, EpisodeState.CLOSED}),
    EpisodeState.DECLINED: frozenset({EpisodeState.SEARCH, EpisodeState.CLOSED}),
    EpisodeState.TRANSPORT: frozenset({EpisodeState.ARRIVED, EpisodeState.NO_SHOW,
                                       EpisodeState.CLOSED}),
    EpisodeState.ARRIVED: frozenset({EpisodeState.FOLLOW_UP, EpisodeState.CLOSED}),
    EpisodeState.NO_SHOW: frozenset({EpisodeState.FOLLOW_UP, EpisodeState.SEARCH,
                                     EpisodeState.CLOSED}),
    EpisodeState.FOLLOW_UP: frozenset({EpisodeState.CLOSED}),
    EpisodeState.CLOSED: frozenset(),
}


@dataclass(frozen=True)
class BedCount:
    """What shelter staff report for one bed type: free is derived, never typed.

    ``capacity`` beds exist; ``occupied`` hold a person now; ``out_of_service`` cannot be
    used (repairs, cleaning). Free beds are ``capacity - occupied - out_of_service`` minus the
    active holds (see :meth:`navigator.store.base.Store.report_beds`).
    """

    capacity: int
    occupied: int
    out_of_service: int = 0

    def check(self, record: str) -> None:
        """Raise :class:`ValidationError` naming the field unless the counts are coherent."""
        for name in ("capacity", "occupied", "out_of_service"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                msg = f"{record}.{name}={value!r} must be a non-negative integer"
                raise ValidationError(msg)
        if self.occupied > self.capacity:
            msg = f"{record}.occupied={self.occupied} exceeds capacity={self.capacity}"
            raise ValidationError(msg)
        if self.occupied + self.out_of_service > self.capacity:
            msg = (f"{record}.out_of_service={self.out_of_service}: occupied + out of service "
                   f"({self.occupied + self.out_of_service}) exceeds capacity={self.capacity}")
            raise ValidationError(msg)


@dataclass(frozen=True)
class Episode:
    """One client's referral from search to follow-up, de-identified (a case reference only).

    Attributes
    ----------
    client_ref
        The caseworker's case reference (no name: minimum necessary).
    state
        Where the episode is (:data:`EPISODE_TRANSITIONS` says where it may go).
    hold_id, resource_id, bed_type
        The hold and the shelter, once there is one.
    transport, eta
        How the client travels and when they are expected (arrival overdue after ``eta``
        plus a grace).
    follow_up_due
        When the next follow-up is due (24 h, then 72 h after arrival by default).
    """

    id: str
    client_ref: str
    state: EpisodeState
    actor: str
    created_at: datetime
    updated_at: datetime
    hold_id: str | None = None
    resource_id: str | None = None
    bed_type: str | None = None
    transport: str | None = None
    eta: datetime | None = None
    arrived_at: datetime | None = None
    follow_up_due: datetime | None = None
    follow_ups_done: int = 0
    note: str = ""


@dataclass(frozen=True)
class BedState:
    """One bed type at a site as the registry holds it now (free derived, holds included)."""

    bed_type: BedType
    capacity: int
    occupied: int
    out_of_service: int
    held: int
    confirmed: int
    free: int
    reported_at: datetime | None
    reported_by: str
    reported_via: str

    @property
    def overbooked(self) -> int:
        """Return how many holds exceed the beds left (a report can shrink them below)."""
        left = self.capacity - self.occupied - self.out_of_service
        return max(0, self.held + self.confirmed - left)


@dataclass(frozen=True)
class SiteBeds:
    """A shelter's registry entry: status, note, freshness window and its bed types."""

    resource_id: str
    name: str
    phone: str
    status: SiteStatus
    note: str
    fresh_hours: float | None
    beds: tuple[BedState, ...]
    updated_at: datetime | None = None
    updated_by: str = ""


#: Geometry types a road closure may have: an area, or road segments (a line near them).
CLOSURE_GEOMETRY_TYPES = ("Polygon", "MultiPolygon", "LineString", "MultiLineString")
#: Longest closure reason, in characters.
CLOSURE_REASON_MAX = 500


@dataclass(frozen=True)
class Closure:
    """A road closure: an area or road segments out of use from ``starts_at`` until expiry.

    Attributes
    ----------
    geometry
        Shapely Polygon/MultiPolygon (every road it touches) or LineString/MultiLineString
        (the roads along it), EPSG:4326.
    reason
        Why the roads are closed (shown on every map; 1-500 characters).
    starts_at, expires_at
        When it takes effect and ends (aware UTC; no expiry: until lifted).
    created_by, created_at
        Who closed the roads and when.
    lifted_at, lifted_by
        When and by whom it was lifted (reopened) early, if it was.
    """

    id: str
    geometry: Any
    reason: str
    starts_at: datetime
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    lifted_at: datetime | None = None
    lifted_by: str = ""

    def active_at(self, when: datetime) -> bool:
        """Return whether the closure is in force at ``when`` (aware)."""
        return (self.lifted_at is None or self.lifted_at > when) and self.starts_at <= when \
            and (self.expires_at is None or self.expires_at > when)


@dataclass(frozen=True)
class SurgeSite:
    """A surge shelter's activation: whether it is open for evacuees now, and since when.

    Attributes
    ----------
    resource_id
        The ``evacuation_shelter`` resource.
    active
        True while the shelter is activated (shown on every map, offered to evacuees).
    opens_at
        When it opens (or opened) for evacuees; None while inactive.
    note
        Why it was activated or deactivated (e.g. the incident name).
    updated_at, updated_by
        Last change and who made it.
    """

    resource_id: str
    active: bool
    opens_at: datetime | None
    note: str
    updated_at: datetime | None
    updated_by: str


#: Incident priorities, 1 (highest) to 4.
PRIORITIES = (1, 2, 3, 4)
#: Geometry types a compliance area may have.
AREA_GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
#: Longest response-time target an area may set, seconds (a day: anything longer is a typo).
AREA_TARGET_MAX_S = 86_400.0
#: Longest compliance area name and class, in characters.
AREA_NAME_MAX = 200
AREA_CLASS_MAX = 40


@dataclass(frozen=True)
class ComplianceArea:
    """An area with its own dispatch-to-on-scene target per priority (e.g. urban, rural).

    An incident belongs to the smallest area containing its point (ties: the lowest id); an
    incident inside none is "outside every area" and measured against the default targets.

    Attributes
    ----------
    id
        Generated by the store (``area-…``).
    name, area_class
        Shown in reports (1-200 and 1-40 characters; imported text, never markup).
    geometry
        Shapely Polygon or MultiPolygon, EPSG:4326 (validated by the store).
    targets_s
        Target per priority 1-4, seconds (0 < target <= :data:`AREA_TARGET_MAX_S`).
    created_by, created_at
        Who imported it and when (aware UTC; None before it is stored).
    """

    id: str
    name: str
    area_class: str
    geometry: Any
    targets_s: Mapping[int, float]
    created_by: str = ""
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        label = f"compliance area {self.name!r}"
        _require_id(label, self.id)
        for name, value, longest in (("name", self.name, AREA_NAME_MAX),
                                     ("class", self.area_class, AREA_CLASS_MAX)):
            # no NUL: the GeoPackage stored it, PostgreSQL refused it ("text of" both)
            if not isinstance(value, str) or not value.strip() or len(value.strip()) > longest \
                    or "\x00" in value:
                msg = (f"{label}: {name} must be text of 1-{longest} characters without NUL, "
                       f"got {value!r}")
                raise ValidationError(msg)
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "area_class", self.area_class.strip())
        object.__setattr__(self, "targets_s", check_targets_s(label, self.targets_s))
        _aware(label, "created_at", self.created_at)


def check_targets_s(label: str, targets: object) -> dict[int, float]:
    """Return ``targets`` as ``{priority: seconds}`` with every priority 1-4, or raise.

    Raises
    ------
    ValidationError
        Not a mapping, a priority missing or unknown, or a target that is not a number of
        seconds in (0, :data:`AREA_TARGET_MAX_S`].
    """
    if not isinstance(targets, dict):
        msg = f"{label}: targets must map priority 1-4 to seconds, got {targets!r}"
        raise ValidationError(msg)
    out: dict[int, float] = {}
    for key, value in targets.items():
        level = int(key) if isinstance(key, str) and key.strip().isdigit() else key
        if isinstance(level, bool) or level not in PRIORITIES:
            msg = f"{label}: unknown priority {key!r} (priorities are 1-4)"
            raise ValidationError(msg)
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                0 < value <= AREA_TARGET_MAX_S):  # NaN fails the comparison too
            msg = (f"{label}: the target for priority {level} must be a number of seconds "
                   f"above 0 and at most {AREA_TARGET_MAX_S:.0f}, got {value!r}")
            raise ValidationError(msg)
        out[int(level)] = float(value)
    missing = [p for p in PRIORITIES if p not in out]
    if missing:
        msg = f"{label}: no target for priority {', '.join(map(str, missing))} (give all of 1-4)"
        raise ValidationError(msg)
    return dict(sorted(out.items()))
