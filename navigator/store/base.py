"""The store contract every backend (PostGIS, embedded GeoPackage) fulfils."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from navigator.config import RegionDefinition
    from navigator.model import (
        Assignment,
        AssignmentStatus,
        AuditEntry,
        BedType,
        Bundle,
        Closure,
        ComplianceArea,
        Episode,
        EpisodeState,
        Hold,
        HoldResponse,
        Hotline,
        Incident,
        IncidentStatus,
        PositionPing,
        PositionUpdate,
        ReportVia,
        Resource,
        ResourceKind,
        SiteBeds,
        SurgeSite,
        Team,
        TeamStatus,
    )
    from navigator.store.audit import AuditVerification
    from navigator.store.logins import ThrottlePolicy
    from navigator.store.registry import SiteReport
    from navigator.store.sessions import LoginSession, SessionGuard
    from navigator.store.users import User

#: Columns of :meth:`Store.resources` besides ``geometry`` (EPSG:4326 points).
RESOURCE_COLUMNS = (
    "id", "kind", "name", "address", "phone", "opening_hours", "services", "walk_in",
    "eligibility", "languages", "wheelchair", "pets", "confidential", "intake_phone",
    "meeting_point_lon", "meeting_point_lat", "synthetic", "source",
)
#: Columns of :meth:`Store.beds`.
BED_COLUMNS = ("resource_id", "bed_type", "capacity", "free")
#: Columns of :meth:`Store.teams` besides ``geometry`` (current position).
TEAM_COLUMNS = ("id", "name", "base_id", "status", "skills", "languages", "shift_start",
                "shift_end", "synthetic", "source", "updated_at", "position_at")
#: Columns of :meth:`Store.incidents` besides ``geometry``.
INCIDENT_COLUMNS = ("id", "crisis_type", "priority", "needed_skills", "needed_languages",
                    "status", "created_at", "updated_at", "notes", "synthetic",
                    "area_radius_m")
#: Columns of :meth:`Store.hotlines` besides ``geometry`` (service area, None = nationwide).
HOTLINE_COLUMNS = ("id", "name", "phone", "channels", "languages", "opening_hours",
                   "text_number", "chat_url", "synthetic", "source")


@dataclass(frozen=True)
class SearchSites:
    """The rows a search decides on, decoded as :func:`navigator.store.rows.records` does.

    Attributes
    ----------
    resources
        One dict per resource of the kinds asked for, ordered by id:
        :data:`~navigator.store.base.RESOURCE_COLUMNS` plus ``lon`` and ``lat``
        (EPSG:4326 degrees).
    beds
        The live registry rows of those resources
        (:data:`~navigator.store.rows.REGISTRY_COLUMNS`), by resource, position and bed
        type; empty unless the registry was asked for.
    sites
        Their site status rows (:data:`~navigator.store.rows.SITE_COLUMNS`) that exist;
        empty unless the registry was asked for.
    """

    resources: tuple[dict[str, Any], ...]
    beds: tuple[dict[str, Any], ...] = ()
    sites: tuple[dict[str, Any], ...] = ()


class Store(Protocol):
    """What Navigator needs from a store; both backends pass one contract test suite.

    Collections come back as GeoDataFrames in EPSG:4326 (list-valued columns such as
    ``languages`` hold Python tuples; ``eligibility`` holds a dict; datetimes are
    timezone-aware UTC, kept to the millisecond, the GeoPackage DATETIME precision).
    A search's hot path reads plain decoded rows instead (:meth:`search_sites`).
    Single records come back as the frozen dataclasses of :mod:`navigator.model`; hotline
    areas come back as MultiPolygons (a Polygon is stored as a one-part MultiPolygon).
    Every write appends to the audit log in the same transaction; the log is append-only
    and hash-chained (:meth:`verify_audit`).
    Errors are :class:`~navigator.errors.NavigatorError` subclasses: ``NotFoundError`` for
    unknown ids, ``ConflictError`` for lost races, ``ValidationError`` for bad values,
    ``StoreError`` for anything the database refuses.
    """

    url: str

    # -- lifecycle ---------------------------------------------------------------------------
    def migrate(self) -> int:
        """Create or upgrade the schema; return the schema version now in force."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    def ping(self) -> bool:
        """Return whether the store answers now, within about a second; never raises.

        For a health check (``/api/health``): False while the database is down.
        """
        ...

    def counts(self) -> dict[str, int]:
        """Return the number of rows per table (resources, beds, hotlines, teams, ...)."""
        ...

    # -- region ------------------------------------------------------------------------------
    def region(self) -> RegionDefinition | None:
        """Return the region recorded by ``navigator region init`` (None when none is)."""
        ...

    def set_region(self, definition: RegionDefinition, *, actor: str) -> None:
        """Record (or replace) the store's region, with an audit entry."""
        ...

    # -- bulk load ---------------------------------------------------------------------------
    def load(self, bundle: Bundle, *, actor: str, replace: bool = False) -> dict[str, int]:
        """Insert every record of ``bundle`` in one transaction; all or nothing.

        With ``replace``, first delete everything but the audit log. An id that already
        exists is updated in place (upsert; a resource's beds are replaced by the bundle's).
        Duplicate ids within the bundle, or a team whose ``base_id`` names no ``team_base``
        resource in the bundle or the store, raise ``ValidationError`` and change nothing.
        Returns counts per kind.
        """
        ...

    # -- reads -------------------------------------------------------------------------------
    def resources(self, *, kinds: Sequence[ResourceKind] | None = None,
                  bbox: tuple[float, float, float, float] | None = None,
                  include_confidential: bool = True) -> gpd.GeoDataFrame:
        """Return resources (one row each) optionally filtered by kind and lon/lat bbox."""
        ...

    def resource(self, resource_id: str) -> Resource:
        """Return one resource with its beds; ``NotFoundError`` if unknown."""
        ...

    def beds(self, resource_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Return bed counts (:data:`BED_COLUMNS`), one row per resource and bed type."""
        ...

    def hotlines(self) -> gpd.GeoDataFrame:
        """Return every hotline with its service area geometry (None = nationwide)."""
        ...

    def hotline(self, hotline_id: str) -> Hotline:
        """Return one hotline; ``NotFoundError`` if unknown."""
        ...

    def teams(self, *, statuses: Sequence[TeamStatus] | None = None) -> gpd.GeoDataFrame:
        """Return teams at their current positions, optionally filtered by status."""
        ...

    def team(self, team_id: str) -> Team:
        """Return one team; ``NotFoundError`` if unknown."""
        ...

    def incidents(self, *, statuses: Sequence[IncidentStatus] | None = None
                  ) -> gpd.GeoDataFrame:
        """Return incidents, optionally filtered by status.

        Columns :data:`INCIDENT_COLUMNS`, ``geometry`` (the point) and ``area`` (a GeoJSON
        geometry dict for an area incident, None for a point incident).
        """
        ...

    def incident(self, incident_id: str) -> Incident:
        """Return one incident; ``NotFoundError`` if unknown."""
        ...

    def hold(self, hold_id: str) -> Hold:
        """Return one bed hold (``free_beds`` read now); ``NotFoundError`` if unknown."""
        ...

    def assignments(self, *, active_only: bool = False) -> pd.DataFrame:
        """Return assignments, newest first."""
        ...

    def audit_log(self, *, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
        """Return the newest audit entries first."""
        ...

    def verify_audit(self) -> AuditVerification:
        """Check the audit log's hash chain; report the first broken entry and why.

        Each entry's ``hash`` covers its fields and the ``hash`` of the entry before it (see
        :mod:`navigator.store.audit`), so a changed, deleted, inserted or reordered entry is
        found. Entries from before the chain existed are counted as ``unchained``.
        """
        ...

    # -- guarded writes ----------------------------------------------------------------------
    def add_incident(self, incident: Incident, *, actor: str) -> Incident:
        """Insert a new incident (``ConflictError`` if the id exists); return it as stored."""
        ...

    def set_incident_status(self, incident_id: str, status: IncidentStatus, *,
                            actor: str) -> Incident:
        """Move an incident to ``status``; return it."""
        ...

    def set_incident_location(self, incident_id: str, *, lon: float, lat: float,
                              actor: str) -> Incident:
        """Set an open or assigned incident's exact point and clear its area (audited)."""
        ...

    def set_beds(self, resource_id: str, bed_type: BedType, *, capacity: int, free: int,
                 actor: str) -> None:
        """Set the capacity and free count of one bed type at a shelter."""
        ...

    def update_team(self, team_id: str, *, actor: str, status: TeamStatus | None = None,
                    lon: float | None = None, lat: float | None = None) -> Team:
        """Change a team's status and/or position (validated); return it."""
        ...

    def report_positions(self, team_id: str, pings: Sequence[PositionPing], *,
                         actor: str) -> PositionUpdate:
        """Move a team to its newest ping unless the stored fix is as new; late pings ignored."""
        ...

    def hold_bed(self, resource_id: str, bed_type: BedType, *, actor: str, ttl_s: float,
                 idempotency_key: str | None = None, client_ref: str = "",
                 now: datetime | None = None, session: SessionGuard | None = None) -> Hold:
        """Take one free bed in one short transaction (guarded decrement).

        Expired holds are returned to the pool first. A repeated ``idempotency_key`` returns
        the hold it made before and takes no second bed. ``ConflictError`` when no bed of
        that type is free; ``NotFoundError`` for an unknown resource or bed type;
        ``SessionEndedError`` (nothing taken, nothing replayed) when ``session`` is given
        and the login session it guards is over.

        The hold's ``free_beds`` is the resource's free beds of that type read inside the
        same transaction, so a caller reporting it needs no second read after the commit
        (confirm and release likewise).
        """
        ...

    def confirm_hold(self, hold_id: str, *, actor: str, now: datetime | None = None) -> Hold:
        """Mark a held bed as taken by the client (it stays taken).

        ``ConflictError`` if the hold is no longer ``held`` (expired, released or confirmed).
        """
        ...

    def release_hold(self, hold_id: str, *, actor: str, now: datetime | None = None) -> Hold:
        """Give a held bed back; ``ConflictError`` if the hold is no longer ``held``."""
        ...

    def expire_holds(self, *, now: datetime | None = None) -> int:
        """Return expired holds' beds to the pool; return how many holds expired."""
        ...

    def assign_team(self, team_id: str, incident_id: str, *, actor: str,
                    eta_s: float | None = None, idempotency_key: str | None = None,
                    allowed_statuses: Sequence[TeamStatus] | None = None,
                    backup: bool = False, override_reason: str = "") -> Assignment:
        """Send a team to an incident atomically.

        The team must be in ``allowed_statuses`` (default: available) and have no active
        assignment (partial unique index); it becomes ``en_route`` and the incident
        ``assigned``. A second dispatcher assigning the same team gets ``ConflictError``, and
        so does one sending a second team to an incident already assigned unless ``backup``.
        A repeated ``idempotency_key`` returns the earlier assignment.
        """
        ...

    def finish_assignment(self, assignment_id: str, *, actor: str,
                          status: AssignmentStatus) -> Assignment:
        """Complete or cancel an active assignment, freeing the team for another.

        Completed: the team becomes ``returning``; cancelled: ``available``. When the last
        team comes off the incident, it is ``resolved`` if any team completed it, ``open``
        again otherwise; while another team is still assigned, it stays ``assigned``.
        ``ConflictError`` if the assignment is no longer active.
        """
        ...

    def record(self, action: str, *, actor: str, subject: str = "",
               inputs: dict[str, Any] | None = None,
               result: dict[str, Any] | None = None) -> None:
        """Append a decision (no data change) to the audit log."""
        ...

    # -- the live console: change counters and check-ins (navigator.store.changes) -------------
    def wait_for_change(self, since: int, *, timeout_s: float, poll_s: float = 0.05,
                        topic: str = "dispatch") -> int:
        """Return ``topic``'s change counter once it differs from ``since`` (or on timeout).

        PostGIS wakes on LISTEN/NOTIFY as the writing transaction commits (polling every
        ``poll_s`` seconds only while its listening connection is down); the GeoPackage
        reads the counter every ``poll_s`` seconds. ``StoreError`` if the store stops
        answering.
        """
        ...

    def change_version(self, topic: str = "dispatch") -> int:
        """Return ``topic``'s change counter: it grows with every committed write of the topic.

        One indexed row, cheap to poll from any process (``dispatch``: incidents, teams,
        positions, assignments, check-ins). ``ValidationError`` for an unknown topic.
        """
        ...

    def team_checkins(self) -> pd.DataFrame:
        """Return every team on scene with its check-in times (``CHECKIN_COLUMNS``)."""
        ...

    def check_in(self, team_id: str, *, actor: str, note: str = "",
                 acknowledge: bool = False) -> None:
        """Record a team's safety check-in, or a dispatcher's acknowledgement of its alert.

        ``ConflictError`` (nothing written) unless the team is on scene.
        """
        ...

    # -- the live bed registry (navigator.store.registry) ---------------------------------------
    def report_beds(self, report: SiteReport, *, actor: str,
                    via: ReportVia | str = ...) -> SiteBeds:
        """Apply one site's staff report (capacity, occupied, out of service per bed type).

        Free beds are derived in the same statement, ``max(0, capacity - occupied -
        out_of_service - held - confirmed)``: staff count people in beds, active holds come on
        top, and the report resets the holds confirmed since the last one (their clients are
        among the occupied now). ``ValidationError`` (nothing written) for bad counts, a bed
        type the site does not list, a future date; ``ConflictError`` if a newer staff report
        is in force.
        """
        ...

    def report_census(self, reports: Sequence[SiteReport], *, actor: str,
                      via: ReportVia | str = ...) -> list[SiteBeds]:
        """Apply several reports in one transaction, all or none (errors carry each label)."""
        ...

    def site_beds(self, resource_id: str) -> SiteBeds:
        """Return a shelter's registry entry: status, note, window and each bed type."""
        ...

    def set_fresh_hours(self, resource_id: str, hours: float | None, *, actor: str) -> None:
        """Give a site its own freshness window in hours (None: the setting)."""
        ...

    def bed_counts(self, resource_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Return the registry rows (``navigator.store.rows.REGISTRY_COLUMNS``), live."""
        ...

    def bed_sites(self, resource_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Return site status rows (``navigator.store.rows.SITE_COLUMNS``) that exist."""
        ...

    def search_sites(self, kinds: Sequence[ResourceKind], *, registry: bool) -> SearchSites:
        """Return the resources of ``kinds`` and, with ``registry``, their live beds and sites.

        Rows as decoded dicts, read in one transaction: a search's hot path.
        """
        ...

    def set_surge_active(self, resource_id: str, active: bool, *, actor: str,
                         opens_at: datetime | None = None, note: str = "") -> SurgeSite:
        """Activate or deactivate a surge (evacuation) shelter; audited."""
        ...

    def surge_sites(self, resource_ids: Iterable[str] | None = None) -> dict[str, SurgeSite]:
        """Return each surge shelter's activation by resource id (inactive if never set)."""
        ...

    def set_user_sites(self, username: str, resource_ids: Sequence[str], *,
                       actor: str) -> tuple[str, ...]:
        """Replace the shelters an account reports for."""
        ...

    def user_sites(self, username: str) -> tuple[str, ...]:
        """Return the shelters an account reports for."""
        ...

    def holds(self, *, actor: str | None = None, resource_ids: Iterable[str] | None = None,
              active_only: bool = True, now: datetime | None = None) -> list[Hold]:
        """Return holds by actor and/or site, newest first (expired ones returned first)."""
        ...

    def respond_hold(self, hold_id: str, response: HoldResponse | str, *, actor: str,
                     now: datetime | None = None) -> Hold:
        """Record a shelter's accept or decline; ``ConflictError`` if already answered."""
        ...

    # -- referral episodes (navigator.store.episodes) ------------------------------------------
    def add_episode(self, client_ref: str, *, actor: str, note: str = "",
                    now: datetime | None = None) -> Episode:
        """Open an episode in state ``search``."""
        ...

    def episode(self, episode_id: str) -> Episode:
        """Return one episode; ``NotFoundError`` if unknown."""
        ...

    def episodes(self, *, open_only: bool = True, resource_ids: Iterable[str] | None = None,
                 actor: str | None = None, client_ref: str | None = None) -> list[Episode]:
        """Return episodes, oldest first (``client_ref``: of that case reference only)."""
        ...

    def move_episode(self, episode_id: str, state: EpisodeState | str, *, actor: str,
                     changes: dict[str, Any] | None = None,
                     now: datetime | None = None) -> Episode:
        """Move an episode if the state machine allows it (``ConflictError`` naming the state)."""
        ...

    def link_hold_episode(self, hold_id: str, *, actor: str, client_ref: str | None = None,
                          episode_id: str | None = None,
                          now: datetime | None = None) -> Episode:
        """Return a hold's episode, linking ``episode_id`` or a new one once per hold."""
        ...

    # -- accounts (navigator.store.users) ----------------------------------------------------
    def add_user(self, username: str, role: str, password_hash: str, *, actor: str) -> User:
        """Add a web-app account (argon2 hash only); ``ConflictError`` if the name exists."""
        ...

    def user(self, username: str) -> User:
        """Return one account; ``NotFoundError`` if unknown."""
        ...

    def users(self) -> list[User]:
        """Return every account, by username."""
        ...

    def set_password(self, username: str, password_hash: str, *, actor: str,
                     keep_session: str | None = None, now: datetime | None = None) -> int:
        """Replace the password hash and revoke every other session, in one transaction.

        ``keep_session`` (a session id) stays valid; returns the sessions revoked.
        """
        ...

    def set_user_disabled(self, username: str, disabled: bool, *, actor: str,
                          now: datetime | None = None) -> User:
        """Disable or enable an account; disabling revokes all its sessions at once."""
        ...

    def begin_totp(self, username: str, secret: str, *, actor: str) -> None:
        """Store a TOTP secret awaiting its first code; ``ConflictError`` if TOTP is on."""
        ...

    def enable_totp(self, username: str, *, step: int, actor: str) -> bool:
        """Turn TOTP on (first code of time ``step`` matched); False if none was pending."""
        ...

    def reset_totp(self, username: str, *, actor: str) -> None:
        """Turn TOTP off and forget the secret."""
        ...

    def claim_totp_step(self, username: str, step: int) -> bool:
        """Mark the code of time ``step`` used; False if it or a later one was (replay)."""
        ...

    # -- sessions (navigator.store.sessions) -------------------------------------------------
    def add_session(self, sid: str, username: str, *, address: str = "",
                    now: datetime) -> LoginSession:
        """Start a session stored under ``sid`` (the SHA-256 of the cookie's token)."""
        ...

    def session(self, sid: str) -> tuple[LoginSession, User]:
        """Return a session and its user in one round trip; ``NotFoundError`` if unknown."""
        ...

    def check_session(self, guard: SessionGuard) -> None:
        """Raise ``SessionEndedError`` unless the guard's session is live (one read)."""
        ...

    def sessions(self, username: str) -> list[LoginSession]:
        """Return the user's sessions not revoked, newest first."""
        ...

    def touch_session(self, sid: str, *, now: datetime) -> None:
        """Record activity on a session (callers do it at most once a minute)."""
        ...

    def revoke_session(self, sid: str, *, now: datetime) -> bool:
        """End one session; return whether it was live."""
        ...

    def revoke_sessions(self, username: str, *, now: datetime, keep: str | None = None) -> int:
        """End every live session of ``username`` but ``keep``; return how many."""
        ...

    def prune_sessions(self, *, started_before: datetime, seen_before: datetime) -> int:
        """Delete sessions that are over (too old or idle); return how many."""
        ...

    # -- login throttle (navigator.store.logins) ---------------------------------------------
    def login_locked_until(self, username: str, address: str, *, now: datetime
                           ) -> datetime | None:
        """Return until when the account or the client address is locked, or None."""
        ...

    def login_failed(self, username: str, address: str, *, policy: ThrottlePolicy,
                     now: datetime) -> datetime | None:
        """Count a failed login against account and address (shared by every worker).

        Locks a key that reaches the policy's limit (one ``login_locked`` audit entry per
        lock, none per failure) and prunes expired rows; returns the lock in force, if any.
        """
        ...

    def login_succeeded(self, username: str) -> int:
        """Reset the account's failure counter; return the failures it held."""
        ...

    def unlock_login(self, scope: str, key: str, *, actor: str) -> bool:
        """Forget an account's (``scope="account"``) or address's failures and lock."""
        ...

    def login_throttles(self) -> list[dict[str, Any]]:
        """Return the failure counter rows (for admins and tests)."""
        ...

    def prune_login_throttle(self, *, now: datetime) -> int:
        """Delete counter rows whose memory expired; return how many."""
        ...

    # -- road closures (navigator.store.closures) --------------------------------------------
    def add_closure(self, geometry: Any, *, reason: str, actor: str,
                    starts_at: datetime | None = None, expires_at: datetime | None = None,
                    now: datetime | None = None,
                    details: dict[str, Any] | None = None) -> Closure:
        """Store a road closure (Polygon/MultiPolygon or LineString/MultiLineString, EPSG:4326).

        ``starts_at`` defaults to now; ``ValidationError`` (nothing written) for an invalid or
        out-of-range geometry, a missing or too long reason, an expiry not after the start.
        Audited as ``close_road`` (``details`` go to the audit entry).
        """
        ...

    def closure(self, closure_id: str) -> Closure:
        """Return one road closure; ``NotFoundError`` if unknown."""
        ...

    def closures(self, *, active_at: datetime | None = None) -> list[Closure]:
        """Return the closures in force at ``active_at`` (all when None), oldest first."""
        ...

    def lift_closure(self, closure_id: str, *, actor: str,
                     now: datetime | None = None) -> Closure:
        """Reopen a closure's roads (audited ``reopen_road``); ``ConflictError`` if lifted."""
        ...

    def closures_version(self) -> str:
        """Return a short text that changes whenever a closure is added or lifted (cheap)."""
        ...

    # -- compliance areas (navigator.store.areas) --------------------------------------------
    def add_compliance_areas(self, areas: Sequence[ComplianceArea], *, actor: str,
                             replace: bool = False) -> list[ComplianceArea]:
        """Store compliance areas all or nothing (``replace``: instead of those held).

        ``ValidationError`` for an invalid or non-polygon geometry or an id given twice,
        ``ConflictError`` for an id already held; audited ``import_compliance_areas``.
        """
        ...

    def compliance_areas(self) -> list[ComplianceArea]:
        """Return every compliance area, by id."""
        ...

    def delete_compliance_area(self, area_id: str, *, actor: str) -> ComplianceArea:
        """Delete one area (audited ``delete_compliance_area``); ``NotFoundError`` if unknown."""
        ...
