"""Error pages a person reads: in the visitor's language, saying what happened, with a way back.

The JSON API and the platforms' webhooks keep their own answers: only a browser asking for HTML
(its Accept header) gets a page. The middleware that turns aiohttp's bare answers into these
pages is in inbox/error_middleware.py."""

from __future__ import annotations

from aiohttp import web

from inbox.views import render

# Statuses with their own heading and explanation in the catalog (error_page.<status>.*).
EXPLAINED = frozenset({400, 403, 404, 405, 413, 429, 503})


def error_page(request: web.Request, status: int, detail_key: str | None = None) -> web.Response:
    """The page for `status`; `detail_key` a catalog text saying more than the status does."""
    known = status if status in EXPLAINED else 0
    return render(
        request,
        "error.html",
        status=status,
        error_code=status,
        heading_key=f"error_page.{known}.title",
        detail_key=detail_key or f"error_page.{known}.detail",
    )


def wants_html(request: web.Request) -> bool:
    return not request.path.startswith("/api/") and "text/html" in request.headers.get("Accept", "")
