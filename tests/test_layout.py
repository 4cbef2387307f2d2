"""The layout docs/ARCHITECTURE.md promises: no import cycles, one-way rooms, few top modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Rooms in the order data flows; a room may import only from rooms before it (or itself).
#: The CLI comes last: ``navigator serve`` runs the web app.
FLOW = ("navigator.store", "navigator.roads", "navigator.exchange", "navigator.demo",
        "navigator.decide", "navigator.services", "navigator.maps", "web", "navigator.cli")
LEAVES = ("navigator.model", "navigator.errors", "navigator.config", "navigator.hours",
          "navigator.jsonsafe",
          "navigator")


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in ("navigator", "web"):
        for f in (ROOT / pkg).rglob("*.py"):
            rel = f.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            mods[".".join(parts)] = f
    return mods


def _imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Return each module's imported modules, function-local and TYPE_CHECKING ones too."""
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = name.split(".") if is_pkg else name.split(".")[:-1]
                    up = up[:len(up) - (node.level - 1)]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                # a module may import its own package's face (Python loads it first anyway)
                if t and t != name and not (mods[t].name == "__init__.py"
                                            and name.startswith(t + ".")):
                    edges[name].add(t)
    return edges


MODS = _modules()
EDGES = _imports(MODS)


def _room(module: str) -> str:
    return next((r for r in FLOW if module == r or module.startswith(r + ".")), module)


def test_no_import_cycles() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in EDGES[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in MODS:
        if v not in index:
            visit(v)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODS))
def test_imports_flow_one_way(module: str) -> None:
    room = _room(module)
    if room not in FLOW:
        assert module in LEAVES, f"{module} is neither a room nor a leaf module"
        allowed = set(LEAVES)
    else:
        allowed = set(LEAVES) | set(FLOW[:FLOW.index(room) + 1])
    backwards = sorted(t for t in EDGES[module] if _room(t) not in allowed
                       and t not in LEAVES)
    assert backwards == [], f"{module} ({room}) imports from later rooms: {backwards}"


def test_navigator_never_imports_the_web_app() -> None:
    for name, path in MODS.items():
        if name.startswith("navigator") and not name.startswith("navigator.cli"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                     for a in n.names}
            names |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
                      if isinstance(n, ast.ImportFrom) and not n.level}
            assert not names & {"flask", "web", "werkzeug"}, name


def test_pages_import_only_helpers() -> None:
    for name in MODS:
        if name.startswith("web.pages.") or name == "web.pages":
            other_pages = {t for t in EDGES[name] if t.startswith("web.pages.")}
            if name != "web.pages":
                assert other_pages == set(), f"{name} imports another page: {other_pages}"
            assert "web.app" not in EDGES[name]


def test_helpers_never_import_pages_or_the_factory() -> None:
    for name in MODS:
        if name.startswith("web.") and not name.startswith(("web.pages", "web.app")):
            assert not {t for t in EDGES[name] if t.startswith(("web.pages", "web.app"))}, name


def test_few_top_level_modules() -> None:
    top = [p.stem for p in (ROOT / "navigator").glob("*.py") if p.stem != "__init__"]
    assert len(top) <= 10, sorted(top)


def test_no_module_reaches_into_another_modules_private_names() -> None:
    offenders = []
    for name, path in MODS.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.ImportFrom) and not node.level
                    and (node.module or "").split(".")[0] in {"navigator", "web"}):
                for a in node.names:
                    private = a.name.startswith("_") and not a.name.startswith("__")
                    # a private module (a leaf such as roads/_kernels) is its own package's
                    own_leaf = f"{node.module}.{a.name}" in MODS and name.startswith(
                        node.module + ".")
                    if private and not own_leaf:
                        offenders.append(f"{name}: from {node.module} import {a.name}")
    assert offenders == [], offenders


def test_the_services_package_table_matches_its_typed_imports() -> None:
    """``navigator.services`` imports its role modules lazily: its table and the typed imports
    (what mypy and readers see) name the same functions, and each resolves to its module's."""
    import importlib

    import navigator.services as services

    path = ROOT / "navigator" / "services" / "__init__.py"
    typed = {a.name: node.module.rsplit(".", 1)[1]
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.ImportFrom) and node.module
             and node.module.startswith("navigator.services.") for a in node.names}
    assert typed == services._HOME
    assert sorted(services.__all__) == sorted(typed)
    for name, module in typed.items():
        home = importlib.import_module(f"navigator.services.{module}")
        assert getattr(services, name) is getattr(home, name)
    with pytest.raises(AttributeError, match="no_such_service"):
        _ = services.no_such_service  # type: ignore[attr-defined]


def test_dir_of_the_services_package_lists_its_lazy_names() -> None:
    import subprocess
    import sys

    # A fresh interpreter: no role module imported yet (this one may have imported them).
    probe = ("import navigator.services as s\n"
             "missing = sorted(set(s.__all__) - set(dir(s)))\n"
             "print(missing, 'navigator.services.referrals' in __import__('sys').modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["[]", "False"]
