"""Navigator's web app: Flask app factory, one blueprint per role, errors as JSON."""

from __future__ import annotations

from web.app import create_app

__all__ = ["create_app"]
