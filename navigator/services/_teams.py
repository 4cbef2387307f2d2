"""Shared by the dispatcher's services: which teams may go, and whether they fit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from navigator.model import TeamStatus

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime


def team_statuses(include_returning: bool) -> list[TeamStatus]:
    """Return the team statuses that may be sent (available, and returning if asked)."""
    return [TeamStatus.AVAILABLE, *([TeamStatus.RETURNING] if include_returning else [])]


def speaks(languages: Any, needed: tuple[str, ...]) -> bool:
    """Return whether a team speaks one of the needed languages (or none is needed)."""
    return not needed or bool(set(needed) & set(languages or ()))


def missing_fit(skills: Sequence[str], languages: Sequence[str], *,
                needed_skills: Sequence[str], needed_languages: Sequence[str]
                ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the needed skills a team lacks and the needed languages if it speaks none.

    A team fits when it has every needed skill and at least one needed language (the
    ranking's rule); both tuples are empty then.
    """
    have = set(skills or ())
    lacks_skills = tuple(s for s in needed_skills if s not in have)
    fits = speaks(languages, tuple(needed_languages))
    return lacks_skills, (() if fits else tuple(needed_languages))


def position_age(position_at: Any, now: datetime) -> float | None:
    """Return a team position's age, seconds (None: never fixed)."""
    if position_at is None or position_at != position_at:  # None or NaT
        return None
    return max(0.0, (now - position_at.to_pydatetime()).total_seconds())
