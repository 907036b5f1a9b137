"""The inbox: a dense, filterable list of the reviewer's cases, from clear columns, with the
one-line summary of each case on the page decrypted for this page only (audited)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from core.cases.inbox import Due, InboxFilter, Sort, inbox_page
from core.cases.inbox_lookups import find_by_reference
from core.cases.summaries import inbox_summaries
from core.categories.lookup import list_categories
from core.models import CasePriority, CaseStatus, Role
from core.staff.accounts import list_reviewers
from core.staff.approvals import intake_of, recent_routing_changes
from reviewer.console import console
from reviewer.session import current, role_required
from web.database import db

blueprint = Blueprint("inbox", __name__)


def _enum_arg(name: str, enum: Any) -> Any:
    value = request.args.get(name, "")
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def _int_arg(name: str, default: int | None) -> int | None:
    value = request.args.get(name, "")
    if value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return default


def read_filter() -> InboxFilter:
    """The filter from the query string; anything unknown is ignored."""
    return InboxFilter(
        status=_enum_arg("status", CaseStatus),
        category_id=_int_arg("category", None),
        due=_enum_arg("due", Due),
        assigned_to_me=request.args.get("mine") == "1",
        priority=_enum_arg("priority", CasePriority),
        leading=request.args.get("lead") == "1",
        not_satisfied=request.args.get("unsatisfied") == "1",
        actions_due=request.args.get("actions") == "1",
        sort=_enum_arg("sort", Sort) or Sort.NEWEST,
        page=_int_arg("page", 1) or 1,
    )


def filter_url(filt: InboxFilter, **changes: Any) -> str:
    """The inbox URL with some filter values changed (None removes one); back to page 1."""
    params: dict[str, Any] = {
        "status": filt.status.value if filt.status else None,
        "category": filt.category_id,
        "due": filt.due.value if filt.due else None,
        "mine": "1" if filt.assigned_to_me else None,
        "priority": filt.priority.value if filt.priority else None,
        "lead": "1" if filt.leading else None,
        "unsatisfied": "1" if filt.not_satisfied else None,
        "actions": "1" if filt.actions_due else None,
        "sort": filt.sort.value if filt.sort is not Sort.NEWEST else None,
    }
    params.update(changes)
    return url_for("inbox.index", **{k: v for k, v in params.items() if v is not None})


@blueprint.get("/cases")
@role_required(Role.REVIEWER)
def index() -> Any:
    """The list of cases the reviewer is on, with counts per filter value. `?ref=` opens the
    case with that reference if the reviewer is on it."""
    reference = request.args.get("ref", "")[:40]
    searched = None
    if reference.strip():
        found = find_by_reference(db(), current().reviewer.id, reference)
        if found is not None:
            return redirect(url_for("cases.show", case_id=found), code=303)
        searched = reference.strip()
    filt = read_filter()
    c = console()
    page = inbox_page(db(), current().reviewer.id, filt, c.services.clock.today())
    auth = current()
    summaries = (inbox_summaries(db(), c.services, auth.unlocked, [r.id for r in page.rows])
                 if auth.private_key is not None else {})
    categories = list_categories(db())
    routing = recent_routing_changes(db(), c.services, current().reviewer.id)
    return render_template("reviewer/inbox.html", page=page, filt=filt, filter_url=filter_url,
                           categories=categories, statuses=list(CaseStatus), sorts=list(Sort),
                           Due=Due, today=c.services.clock.today(), routing=routing,
                           by_id={r.id: r for r in list_reviewers(db())},
                           category_of={cat.id: cat for cat in categories},
                           intake_of=intake_of, summaries=summaries, searched=searched,
                           priorities=list(CasePriority))
