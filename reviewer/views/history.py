"""The case's history: its handling from the access log (and, on request, every reading)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from core.cases.history import case_history
from core.cases.team import get_case
from core.models import Role
from reviewer.session import require_member
from reviewer.session import role_required as _role_required
from web.database import db

blueprint = Blueprint("history", __name__)


@blueprint.get("/cases/<id:case_id>/history")
@_role_required(Role.REVIEWER)
def show(case_id: int) -> Any:
    """Who did what on the case, newest first (`?readings=1`: with every decryption)."""
    require_member(case_id)
    readings = request.args.get("readings") == "1"
    return render_template("reviewer/history.html", case=get_case(db(), case_id),
                           entries=case_history(db(), case_id, readings=readings),
                           readings=readings)
