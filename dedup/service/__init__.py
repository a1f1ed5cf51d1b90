"""``dedup serve``: the engine and the archive index over HTTP, for a CMS and for editors.

Needs the ``server`` extra (``pip install 'dedup[server]'``: FastAPI and uvicorn). See
`dedup.service.app` for the routes.
"""
from __future__ import annotations

from .app import ServiceSettings, create_app

__all__ = ["ServiceSettings", "create_app"]
