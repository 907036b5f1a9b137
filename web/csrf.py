"""CSRF checks for views that read their form themselves (streamed uploads)."""

from __future__ import annotations

from flask import current_app
from flask_wtf.csrf import CSRFError, validate_csrf
from itsdangerous import SignatureExpired
from wtforms.validators import ValidationError


class CSRFExpired(CSRFError):
    """A token this site issued to this browser session, older than the time limit: the page
    stayed open too long. (Flask-WTF checks that the session holds a token before it looks at
    the age, and the session cookie is SameSite=Strict, so a cross-site post never gets here.)
    """


def validate_csrf_token(token: str | None) -> None:
    """Check a Flask-WTF CSRF token taken from a streamed form.

    Use it in views exempted from ``CSRFProtect`` (which would read ``request.form`` and so
    spool the upload). Raises ``flask_wtf.csrf.CSRFError`` (a 400 Bad Request), like
    CSRFProtect, or its subclass ``CSRFExpired`` for a token that is only too old. Does
    nothing when ``WTF_CSRF_ENABLED`` is False, again like CSRFProtect.
    """
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(token)
    except ValidationError as exc:
        error = CSRFExpired if isinstance(exc.__cause__, SignatureExpired) else CSRFError
        raise error(exc.args[0] if exc.args else "The CSRF token is invalid.") from None
