"""Notebooks run top to bottom offline with nbclient, on the venv's own kernel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _kernel_name() -> str:
    """Return a kernel spec that starts this interpreter, installing one if none exists."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix"],
                       check=True, capture_output=True)
        spec = KernelSpecManager().get_kernel_spec("python3")
    # jupyter_client runs a bare "python" as sys.executable; anything else must be this venv
    exe = spec.argv[0]
    assert exe in {"python", "python3"} or Path(exe).resolve() == Path(sys.executable).resolve()
    return "python3"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit notebooks without outputs")
    # the kernel inherits this environment: a throwaway network cache
    monkeypatch.setenv("NAVIGATOR_CACHE_DIR", str(tmp_path / "cache"))
    client = NotebookClient(nb, kernel_name=_kernel_name(), timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    data = [o.get("data", {}) for o in outputs]
    html = "\n".join(d.get("text/html", "") for d in data)
    CHECKS.get(path.name, lambda *_: None)(text, data, html)


def _coverage_study(text: str, data: list[dict], html: str) -> None:
    assert "people within 3 min" in text and "left out" in text
    assert any("image/png" in d for d in data)  # the matplotlib plot
    assert "leaflet" in html.lower() and "Infinity" not in html  # the folium map


def _simulate_policies(text: str, data: list[dict], html: str) -> None:
    for policy in ("closest", "coverage", "preempt", "batch"):
        assert f"{policy} " in text
    assert "within 15 min" in text and "within 60 min" in text  # both regions
    assert any("image/png" in d for d in data)  # the CDF and utilisation plots
    assert "leaflet" in html.lower() and "Infinity" not in html  # the difference map


def _busy_aware_siting(text: str, data: list[dict], html: str) -> None:
    assert "the busy-aware choice differs from MCLP" in text and "Optimal" in text
    assert any("image/png" in d for d in data)  # the plot


#: What each notebook's outputs (stream text, rich data, HTML) must show.
CHECKS = {"coverage_study.ipynb": _coverage_study,
          "simulate_policies.ipynb": _simulate_policies,
          "busy_aware_siting.ipynb": _busy_aware_siting}


def test_notebooks_found():
    assert {p.name for p in NOTEBOOKS} >= set(CHECKS)
