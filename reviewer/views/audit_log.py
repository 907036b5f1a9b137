"""The auditor's pages: the access log with filters, the checkpoints and their state, a
signed export, proofs, and "sign a checkpoint now". Auditors open no case content; every page
they read is logged (core.audit.browse)."""

from __future__ import annotations

import base64
import json
import tempfile
from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from core.audit.browse import (
    REPORTER,
    SYSTEM,
    LogFilter,
    read_log,
    staff_accounts,
)
from core.audit.checkpoints import LogDamaged, checkpoint_states, sign_checkpoint, verifier_key
from core.audit.export import write_export
from core.audit.log import AuditAction, record_event
from core.audit.proofs import consistency_proof, inclusion_proof
from core.cases.retention import case_by_reference
from core.errors import InvalidInput, NotFound
from core.models import Role
from reviewer.audit_labels import ACTIONS
from reviewer.console import console
from reviewer.session import current, current_actor, role_required
from web.database import commit, db, rollback, separate_transaction
from web.downloads import content_disposition, document_response
from web.routing import MAX_ROW_ID

blueprint = Blueprint("audit_log", __name__)
auditor_only = role_required(Role.AUDITOR)


class BadFilter(ValueError):
    """A filter value the page cannot use; the message says which."""


def _filter_from(args: Any) -> LogFilter:
    """Read the filters from the query string, refusing what is malformed."""
    def number(name: str, label: str) -> int | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        if _row_id(value) is None:
            raise BadFilter(_("%(field)s must be a whole number.", field=label))
        return int(value)

    def day(name: str, label: str) -> date | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        try:
            chosen = date.fromisoformat(value)
        except ValueError:
            chosen = None
        # The log holds no day outside these years; 9999-12-31 has no next day to end on.
        if chosen is None or not FIRST_YEAR <= chosen.year <= LAST_YEAR:
            raise BadFilter(_("%(field)s must be a date such as 2026-12-31.", field=label))
        return chosen

    actor = (args.get("actor") or "").strip() or None
    if actor not in (None, SYSTEM, REPORTER) and not (
            actor.isascii() and actor.isdigit() and len(actor) < 10):
        raise BadFilter(_("Choose an actor from the list."))
    action = (args.get("action") or "").strip() or None
    if action is not None and action not in ACTIONS:
        raise BadFilter(_("Choose an action from the list."))
    wanted = LogFilter(actor=actor, action=action, case_id=_case_filter(args),
                       since=day("since", _("From")), until=day("until", _("To")),
                       before=number("before", "before"), after=number("after", "after"))
    if wanted.since and wanted.until and wanted.since > wanted.until:
        raise BadFilter(_("The period ends before it starts."))
    return wanted


#: The years a day filter may name.
FIRST_YEAR, LAST_YEAR = 2000, 2999


def _row_id(value: str) -> int | None:
    """`value` as a row id (ASCII digits, within a 64-bit column), else None. (str.isdigit
    takes "²" and "١٢٣", and a number past the column's range raised an error.)"""
    if not (value.isascii() and value.isdigit() and len(value) <= 19) \
            or int(value) > MAX_ROW_ID:
        return None
    return int(value)


def _case_filter(args: Any) -> int | None:
    """The case filter: a case's reference (as every other page shows it) or its number in
    the log."""
    value = (args.get("case") or "").strip()
    if not value:
        return None
    if (number := _row_id(value)) is not None:
        return number
    try:
        return case_by_reference(db(), value).id
    except NotFound:
        raise BadFilter(_("No case has the reference %(reference)s: enter a reference such "
                          "as C-7KQ2M9XD, or the case number the log shows.",
                          reference=value.upper())) from None


@blueprint.get("/audit")
@auditor_only
def events() -> Any:
    """The access log, newest first, with filters and paging by position."""
    error = None
    try:
        wanted = _filter_from(request.args)
    except BadFilter as exc:
        error, wanted = str(exc), LogFilter()
    page = read_log(db(), console().services.clock, current().reviewer.id, wanted)
    return render_template(
        "reviewer/audit_events.html", page=page, wanted=wanted, error=error,
        accounts=staff_accounts(db()), actions=ACTIONS, SYSTEM=SYSTEM, REPORTER=REPORTER,
        zone=console().services.clock.zone, detail_of=detail_of,
        page_url=lambda **changes: url_for("audit_log.events", **_query(changes))), (
        400 if error else 200)


def _query(changes: dict[str, Any]) -> dict[str, Any]:
    """The current query string with `changes` (None removes a key)."""
    query = {k: v for k, v in request.args.items() if k not in ("before", "after")}
    query.update(changes)
    return {k: v for k, v in query.items() if v not in (None, "")}


@blueprint.get("/audit/checkpoints")
@auditor_only
def checkpoints() -> Any:
    """The signed checkpoints, their state, the verifier key, export and proofs."""
    services = console().services
    states = checkpoint_states(db(), services)
    record_event(db(), services.clock, AuditAction.AUDIT_LOG_READ,
                 current_actor(),
                 detail={"page": "checkpoints", "shown": len(states)})
    return _checkpoints_page(states)


def _checkpoints_page(states: list[Any], proof_error: str | None = None) -> Any:
    """The checkpoints page; roots in base64, as the notes write them."""
    return render_template(
        "reviewer/audit_checkpoints.html", states=states, proof_error=proof_error,
        key=verifier_key(console().services),
        b64=lambda raw: base64.b64encode(bytes(raw)).decode())


@blueprint.post("/audit/checkpoints")
@auditor_only
def sign_now() -> Any:
    """Sign a checkpoint now (cron does it hourly)."""
    services = console().services
    actor = current_actor()  # read before a rollback expires it
    try:
        signed = sign_checkpoint(db(), services, actor)
    except LogDamaged as damaged:
        # The refusal is committed apart: the request's own transaction is undone.
        rollback()
        with separate_transaction() as session:
            record_event(session, services.clock, AuditAction.AUDIT_LOG_DAMAGED, actor,
                         detail={"position": damaged.position})
        return render_template("reviewer/audit_damaged.html", position=damaged.position), 409
    commit()
    flash(_("Checkpoint of %(size)s entries signed.", size=signed.row.size))
    return redirect(url_for("audit_log.checkpoints"), code=303)


@blueprint.post("/audit/export")
@auditor_only
def export() -> Response:
    """The signed export of the whole log, as a download."""
    services = console().services
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to send_file, which closes it
    summary = write_export(db(), services, spool, actor=current_actor())
    commit()
    spool.seek(0)
    response = send_file(spool, mimetype="application/zip", max_age=0)
    response.headers["Content-Disposition"] = content_disposition(
        f"candor-audit-{summary.size}.zip")
    return response


@blueprint.post("/audit/proof")
@auditor_only
def proof() -> Any:
    """An inclusion proof (`position`) or consistency proof (`since`), as a download."""
    services = console().services
    actor = current_actor()
    kind = request.form.get("kind")
    raw = (request.form.get("value") or "").strip()
    try:
        if not raw.isdigit() or len(raw) > 19:
            return _proof_refused(_("Enter a whole number."))
        if kind == "inclusion":
            document = inclusion_proof(db(), services, int(raw), actor)
        elif kind == "consistency":
            document = consistency_proof(db(), services, int(raw), actor)
        else:
            return _proof_refused(_("Choose which proof you want."))
    except NotFound:
        return _proof_refused(_("No checkpoint has been signed yet: sign one first."))
    except InvalidInput:
        return _proof_refused(_("The newest checkpoint does not cover that number: enter a "
                                "position below its size, or the size of a checkpoint you "
                                "kept."))
    commit()
    return document_response(f"candor-proof-{kind}-{raw}.json", document, "application/json")


def _proof_refused(message: str) -> Any:
    rollback()
    return _checkpoints_page(checkpoint_states(db(), console().services), message), 400


def detail_of(event: Any) -> dict[str, Any]:
    """An entry's detail as a mapping (it is stored as canonical JSON)."""
    try:
        value = json.loads(event.detail)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
