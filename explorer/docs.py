"""`/docs` (Swagger UI) and `/redoc` with their assets served by the API itself (rest.md, "Added in
v1.1"): pinned copies from npm in static/vendor (VENDORED.md), no CDN.

FastAPI's `get_swagger_ui_html` writes its start-up code as an inline script, which a strict
Content-Security-Policy (`script-src 'self'`) refuses; these pages load the same bundle and start
it from a static file (static/swagger-init.js) instead.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from explorer.web import TEMPLATES

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    """Interactive API docs (Swagger UI) over `/openapi.json`."""
    title = f"{request.app.title} API: interactive docs"
    return HTMLResponse(
        TEMPLATES.get_template("swagger.html.j2").render(title=title, openapi_url=request.app.openapi_url)
    )


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    """Reference API docs (ReDoc) over `/openapi.json`."""
    title = f"{request.app.title} API: reference"
    return HTMLResponse(
        TEMPLATES.get_template("redoc.html.j2").render(title=title, openapi_url=request.app.openapi_url)
    )
