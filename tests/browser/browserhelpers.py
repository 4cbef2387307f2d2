"""Constants and the server record shared by the browser tests and their fixtures."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]
XSS = '<img src=x onerror="window.__xss=1">'
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@dataclasses.dataclass
class Server:
    """A running app: its base URL, store and the shelter renamed to the XSS payload."""

    url: str
    store: Any
    xss_shelter: Any
