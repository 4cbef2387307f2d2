"""Run ``navigator`` commands in-process against one store, checking the exit code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from navigator.cli import main


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


def demo_store(graph: Any, folder: Path, *, seed: int = 5) -> str:
    """Return the path of a new GeoPackage in ``folder`` holding the demo city."""
    from navigator.demo.city import load_demo
    from navigator.store import open_store

    path = str(folder / "demo.gpkg")
    store = open_store(path)
    load_demo(store, graph, seed=seed)
    store.close()
    return path
