"""Request models of the REST API (pydantic): every input is checked here before any service.

Models refuse unknown fields, NaN and infinities, out-of-range or non-numeric coordinates
(booleans, strings) and malformed ids;
their JSON Schemas (``model_json_schema()``) are the request bodies of ``/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from navigator.decide.allocation import MODELS, Model
from navigator.decide.dispatch import Objective, SkillPolicy
from navigator.decide.evacuation import METHODS as PLACEMENT_METHODS
from navigator.decide.triage import QUESTIONS
from navigator.model import (
    ASSIGNMENT_ENDINGS,
    CARE_KINDS,
    CLOSURE_REASON_MAX,
    GENDERS,
    INCIDENT_STATUSES_BY_HAND,
    SURGE_NEEDS,
    AssignmentStatus,
    BedType,
    Channel,
    CrisisType,
    DispatchPolicy,
    EpisodeState,
    FacilityKind,
    IncidentStatus,
    ResourceKind,
    Role,
    SiteStatus,
    TeamStatus,
    Transport,
)
from navigator.roads.routing import Direction


def one_of(values: Iterable[str]) -> Any:
    """Return ``Literal[...]`` of exactly these model values (an enum in the JSON Schema)."""
    return Literal[tuple(values)]


# Subsets of the model's vocabularies, derived from it (mypy sees the model types).
if TYPE_CHECKING:
    Gender = str
    CareKind = ResourceKind
    HandSetStatus = IncidentStatus
    AssignmentEnding = AssignmentStatus
    SitingModel = Model
else:
    Gender = one_of(GENDERS)
    CareKind = one_of(CARE_KINDS)
    HandSetStatus = one_of(INCIDENT_STATUSES_BY_HAND)
    AssignmentEnding = one_of(ASSIGNMENT_ENDINGS)
    # every model that places k sites (LSCP instead finds how many sites a target needs)
    SitingModel = one_of(m for m in MODELS if m != "lscp")

# Coordinates are strict: JSON numbers only (integers allowed); booleans and numeric strings
# are refused. Query strings are parsed as strings first (web.openapi.parse_query).
Lon = Annotated[float, Field(strict=True, ge=-180, le=180,
                             description="Longitude, EPSG:4326 degrees")]
Lat = Annotated[float, Field(strict=True, ge=-90, le=90,
                             description="Latitude, EPSG:4326 degrees")]
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$",
                          description="Record id")]
Key = Annotated[str, Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$",
                           description="Idempotency key, new per attempt (client-generated)")]
Lang = Annotated[str, Field(pattern=r"^[a-z]{2,3}$", description="ISO 639 language code")]
Word = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_ -]+$")]


class Body(BaseModel):
    """Base of every request model: no unknown fields, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class Needs(Body):
    """A client's needs for a bed or a service (None/False do not restrict)."""

    bed_type: BedType | None = None
    gender: Gender | None = None
    age: Annotated[int, Field(ge=0, le=130)] | None = None
    family: bool = False
    language: Lang | None = None
    wheelchair: bool = False
    pets: bool = False
    service: Word | None = None
    walk_in: bool = False


class BedSearch(Needs):
    """Where the client is and what they need; ``bed_type`` (or ``family``) is required."""

    lon: Lon
    lat: Lat
    k: Annotated[int, Field(ge=1, le=10)] = 3
    max_time_min: Annotated[float, Field(gt=0, le=240)] = 30.0
    #: Leave out sites whose count is stale (by default they come after the matches).
    fresh_only: bool = False


class ServiceSearch(Needs):
    """Where the client is and which care they need (clinics, hospitals, crisis units)."""

    lon: Lon
    lat: Lat
    kinds: Annotated[list[CareKind], Field(max_length=len(CARE_KINDS))] = []
    k: Annotated[int, Field(ge=1, le=10)] = 3
    max_time_min: Annotated[float, Field(gt=0, le=240)] = 30.0


#: A caseworker's case reference: letters, digits and a few separators (no name needed).
CLIENT_REF = r"^[A-Za-z0-9_.:#/ -]*$"


class HoldCreate(Body):
    """Hold one bed of a type at a shelter; a case reference or episode opens or links one."""

    resource_id: Id
    bed_type: BedType
    idempotency_key: Key | None = None
    client_ref: Annotated[str, Field(max_length=64, pattern=CLIENT_REF,
                                     description="Case reference (no name): opens the "
                                                 "client's referral episode")] = ""
    episode_id: Annotated[Id | None, Field(description="An episode in search to link "
                                                       "instead")] = None


Count = Annotated[int, Field(ge=0, le=100_000)]


class BedCountBody(Body):
    """Staff's count of one bed type: free beds are derived, never typed."""

    capacity: Count
    occupied: Count
    out_of_service: Count = 0


class BedReport(Body):
    """A shelter's report: every bed type it counts, its status and a note."""

    counts: Annotated[dict[BedType, BedCountBody], Field(min_length=1, max_length=5)]
    status: SiteStatus | None = None
    note: Annotated[str, Field(max_length=500)] | None = None
    reported_at: Annotated[AwareDatetime | None, Field(
        description="When the counts were taken (not in the future); null: now")] = None


class HoldQuery(Body):
    """Which holds: mine, my site's (shelter staff) or all (admins)."""

    scope: Literal["mine", "site", "all"] = "mine"


class SiteFreshness(Body):
    """A shelter's own freshness window; null goes back to the setting's."""

    fresh_hours: Annotated[float, Field(gt=0, le=24 * 366,
                                        description="Hours a count stays fresh")] | None


class EpisodeCreate(Body):
    """A new referral episode: the caseworker's case reference, never a name."""

    client_ref: Annotated[str, Field(min_length=1, max_length=64, pattern=CLIENT_REF)]
    note: Annotated[str, Field(max_length=500)] = ""


class EpisodeMove(Body):
    """One step of an episode (the state machine says which are allowed)."""

    state: EpisodeState
    hold_id: Id | None = None
    transport: Transport | None = None
    eta: AwareDatetime | None = None
    note: Annotated[str, Field(max_length=500)] | None = None


class HotlineQuery(Body):
    """A place, and optionally the language and channel needed."""

    lon: Lon
    lat: Lat
    language: Lang | None = None
    channel: Channel | None = None
    crisis: bool = Field(False, description="A person in crisis: the 988 Lifeline first")


class GeocodeQuery(Body):
    """An address typed in an address box (house number and street)."""

    q: Annotated[str, Field(min_length=1, max_length=200,
                            description="House number and street, e.g. 77 S High St")]
    limit: Annotated[int, Field(ge=1, le=10)] = 5


class ResourceQuery(Body):
    """Optional filter by resource kind."""

    kind: ResourceKind | None = None


class IncidentQuery(Body):
    """Incident statuses to list (default: open and assigned)."""

    status: IncidentStatus | None = None


# The intake questions come from the triage rules' own list (navigator.decide.triage).
if TYPE_CHECKING:
    IntakeAssessment = Body
else:
    IntakeAssessment = create_model(
        "IntakeAssessment", __base__=Body,
        __doc__="The intake questions (navigator.decide.triage): each answered yes or no.",
        **{q: (bool, False) for q in QUESTIONS}, language=(Lang | None, None))


class IncidentCreate(Body):
    """A new call for a mobile team; an ``assessment`` lets the triage rules set priority.

    Only an area known (988 georouting)? Give ``radius_m`` with ``lon``/``lat`` (a circle
    around them), or ``area`` (a GeoJSON Polygon / MultiPolygon or a Feature holding one,
    EPSG:4326) and no lon/lat.
    """

    # area first: the lon/lat check below reads it
    area: Annotated[dict[str, Any] | Annotated[str, Field(max_length=500_000)] | None, Field(
        description="The caller's area: GeoJSON Polygon/MultiPolygon (or a Feature; an object "
                    "or its text, as pasted), at most 50 km across")] = None
    radius_m: Annotated[float | None, Field(
        description="Radius of the caller's area around lon/lat, metres (0 < r <= 25000)")] = None
    lon: Annotated[Lon | None, Field(validate_default=True)] = None
    lat: Annotated[Lat | None, Field(validate_default=True)] = None
    crisis_type: CrisisType
    priority: Annotated[int, Field(ge=1, le=4, description="1 highest")] = 2
    needed_skills: Annotated[list[Word], Field(max_length=10)] = []
    needed_languages: Annotated[list[Lang], Field(max_length=5)] = []
    notes: Annotated[str, Field(max_length=500)] = ""
    assessment: IntakeAssessment | None = None

    @field_validator("radius_m", mode="before")
    @classmethod
    def _radius_not_a_boolean(cls, value: Any) -> Any:
        # the console sends the text typed ("500"), but true is not a radius (it was 1 m)
        if isinstance(value, bool):
            msg = "Input should be a number of metres, not a boolean"
            raise ValueError(msg)
        return value

    @field_validator("lon", "lat")
    @classmethod
    def _point_unless_area(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None and info.data.get("area") is None:
            msg = "Field required (a point is needed unless an area is given)"
            raise ValueError(msg)
        return value


class IncidentLocation(Body):
    """The exact place of an incident, refining its area (the area is cleared)."""

    lon: Lon
    lat: Lat


class IncidentStatusUpdate(Body):
    """Close (resolved, cancelled) or reopen an incident."""

    status: HandSetStatus


class RankRequest(Body):
    """Options of a team ranking."""

    include_returning: bool = False
    prefer_coverage: bool = False
    skill_policy: SkillPolicy = "require"
    k: Annotated[int, Field(ge=1, le=10)] = 5


class AssignmentCreate(Body):
    """Send a team to an incident."""

    incident_id: Id
    team_id: Id
    idempotency_key: Key | None = None
    allow_returning: bool = False
    #: Send this team although the incident already has one on the way.
    backup: bool = False
    override_reason: Annotated[str | None, Field(
        max_length=500, description="Required to send a team lacking a needed skill or "
                                    "language (kept with the assignment, audited)")] = None


class PositionPingIn(Body):
    """One GPS fix: EPSG:4326 degrees and the device's time (ISO 8601 with offset)."""

    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    at: AwareDatetime


class PositionReport(Body):
    """A team's position: one ping (``lon``, ``lat``, ``at``) or a batch (``pings``)."""

    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    at: AwareDatetime | None = None
    pings: Annotated[list[PositionPingIn] | None, Field(min_length=1, max_length=500)] = None

    @model_validator(mode="after")
    def _one_form(self) -> PositionReport:
        single = (self.lon, self.lat, self.at)
        if self.pings is None and any(v is None for v in single):
            msg = "give lon, lat and at (one ping) or pings (a batch)"
            raise ValueError(msg)
        if self.pings is not None and any(v is not None for v in single):
            msg = "give either one ping (lon, lat, at) or pings, not both"
            raise ValueError(msg)
        return self

    def all_pings(self) -> list[PositionPingIn]:
        """Return the pings of either form."""
        if self.pings is not None:
            return list(self.pings)
        if self.lon is None or self.lat is None or self.at is None:  # _one_form refuses it
            msg = "give lon, lat and at (one ping) or pings (a batch)"
            raise ValueError(msg)
        return [PositionPingIn(lon=self.lon, lat=self.lat, at=self.at)]


class AssignmentFinish(Body):
    """Complete (team returning) or cancel (team available again) an assignment."""

    status: AssignmentEnding


class TeamStatusUpdate(Body):
    """A team's new status (en route, on scene, returning, available, off duty)."""

    status: TeamStatus


class CheckIn(Body):
    """A team's safety check-in (or a dispatcher's acknowledgement of its overdue alert)."""

    note: str = Field("", max_length=500)


class EventsQuery(Body):
    """The change version a console last saw (browsers send ``Last-Event-ID`` instead)."""

    since: str | None = Field(None, max_length=18, pattern=r"^[0-9]+$")


class ComplianceQuery(Body):
    """The period (default: the last 12 hours), default targets per priority, and the format.

    Times without a UTC offset are local time in the store's area (what a date-time picker
    sends).
    """

    start: datetime | None = None
    end: datetime | None = None
    targets: str | None = Field(None, max_length=80, description="minutes per priority for "
                                "incidents outside every compliance area, e.g. 1=15,2=30 "
                                "(defaults 1=20,2=30,3=60,4=120)")
    format: Literal["json", "csv"] = "json"


class ComplianceAreasImport(Body):
    """Compliance areas as GeoJSON (every feature a polygon with name, class, targets_s)."""

    geojson: Annotated[dict[str, Any], Field(
        description="GeoJSON Feature or FeatureCollection, EPSG:4326, of Polygon / "
                    "MultiPolygon features with properties name, class, targets_s (seconds "
                    'per priority 1-4, e.g. {"1": 900, "2": 1800, "3": 3600, "4": 7200}) and '
                    "an optional id")]
    replace: bool = False


class PlanRequest(Body):
    """Pair open incidents with teams (nothing is written)."""

    objective: Objective = "total"
    include_returning: bool = False
    skill_policy: SkillPolicy = "require"
    incident_ids: Annotated[list[Id], Field(max_length=100)] | None = None


class IsochroneRequest(Body):
    """Areas reachable from (or reaching) a point within the given minutes."""

    lon: Lon
    lat: Lat
    minutes: Annotated[list[Annotated[float, Field(gt=0, le=120)]],
                       Field(min_length=1, max_length=4)] = [10.0, 20.0, 30.0]
    direction: Direction = "from"


Minutes = Annotated[float, Field(gt=0, le=120, description="Minutes")]


class Point(Body):
    """A point, EPSG:4326."""

    lon: Lon
    lat: Lat


class Scenario(Body):
    """Which facilities serve: a kind, open at a moment, shelters with beds of a type."""

    kind: FacilityKind = FacilityKind.TEAM_BASES
    at: Annotated[AwareDatetime | None, Field(
        description="Moment (ISO 8601 with offset, years 2000-2100): places open then, teams "
                    "on shift then; null: every place")] = None
    bed_type: Annotated[BedType | None, Field(description="Shelters only")] = None
    free_beds: Annotated[bool, Field(description="Shelters only: with a free bed now")] = False
    closed: Annotated[list[Id], Field(max_length=50)] = []

    @field_validator("at")
    @classmethod
    def _plausible_moment(cls, v: datetime | None) -> datetime | None:
        if v is not None and not 2000 <= v.year <= 2100:
            msg = "at must fall in the years 2000-2100"
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _beds_for_shelters(self) -> Scenario:
        if (self.bed_type is not None or self.free_beds) and self.kind != FacilityKind.SHELTERS:
            msg = "bed_type and free_beds apply to kind 'shelters' only"
            raise ValueError(msg)
        return self


class CoverageRequest(Scenario):
    """Travel time to the nearest facility, people covered per target, gaps beyond a target."""

    target_min: Annotated[Minutes, Field(description="Gap target, minutes")] = 15.0
    targets_min: Annotated[list[Minutes], Field(min_length=1, max_length=3)] = [15.0, 30.0,
                                                                                 60.0]
    resolution: Annotated[int, Field(ge=7, le=9, description="H3 resolution")] = 8
    max_gaps: Annotated[int, Field(ge=1, le=50)] = 10


class CoverageExportRequest(CoverageRequest):
    """The coverage of a scenario as a file: every layer (GeoPackage), hexes or units."""

    format: Annotated[Literal["gpkg", "geojson", "csv"], Field(
        description="gpkg: hexes, block groups, gaps and facilities as layers; geojson: the "
                    "hexes; csv: the block groups (lon/lat of a point inside each)")] = "gpkg"


class CompareRequest(Scenario):
    """A baseline scenario and a change: facilities closed, bases added at points."""

    close: Annotated[list[Id], Field(max_length=10)] = []
    add: Annotated[list[Point], Field(max_length=10)] = []
    targets_min: Annotated[list[Minutes], Field(min_length=1, max_length=3)] = [15.0, 30.0,
                                                                                 60.0]
    #: Compare the network without road closures (baseline) against with them (scenario).
    closures: bool = False


class RecommendRequest(Scenario):
    """Location-allocation: k new sites among candidate public facilities."""

    k: Annotated[int, Field(ge=1, le=10)] = 3
    target_min: Minutes = 15.0
    model: SitingModel = "mclp"
    candidates: Annotated[list[ResourceKind], Field(min_length=1, max_length=len(ResourceKind))
                          ] = [ResourceKind.CLINIC, ResourceKind.HOSPITAL]
    busy: Annotated[dict[Annotated[str, Field(min_length=1, max_length=128)],
                         Annotated[float, Field(ge=0.0, lt=1.0)]],
                    Field(max_length=50, description="mexclp: busy fraction per existing base "
                                                     "or candidate site (id or name), each in "
                                                     "[0, 1)")] = {}
    busy_from: Annotated[dict[str, Any] | None, Field(
        description="mexclp: a saved `navigator simulate --json` result of this store; each "
                    "base in service takes its simulated busy fraction (busy wins)")] = None
    busy_policy: Annotated[DispatchPolicy | None, Field(
        description="busy_from: the simulated policy to take (default: the run's first)")] = None


class ShiftRow(Body):
    """One shift of the simulator's table: local hours and teams on duty."""

    name: Word = "shift"
    start_h: Annotated[float, Field(ge=0, le=24, description="Start, hour of the day")]
    end_h: Annotated[float, Field(ge=0, le=24, description="End (before start: overnight)")]
    teams: Annotated[int, Field(ge=1, le=500)]


class SimulateRequest(Body):
    """Dispatch policies compared on a synthetic call stream or a CSV of past calls."""

    policies: Annotated[list[DispatchPolicy], Field(min_length=1, max_length=len(DispatchPolicy))
                        ] = list(DispatchPolicy)
    days: Annotated[float, Field(gt=0, le=90, description="Days of synthetic calls")] = 30.0
    calls_per_day: Annotated[float, Field(gt=0, le=500)] = 50.0
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 7
    teams: Annotated[int | None, Field(ge=1, le=500, description="First N of the teams")] = None
    shifts: Annotated[list[ShiftRow] | None, Field(min_length=1, max_length=12)] = None
    target_min: Annotated[float, Field(gt=0, le=1440, description="Response target")] = 30.0
    slack_min: Annotated[float, Field(ge=0, le=60)] = 3.0
    batch_every_min: Annotated[float, Field(ge=0.5, le=60)] = 5.0
    incidents_csv: Annotated[str | None, Field(
        max_length=900_000, description="CSV of past calls (time, lon, lat, priority, type, "
                                         "on_scene_min) instead of synthetic calls")] = None

    @model_validator(mode="after")
    def _bounded(self) -> SimulateRequest:
        if self.incidents_csv is None and self.days * self.calls_per_day > 5_000:
            msg = "days x calls_per_day must stay within 5000 calls on the web (use the CLI)"
            raise ValueError(msg)
        return self


class UserCreate(Body):
    """A new account (admins only)."""

    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
    role: Role
    password: Annotated[str, Field(min_length=10, max_length=256)]


class Secrets(BaseModel):
    """Base of bodies carrying passwords or codes: no unknown fields, nothing stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PasswordChange(Secrets):
    """The current password and the new one (at least 10 characters)."""

    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: Annotated[str, Field(min_length=10, max_length=1024)]


class PasswordCheck(Secrets):
    """The account's password, confirming a sensitive change (enrolling TOTP)."""

    password: Annotated[str, Field(min_length=1, max_length=1024)]


class TotpCode(Secrets):
    """A six-digit TOTP code."""

    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class UserDisabled(Body):
    """Whether an account is disabled (disabling ends all its sessions)."""

    disabled: bool


class ClosureCreate(Body):
    """Close roads: a GeoJSON Polygon/LineString (or Feature, FeatureCollection), why, until."""

    geojson: Annotated[dict[str, Any], Field(
        description="GeoJSON Geometry, Feature or FeatureCollection, EPSG:4326: a polygon "
                    "closes every road it touches, a line the roads along it")]
    reason: Annotated[str, Field(max_length=CLOSURE_REASON_MAX)] = ""
    starts_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None


class ClosureQuery(Body):
    """Which closures to list."""

    include_inactive: bool = False


class SegmentQuery(Body):
    """A point near a road: the segment a dispatcher picks to close."""

    lon: Lon
    lat: Lat


class AuditQuery(Body):
    """How many audit entries to return (newest first), optionally of one action."""

    limit: Annotated[int, Field(ge=1, le=500)] = 100
    action: Word | None = None


class ErrorBody(BaseModel):
    """Every error response."""

    error: str
    message: str
    details: list[dict[str, object]] = []
    request_id: str | None = Field(None, description="Quote it when reporting a problem")


# -- disasters: surge shelters and evacuee placement ----------------------------------------
if TYPE_CHECKING:
    SurgeNeed = BedType
    PlacementMethod = str
else:
    SurgeNeed = one_of(n.value for n in SURGE_NEEDS)
    PlacementMethod = one_of((*PLACEMENT_METHODS, "both"))


class SurgeActivation(Body):
    """Activate a surge shelter: when it opens (default now) and why."""

    opens_at: Annotated[AwareDatetime | None, Field(
        description="When it opens for evacuees (ISO 8601 with offset); null: now")] = None
    note: Annotated[str, Field(max_length=500, description="Why, e.g. the incident")] = ""


class SurgeDeactivation(Body):
    """Deactivate a surge shelter, and why."""

    note: Annotated[str, Field(max_length=500)] = ""


class EvacuationRequest(Body):
    """An evacuation zone (GeoJSON polygon) or a households CSV, and the methods to run."""

    zone: Annotated[dict[str, Any] | None, Field(
        description="GeoJSON Polygon / MultiPolygon (or a Feature / FeatureCollection of "
                    "one), EPSG:4326")] = None
    households_csv: Annotated[str | None, Field(
        max_length=2_000_000, description="CSV text: lon, lat, size, need (id optional)")] = None
    method: PlacementMethod = "both"
    shares: Annotated[dict[SurgeNeed, Annotated[float, Field(ge=0, le=1)]] | None, Field(
        description="Share of a zone's people per need (adds up to 1)")] = None

    @model_validator(mode="after")
    def _one_source(self) -> EvacuationRequest:
        if (self.zone is None) == (self.households_csv is None):
            msg = "give zone or households_csv, not both or neither"
            raise ValueError(msg)
        return self
