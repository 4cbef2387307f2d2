"""The versioned DDL files each store backend ships in ``navigator/store/migrations``."""

from __future__ import annotations

from importlib import resources as importlib_resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import re


def migration_files(pattern: re.Pattern[str]) -> list[tuple[int, str, str]]:
    """Return the migrations whose file name matches ``pattern``, in version order.

    Parameters
    ----------
    pattern
        File-name pattern whose first group is the four-digit version.

    Returns
    -------
    list of tuple
        ``(version, file name, SQL text)`` per migration, ascending by version.
    """
    folder = importlib_resources.files("navigator.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = pattern.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)
