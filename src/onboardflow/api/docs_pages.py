"""The API's docs pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), loading only files this server serves:
the pages' scripts and styles come from the `fastapi-offline` package, mounted under /static-offline-docs,
so the pages work without Internet access (no CDN, no font service, no validator badge)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = "/static-offline-docs"


def install_docs(app: FastAPI) -> None:
    """/docs, its OAuth2 redirect page, /redoc and the files they load (the app is made without its own)."""
    app.mount(STATIC, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="offline-docs")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        assets = f"{root}{STATIC}"
        return get_swagger_ui_html(
            openapi_url=root + openapi_url, title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{assets}/swagger-ui-bundle.js", swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None})

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=root + openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}{STATIC}/redoc.standalone.js", with_google_fonts=False,
                              redoc_favicon_url=f"{root}{STATIC}/favicon.png")
