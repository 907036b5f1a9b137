"""CSRF checks for views that read their form themselves (streamed uploads)."""

from __future__ import annotations

from flask import current_app
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError


def validate_csrf_token(token: str | None) -> None:
    """Check a Flask-WTF CSRF token taken from a streamed form.

    Use it in views exempted from ``CSRFProtect`` (which would read ``request.form`` and so
    spool the upload). Raises ``flask_wtf.csrf.CSRFError`` (a 400 Bad Request), like
    CSRFProtect. Does nothing when ``WTF_CSRF_ENABLED`` is False, again like CSRFProtect.
    """
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise CSRFError(exc.args[0] if exc.args else "The CSRF token is invalid.") from None
