"""Services: the one place that calls store -> roads -> decide in order and writes the audit.

One module per role (:mod:`~navigator.services.caseworker`, :mod:`~navigator.services.dispatcher`,
:mod:`~navigator.services.planner`), accounts, and the shared :mod:`~navigator.services.context`.
Views, CLI commands and notebooks call these functions and render what they return.
"""

from __future__ import annotations

from navigator.services.caseworker import (
    confirm_hold,
    find_beds,
    find_services,
    hold_bed,
    hotlines_for,
    release_hold,
)
from navigator.services.context import AreaContext, area_context, load_network
from navigator.services.dispatcher import (
    add_incident,
    assign_team,
    finish_assignment,
    plan_batch,
    rank_teams,
    update_team,
)

__all__ = [
    "AreaContext",
    "add_incident",
    "area_context",
    "assign_team",
    "confirm_hold",
    "find_beds",
    "find_services",
    "finish_assignment",
    "hold_bed",
    "hotlines_for",
    "load_network",
    "plan_batch",
    "rank_teams",
    "release_hold",
    "update_team",
]
