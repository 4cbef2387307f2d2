"""One blueprint per role (and the login and shared routes); each imports only web's helpers."""

from __future__ import annotations

from web.pages import (
    admin,
    auth,
    caseworker,
    closures,
    compliance,
    dispatcher,
    evacuation,
    planner,
    referrals,
    shared,
    shelter,
    simulation,
)

#: Every blueprint the app registers, in order.
BLUEPRINTS = (shared.bp, auth.bp, admin.bp, dispatcher.bp, caseworker.bp, planner.bp,
              evacuation.bp, simulation.bp, shelter.bp, referrals.bp, closures.bp,
              compliance.bp)

__all__ = ["BLUEPRINTS"]
