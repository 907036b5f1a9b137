"""One report per report form: sending the same form again (the browser's Back or Reload,
a double click) creates no second case.

The form carries a random one-time token. The transaction that creates the case stores the
token's SHA-256 (core.models.SubmissionToken); the same token again is refused with
AlreadySubmitted and nothing of that post is kept. The stored hash names no case and no time,
and the token is random, so the row says nothing but "a form was sent". The token is not a
secret: it only tells two sendings of one form apart.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict
from core.models import SubmissionToken

#: What new_submission_token makes: 32 random bytes, URL-safe base64 without padding.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


class AlreadySubmitted(Conflict):
    """This form was sent before, and its report was received then."""


def new_submission_token() -> str:
    """A fresh token for a new report form."""
    return secrets.token_urlsafe(32)


def well_formed(token: str | None) -> bool:
    """Whether `token` has the shape new_submission_token gives."""
    return token is not None and TOKEN_PATTERN.fullmatch(token) is not None


def claim_submission_token(session: Session, token: str) -> None:
    """Record that the form with `token` is sent, in the caller's transaction (the one that
    creates the case). AlreadySubmitted if it was sent before; a sending of the same form at
    the same moment waits for the first and is refused when that one commits."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    try:
        with session.begin_nested():
            session.add(SubmissionToken(token_hash=digest))
            session.flush()
    except IntegrityError as exc:
        raise AlreadySubmitted("this report form was already sent") from exc
