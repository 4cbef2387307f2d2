"""The project's packaging: environment.yml mirrors pyproject.toml; the CLI answers --help."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: PyPI name -> conda-forge name where they differ.
CONDA_NAMES = {"psycopg[binary]": "psycopg", "dask[distributed]": "dask"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~ ;]", req, maxsplit=1)[0].strip().lower()


def _pyproject_packages() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra, items in meta["optional-dependencies"].items():
        if extra != "all":
            reqs += items
    names = {CONDA_NAMES.get(_name(r), _name(r)) for r in reqs}
    return {n.split("[")[0] for n in names}


def _environment_packages() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names: set[str] = set()
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            name = _name(item.replace("=", "==", 1) if "=" in item and "==" not in item
                         and ">" not in item and "<" not in item else item)
            if name not in {"python", "pip", "-e"} and not item.startswith("-e"):
                names.add(name)
    return names - {"distributed"}


def test_environment_yml_mirrors_pyproject() -> None:
    assert _environment_packages() == _pyproject_packages()


def test_environment_yml_pins_python_311() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def _commands() -> list[str]:
    import argparse

    from navigator.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def test_cli_has_the_issue_commands() -> None:
    assert {"init-db", "demo", "import", "export", "build-network", "serve", "find-bed",
            "rank-teams", "assign", "hold"} <= set(_commands())


@pytest.mark.parametrize("command", [[], *([c] for c in _commands())])
def test_every_command_has_help(command: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", "navigator.cli", *command, "--help"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "usage: navigator" in out.stdout
