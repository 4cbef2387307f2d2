"""Services: the one place that calls store -> roads -> decide in order and writes the audit.

One module per role (:mod:`~navigator.services.caseworker`, :mod:`~navigator.services.dispatcher`,
:mod:`~navigator.services.planning` and :mod:`~navigator.services.new_sites` on the building
blocks of :mod:`~navigator.services.planner`, :mod:`~navigator.services.reports` and
:mod:`~navigator.services.siting`),
:mod:`~navigator.services.isochrones`, the live console
(:mod:`~navigator.services.console`), :mod:`~navigator.services.shelter` (bed reports), referral
episodes (:mod:`~navigator.services.referrals`), places by address
(:mod:`~navigator.services.places`), accounts, and the shared
:mod:`~navigator.services.context`. Views, CLI commands and notebooks call one of these
functions and render what it returns.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time each name is imported on its first use (__getattr__)
    from navigator.services.caseworker import (
        confirm_hold,
        find_beds,
        find_services,
        hold_bed,
        hotlines_for,
        release_hold,
    )
    from navigator.services.compliance import compliance_report, parse_targets, report_period
    from navigator.services.compliance_areas import (
        delete_compliance_area,
        import_compliance_areas,
        list_compliance_areas,
    )
    from navigator.services.console import (
        check_in,
        console_events,
        incident_board,
        safety_board,
        street_geocoder,
    )
    from navigator.services.context import AreaContext, area_context, load_network
    from navigator.services.dispatcher import (
        add_incident,
        assign_team,
        finish_assignment,
        plan_batch,
        rank_teams,
        report_positions,
        update_team,
    )
    from navigator.services.incident_area import locate_incident
    from navigator.services.isochrones import reachable_areas
    from navigator.services.new_sites import recommend_new_sites
    from navigator.services.places import find_places
    from navigator.services.planning import assess_coverage, compare_coverage, load_demand
    from navigator.services.referrals import (
        ReferralHold,
        board,
        hold_for_client,
        move_episode,
        open_episode,
    )
    from navigator.services.shelter import (
        answer_hold,
        holds_with_episodes,
        import_census,
        list_holds,
        my_sites,
        report_beds,
        set_site_freshness,
    )

#: Each role module and the names it gives the package. A module is imported on the first use
#: of one of its names, so a command pays for its own role only (``find-bed`` imports no
#: planner, compliance or console module); ``tests/test_layout.py`` checks this table against
#: the imports above.
_MODULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("caseworker", ("confirm_hold", "find_beds", "find_services", "hold_bed", "hotlines_for",
                    "release_hold")),
    ("compliance", ("compliance_report", "parse_targets", "report_period")),
    ("compliance_areas", ("delete_compliance_area", "import_compliance_areas",
                          "list_compliance_areas")),
    ("console", ("check_in", "console_events", "incident_board", "safety_board",
                 "street_geocoder")),
    ("context", ("AreaContext", "area_context", "load_network")),
    ("dispatcher", ("add_incident", "assign_team", "finish_assignment", "plan_batch",
                    "rank_teams", "report_positions", "update_team")),
    ("incident_area", ("locate_incident",)),
    ("isochrones", ("reachable_areas",)),
    ("new_sites", ("recommend_new_sites",)),
    ("places", ("find_places",)),
    ("planning", ("assess_coverage", "compare_coverage", "load_demand")),
    ("referrals", ("ReferralHold", "board", "hold_for_client", "move_episode", "open_episode")),
    ("shelter", ("answer_hold", "holds_with_episodes", "import_census", "list_holds", "my_sites",
                 "report_beds", "set_site_freshness")),
)
_HOME = {name: module for module, names in _MODULES for name in names}

__all__ = [
    "AreaContext",
    "ReferralHold",
    "add_incident",
    "answer_hold",
    "area_context",
    "assess_coverage",
    "assign_team",
    "board",
    "check_in",
    "compare_coverage",
    "compliance_report",
    "confirm_hold",
    "console_events",
    "delete_compliance_area",
    "find_beds",
    "find_places",
    "find_services",
    "finish_assignment",
    "hold_bed",
    "hold_for_client",
    "holds_with_episodes",
    "hotlines_for",
    "import_census",
    "import_compliance_areas",
    "incident_board",
    "list_compliance_areas",
    "list_holds",
    "load_demand",
    "load_network",
    "locate_incident",
    "move_episode",
    "my_sites",
    "open_episode",
    "parse_targets",
    "plan_batch",
    "rank_teams",
    "reachable_areas",
    "recommend_new_sites",
    "release_hold",
    "report_beds",
    "report_period",
    "report_positions",
    "safety_board",
    "set_site_freshness",
    "street_geocoder",
    "update_team",
]


def __getattr__(name: str) -> Any:
    """Return the public ``name``, importing its role module the first time."""
    module = _HOME.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Return the package's names, the lazy ones included (``dir()``, completion)."""
    return sorted({*globals(), *__all__})
