"""Refused access is logged: a logged-in staff member answered 403 or 404 leaves one
ACCESS_REFUSED event, naming them, the case of the URL (when the route has one) and the
endpoint and status, never the address's other values and never content.

One hook for every way a console view refuses: `abort(403)` from `role_required` or a
lead-only step, `abort(404)` from `require_member` (a case the reviewer is not on), a domain
error mapped to 403/404 by web.database, or a view that renders its own refusal page with
that status. It looks only at the response's status, so a request is logged once whichever
way it was refused, and the page itself is left exactly as it was: a case the reviewer is
not on still answers the same 404 as a case that does not exist. A refusal because a grant
of the case does not open with the reviewer's own key (core.errors.DamagedGrant: the database
was written to) is also logged as RECORD_TAMPERED, naming the grant.

The event goes into the request's own unit of work, which web.database commits for every
response below 500: after a domain error that unit was rolled back first, so the event is
all it holds; after an `abort` or a refusal page, it commits with what the request did see
(the session's activity, a case page shown beside a refused step), which did happen.
(`separate_transaction` is not needed, and inside the request's open SQLite transaction it
would refuse to run.)

Not logged: anonymous visitors (nothing to attribute; a flood of guesses would fill the
log), static files, addresses that match no route, and a 404 inside a case the staff member is
on (a file, action or message id that does not exist there refuses them nothing). The portal
installs none of this.
"""

from __future__ import annotations

from flask import Flask, g, request
from werkzeug.wrappers import Response

from core.audit.log import Actor, AuditAction, record_event
from core.cases.team import is_active_member
from core.errors import DamagedGrant
from reviewer.console import console
from web.database import db

#: The statuses that are refusals: not allowed (403) and not found or not on the case (404).
REFUSED = frozenset({403, 404})
#: Endpoints whose refusals are not worth an entry (a missing stylesheet is no access).
_UNLOGGED_ENDPOINTS = frozenset({"static", "web.static"})


def refusal_detail(endpoint: str, status: int) -> dict[str, str | int | None]:
    """What the event says besides actor and case: the route's name and the status."""
    return {"endpoint": endpoint, "status": status}


def _log_refusal(response: Response) -> Response:
    if response.status_code not in REFUSED:
        return response
    auth = g.get("auth")
    endpoint = request.endpoint
    if auth is None or endpoint is None or endpoint in _UNLOGGED_ENDPOINTS:
        return response
    case_id = (request.view_args or {}).get("case_id")
    if (response.status_code == 404 and isinstance(case_id, int)
            and is_active_member(db(), console().services.keyring, case_id,
                                 auth.reviewer.id)):
        # A member's own case answered 404 (a file or action id that does not exist): no
        # access was refused, and auditors should not have to tell these from probing.
        return response
    actor, case = Actor.reviewer(auth.reviewer.id), case_id if isinstance(case_id, int) else None
    if refused_by_damaged_grant():
        # Not a question of rights: someone wrote to the database (an alarm for auditors).
        record_event(db(), console().services.clock, AuditAction.RECORD_TAMPERED, actor,
                     case_id=case, detail={"record": "grant"})
    record_event(db(), console().services.clock, AuditAction.ACCESS_REFUSED, actor,
                 case_id=case, detail=refusal_detail(endpoint, response.status_code))
    return response


def refused_by_damaged_grant() -> bool:
    """Whether this request was refused because a grant did not open (for the error page)."""
    return isinstance(g.get("refused_by"), DamagedGrant)


def install_refusal_log(app: Flask) -> None:
    """Log the console's refusals of logged-in staff (install after web.install_database, so
    that this runs before the request's commit: Flask runs after-request hooks in reverse)."""
    app.after_request(_log_refusal)
    app.jinja_env.globals["refused_by_damaged_grant"] = refused_by_damaged_grant
