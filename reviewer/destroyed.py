"""The page of a case whose content retention destroyed (core.cases.shredding): its clear
facts and a notice, without decrypting anything. Every console route of such a case but the
case page, its history and the legal hold answers with it (404: the content is not there)."""

from __future__ import annotations

from flask import Response, make_response, render_template

from core.models import Case

#: Routes that still serve a destroyed case (the others answer with the notice, 404).
DESTROYED_CASE_ROUTES = frozenset({"cases.show", "history.show", "handling.legal_hold"})


def destroyed_case_page(case: Case, status: int = 200) -> Response:
    """The notice and the case's clear facts (reference, stage, dates, category)."""
    return make_response(render_template("reviewer/case_destroyed.html", case=case), status)
