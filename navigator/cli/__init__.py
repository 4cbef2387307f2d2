"""The ``navigator`` command: one module per role's commands, parsed and rendered here."""

from __future__ import annotations

from navigator.cli.main import main, run

__all__ = ["main", "run"]
