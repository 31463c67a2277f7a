"""Rendering the staff pages: one autoescaping Jinja2 environment and the values every page uses."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from inbox.context import SERVICES, VISITOR_KEY, Visitor
from inbox.i18n import long_time, notice, short_time, translate
from texts.formats import decimal

TEMPLATE_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
TEMPLATES = web.AppKey("templates", jinja2.Environment)

# Scripts and styles only from our own files: a message that smuggles in <script> or an
# inline handler cannot run even if escaping were ever missed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def make_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,  # every template is HTML: everything interpolated is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(request: web.Request, name: str, *, status: int = 200, **values: Any) -> web.Response:
    services = request.app[SERVICES]
    found: Visitor | None = request.get(VISITOR_KEY)
    locale = found.locale if found else "id"
    page_values = {
        "me": found.user if found else None,
        "csrf": found.csrf if found else "",
        "locale": locale,
        "t": functools.partial(_t, locale),
        "short": functools.partial(_short, services.tz, locale),
        "long": functools.partial(_long, services.tz, locale),
        "number": functools.partial(_number, locale),
        "notice": functools.partial(_notice, locale),
        "path": request.path,
        "demo": services.demo,
        **values,
    }
    html = request.app[TEMPLATES].get_template(name).render(page_values)
    response = web.Response(text=html, status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _t(locale: str, key: str, **values: Any) -> str:
    return translate(key, locale, **values)


def _notice(locale: str, message: Any) -> str:
    return notice(message.channel, message.notice, message.notice_args, locale)


def _short(tz: Any, locale: str, moment: Any) -> str:
    return short_time(moment, tz, locale)


def _long(tz: Any, locale: str, moment: Any) -> str:
    return long_time(moment, tz, locale)


def _number(locale: str, value: float | None, pattern: str | None = None) -> str:
    return decimal(value, locale, pattern)
