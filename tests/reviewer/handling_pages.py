"""Posting the case page's handling forms as a browser does, and reading back what the page
and the database show (shared by the console's case-cycle and refusal tests)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Case
from core.services import Services
from tests.core.factories import ReviewerHandle

#: Forms that stream files: posted as multipart, like a browser does.
MULTIPART_STEPS = ("evidence", "reply")


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the page at `path`."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def post_step(client: FlaskClient, case_id: int, step: str, data: dict[str, Any], *,
              page: str = "") -> Any:
    """Post the case's form `step` with the token of the case page (or its `page` below)."""
    content_type = "multipart/form-data" if step in MULTIPART_STEPS else None
    token = csrf_token(client, f"/cases/{case_id}{page}")
    return client.post(f"/cases/{case_id}/{step}", data={"csrf_token": token, **data},
                       content_type=content_type)


def stored_case(session_factory: sessionmaker[Session], case_id: int) -> Case:
    """The case as stored, detached."""
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        s.expunge(case)
        return case


def rows_of_case(session_factory: sessionmaker[Session], model: Any, case_id: int) -> int:
    """How many rows of `model` the case has."""
    with session_factory() as s:
        return int(s.execute(select(func.count()).select_from(model)
                             .where(model.case_id == case_id)).scalar_one())


def textarea(page: str, name: str) -> str:
    """The (unescaped) text of the page's textarea `name`."""
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {name}"
    return unescape(match.group(1)).strip()


def checked(page: str, name: str) -> str | None:
    """The value of the checked radio button `name`, if any."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag):
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else None
    return None


def accept(client: FlaskClient, lead: ReviewerHandle, case_id: int) -> None:
    """Accept the report with `lead` as its lead."""
    answer = post_step(client, case_id, "scope", {"decision": "accepted", "lead": str(lead.id),
                                                  "priority": "normal", "message": ""})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]


def decide(client: FlaskClient, lead: ReviewerHandle, case_id: int) -> None:
    """Accept the report, then record a finding."""
    accept(client, lead, case_id)
    answer = post_step(client, case_id, "decision", {
        "finding": "substantiated", "root_cause": "", "reasons": "The logs."},
        page="/casework")
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]


def add_action(client: FlaskClient, owner: ReviewerHandle, case_id: int,
               services: Services) -> None:
    """Assign a corrective action due in 30 days."""
    due = (services.clock.today() + timedelta(days=30)).isoformat()
    answer = post_step(client, case_id, "actions", {
        "title": "Replace reader", "notes": "", "owner": str(owner.id), "due_on": due},
        page="/casework")
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]


def give_feedback(client: FlaskClient, case_id: int) -> None:
    """Send an outcome with its grounds."""
    answer = post_step(client, case_id, "feedback", {"outcome": "Fixed.", "grounds": "Logs."})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
