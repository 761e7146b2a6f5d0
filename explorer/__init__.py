"""The explorer: a browser interface served by the API (rest.md, "Added in v1.1").

Server-rendered Jinja2 pages over the same read functions as the JSON routes (api/graph_reads.py,
the findings run, queries/diff.py), with a little JavaScript of our own and vendored vis-network
for the graph explorer. No page holds a business rule: who holds a right, what depends on what
and which findings exist all come from the functions the JSON routes call.

`install(app)` mounts everything on the API: the pages (`/` and `/ui/...`; the coverage and
maturity pages in explorer/governance.py), their static files
(`/ui/static/...`), sign-in by key into a session cookie, and `/docs` and `/redoc` with their
assets served locally.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.auth import SessionStore
from explorer import docs, governance, pages
from explorer.web import STATIC_DIR, install_page_errors


def install(app: FastAPI) -> None:
    """Add the explorer, its static files and the local API docs to `app` (the docs replace
    FastAPI's, which fetch their assets from a CDN; create the app with docs_url=None)."""
    app.state.sessions = SessionStore()
    install_page_errors(app)
    app.include_router(pages.router)
    app.include_router(governance.router)
    app.include_router(docs.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="explorer-static")
