"""Navigator: road-network resource navigation and mobile-dispatch planning for crisis services."""

from __future__ import annotations

__version__ = "0.1.0"
