"""Reporters' follow-up sessions: after a receipt login, the first case key and the reporter's
private key (which opens later epochs' case keys) are kept server-side,
sealed under a secret that only the reporter's cookie holds, with a sliding idle deadline and
the absolute one sealed alongside (so the database never holds the time of a visit). The row
itself carries only the reporter's day (or week), for clean-up. With `redis_url` set the
sessions live in Redis instead (`services.submitter_sessions`, core.intake.session_store),
each key expiring with its session."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.orm import Session

from core.cases.grants import SubmitterKeys
from core.clock import DatePrecision
from core.intake.reporter import SubmitterAccess
from core.models import Case
from core.services import Services
from core.session_tokens import SessionToken, new_session_token, parse_session_token
from crypto.errors import CryptoError
from crypto.keys import unwrap, wrap

#: A session ends this long after the login, however active (the sealed absolute deadline).
MAX_SESSION_AGE = timedelta(days=1)


def _seal(services: Services, token: SessionToken, access: SubmitterAccess,
          absolute_deadline: float) -> tuple[bytes, timedelta]:
    """The sealed state, and how long it may be kept unused (the sooner deadline)."""
    idle = timedelta(minutes=services.config.submitter_session_idle_minutes)
    now = services.clock.now()
    private = access.opened.private_key
    state = {"case_id": access.case_id, "reference": access.reference,
             "case_key": access.opened.first_case_key.hex(),
             "private_key": private.hex() if private is not None else None,
             "idle_deadline": (now + idle).timestamp(),
             "absolute_deadline": absolute_deadline}
    lifetime = min(idle, timedelta(seconds=absolute_deadline - now.timestamp()))
    return wrap(token.secret, json.dumps(state).encode("ascii")), lifetime


def start_submitter_session(session: Session, services: Services,
                            access: SubmitterAccess) -> str:
    """Store a new session for `access`; return the cookie value (shown to nobody else)."""
    token = new_session_token()
    absolute = (services.clock.now() + MAX_SESSION_AGE).timestamp()
    sealed, lifetime = _seal(services, token, access, absolute)
    services.submitter_sessions.add(session, token.id_hash, sealed,
                                    day=services.clock.submitter_day(), lifetime=lifetime)
    return token.encode()


def resume_submitter_session(session: Session, services: Services,
                             cookie_value: str | None) -> SubmitterAccess | None:
    """The access of a live session (and its idle deadline pushed forward), or None if the
    cookie is missing, forged, or the session idled out or was ended, or the case's content
    was destroyed under the retention policy."""
    token = parse_session_token(cookie_value)
    if token is None:
        return None
    store = services.submitter_sessions
    sealed = store.get(session, token.id_hash)
    if sealed is None:
        return None
    try:
        state = json.loads(unwrap(token.secret, sealed))
    except (CryptoError, ValueError):
        return None
    now = services.clock.now().timestamp()
    if state["idle_deadline"] < now or state.get("absolute_deadline", 0) < now:
        store.delete(session, token.id_hash)
        return None
    case = session.get(Case, int(state["case_id"]))
    if case is not None and case.content_destroyed_on is not None:
        # Retention destroyed the case since the login: end the session, as for an unknown
        # receipt code (the key it holds opens nothing any more).
        store.delete(session, token.id_hash)
        return None
    private = state.get("private_key")
    opened = SubmitterKeys(first_case_key=bytes.fromhex(state["case_key"]),
                           private_key=bytes.fromhex(private) if private else None)
    access = SubmitterAccess(case_id=int(state["case_id"]), reference=str(state["reference"]),
                             opened=opened)
    sealed, lifetime = _seal(services, token, access, float(state["absolute_deadline"]))
    store.update(session, token.id_hash, sealed, lifetime=lifetime)
    return access


def end_submitter_session(session: Session, services: Services,
                          cookie_value: str | None) -> None:
    """Log out: delete the session (in the database or Redis), which makes the cookie
    worthless."""
    store = services.submitter_sessions
    token = parse_session_token(cookie_value)
    if token is not None:
        store.delete(session, token.id_hash)


def purge_old_submitter_sessions(session: Session, services: Services) -> int:
    """Delete rows whose session has surely ended (run periodically; cheap). A row's date may
    be the Monday of its week (submitter_date_precision), so it counts from the Sunday after:
    rows of ended sessions stay up to a week longer, openable by nobody. (Redis keys expire
    by themselves: nothing to do there.)"""
    cutoff = services.clock.today() - MAX_SESSION_AGE - timedelta(days=DatePrecision.WEEK.days)
    return services.submitter_sessions.purge(session, cutoff)
