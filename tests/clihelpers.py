"""Run ``navigator`` commands in-process against one demo store, checking the exit code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from navigator.cli import main
from navigator.demo.city import load_demo
from navigator.store import open_store


def demo_store(graph: object, folder: Path, *, seed: int = 3) -> str:
    """Return the path of a new GeoPackage store in ``folder`` holding the demo city."""
    path = str(folder / "demo.gpkg")
    store = open_store(path)
    load_demo(store, graph, seed=seed)  # type: ignore[arg-type]
    store.close()
    return path


def cli_runner(store_path: str, cache_dir: Path, capsys: pytest.CaptureFixture[str]
               ) -> Callable[..., str]:
    """Return ``run(command, *args, code=0)``: stdout on success, stderr on failure.

    The store options go last, so a command with actions (``compliance-areas import``)
    gets them too.
    """
    def run(*argv: str, code: int = 0) -> str:
        result = main([*argv, "--store", store_path, "--cache-dir", str(cache_dir)])
        out = capsys.readouterr()
        assert result == code, out.err
        assert "Traceback" not in out.err
        return out.out if code == 0 else out.err
    return run
