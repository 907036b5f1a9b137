"""Friendly error pages that never show exception text."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask import Flask, render_template
from flask_babel import lazy_gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

# "_" is lazy_gettext: messages are built at import time and translated when shown.

# (title, message) per status code. Messages say what the person can do next.
_MESSAGES: dict[int, tuple[Any, Any]] = {
    400: (
        _("Something was wrong with that request"),
        _(
            "The page could not handle what was sent. If you were filling in a form, go back, "
            "reload the page and try again."
        ),
    ),
    403: (
        _("You cannot open this page"),
        _("You do not have permission to see this page."),
    ),
    404: (
        _("Page not found"),
        _("Check that the address is correct, or go back to the start page."),
    ),
    405: (
        _("This action is not allowed here"),
        _("Go back to the previous page and use the buttons and links on it."),
    ),
    413: (
        _("What you sent is too large"),
        _("Try again with smaller or fewer files."),
    ),
    429: (
        _("Too many attempts"),
        _("Please wait a little and try again."),
    ),
    500: (
        _("Sorry, something went wrong"),
        _("The problem is ours, not yours. Please try again later."),
    ),
}
_GENERIC = (
    _("Something went wrong"),
    _("Please go back and try again."),
)

# Headers of the original error response worth keeping (e.g. Allow on 405).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def retry_after_seconds(error: HTTPException) -> int | None:
    """Return the error's Retry-After as whole seconds from now, if it has one."""
    value = getattr(error, "retry_after", None)
    if isinstance(value, dt.datetime):
        now = dt.datetime.now(value.tzinfo or dt.UTC)
        return max(0, math.ceil((value - now).total_seconds()))
    if isinstance(value, int | float) and value >= 0:
        return math.ceil(value)
    return None


def install_error_pages(app: Flask, template: str = "web/error.html", *,
                        messages: dict[int, tuple[Any, Any]] | None = None) -> None:
    """Render ``template`` for every HTTP error of ``app`` (and for unhandled exceptions).

    The template receives ``code``, ``title``, ``message`` (translated, human) and
    ``retry_after`` (seconds or None). ``messages`` replaces the (title, message) of some
    status codes for this app. The exception's own description is never shown: it may be
    technical or, worse, carry data. Redirects and other non-error HTTP exceptions are left
    to Flask.
    """
    table = {**_MESSAGES, **(messages or {})}

    def render(error: HTTPException) -> tuple[str, int, dict[str, str]]:
        code = error.code or 500
        title, message = table.get(code, _GENERIC)
        retry_after = retry_after_seconds(error)
        headers = {name: value for name, value in error.get_headers() if name in _KEPT_HEADERS}
        try:
            body = render_template(
                template, code=code, title=title, message=message, retry_after=retry_after
            )
        except Exception:  # noqa: BLE001 - an error page must not fail in turn
            body = f"<!doctype html><title>{code}</title><h1>{code}</h1>"
        return body, code, headers

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        return render(error)

    @app.errorhandler(InternalServerError)
    def _server_error(error: InternalServerError) -> Any:
        # Also reached for unhandled exceptions (wrapped by Flask), which Flask logs.
        return render(error)
