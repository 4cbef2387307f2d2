#!/usr/bin/env bash
# The optional OSRM job of bench_peers.py: osrm-bindings has wheels for Python >= 3.12 only.
# Usage: benchmarks/run_osrm_job.sh IN.json OUT.json
# Makes ~/.cache/navigator-bench/venv312 from pyenv's 3.12 interpreter once (`pip install
# osrm-bindings numpy`: the only network use, a package registry), builds OSRM's files from
# the .pbf offline once, then runs benchmarks/peers_osrm.py. Exit 3: no Python 3.12 found.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${NAVIGATOR_BENCH_CACHE:-$HOME/.cache/navigator-bench}"
venv="$cache/venv312"
if [ ! -x "$venv/bin/python" ]; then
    py="$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$py" ]; then
        py="$(command -v python3.12 || true)"
    fi
    # a pyenv shim is found but may refuse to run: check the interpreter itself
    if [ -z "$py" ] || ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null
    then
        echo "no Python >= 3.12 interpreter (pyenv versions/3.12* or python3.12): OSRM skipped" >&2
        exit 3
    fi
    mkdir -p "$cache"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet osrm-bindings numpy
fi
exec "$venv/bin/python" "$here/peers_osrm.py" "$1" "$2" --data-dir "$cache/osrm"
