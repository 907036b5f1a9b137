"""Reporters' follow-up sessions: after a receipt login, the case key is kept server-side,
sealed under a secret that only the reporter's cookie holds, with a sliding idle deadline
sealed alongside (so the database never holds the time of a visit)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.models import SubmitterSession
from core.services import Services
from core.session_tokens import SessionToken, new_session_token, parse_session_token
from core.usecases.submitter import SubmitterAccess
from crypto.errors import CryptoError
from crypto.keys import unwrap, wrap

#: Rows older than this are deleted whatever their (sealed) idle deadline says.
MAX_SESSION_AGE = timedelta(days=1)


def _seal(services: Services, token: SessionToken, access: SubmitterAccess) -> bytes:
    idle = timedelta(minutes=services.config.submitter_session_idle_minutes)
    state = {"case_id": access.case_id, "reference": access.reference,
             "case_key": access.case_key.hex(),
             "idle_deadline": (services.clock.now() + idle).timestamp()}
    return wrap(token.secret, json.dumps(state).encode("ascii"))


def start_submitter_session(session: Session, services: Services,
                            access: SubmitterAccess) -> str:
    """Store a new session for `access`; return the cookie value (shown to nobody else)."""
    token = new_session_token()
    session.add(SubmitterSession(id_hash=token.id_hash, sealed_state=_seal(services, token, access),
                                 created_on=services.clock.today()))
    session.flush()
    return token.encode()


def resume_submitter_session(session: Session, services: Services,
                             cookie_value: str | None) -> SubmitterAccess | None:
    """The access of a live session (and its idle deadline pushed forward), or None if the
    cookie is missing, forged, or the session idled out or was ended."""
    token = parse_session_token(cookie_value)
    if token is None:
        return None
    row = session.get(SubmitterSession, token.id_hash)
    if row is None:
        return None
    try:
        state = json.loads(unwrap(token.secret, row.sealed_state))
    except (CryptoError, ValueError):
        return None
    if state["idle_deadline"] < services.clock.now().timestamp() or \
            row.created_on < services.clock.today() - MAX_SESSION_AGE:
        session.delete(row)
        session.flush()
        return None
    access = SubmitterAccess(case_id=int(state["case_id"]), reference=str(state["reference"]),
                             case_key=bytes.fromhex(state["case_key"]))
    row.sealed_state = _seal(services, token, access)
    session.flush()
    return access


def end_submitter_session(session: Session, cookie_value: str | None) -> None:
    """Log out: delete the row, which makes the cookie worthless."""
    token = parse_session_token(cookie_value)
    if token is not None:
        session.execute(delete(SubmitterSession).where(SubmitterSession.id_hash == token.id_hash))


def purge_old_submitter_sessions(session: Session, services: Services) -> int:
    """Delete sessions created before yesterday (run periodically; cheap)."""
    cutoff = services.clock.today() - MAX_SESSION_AGE
    result = session.execute(delete(SubmitterSession).where(SubmitterSession.created_on < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
