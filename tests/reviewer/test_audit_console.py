"""The auditor's pages: the log with its filters and paging, checkpoints and their state, the
signed export and proofs (checked with the offline verifier), "sign now", a damaged log, and
that auditors see no case content while their own reading is logged."""

from __future__ import annotations

import io
import json
import re
import zipfile

from sqlalchemy import select, text

from core.audit.checkpoints import sign_checkpoint, verifier_key
from core.db import transaction
from core.models import AuditCheckpoint, AuditEvent
from tests.reviewer.conftest import CANARY, login_client
from tests.reviewer.test_auth import csrf


def auditor(app, session_factory, services, world):
    return login_client(app, session_factory, services, world.auditor)


def positions(html: str) -> list[int]:
    return [int(p) for p in re.findall(r'<tr class="log-row">\s*<td class="count">(\d+)</td>',
                                       html)]


def last_event(session_factory) -> AuditEvent:
    with session_factory() as s:
        return s.execute(select(AuditEvent).order_by(AuditEvent.position.desc())
                         .limit(1)).scalar_one()


def test_the_log_page_filters_and_pages(app, session_factory, services, world):
    client = auditor(app, session_factory, services, world)
    page = client.get("/audit")
    html = page.data.decode()
    assert page.status_code == 200 and CANARY not in html
    shown = positions(html)
    assert shown == sorted(shown, reverse=True) and shown
    # The case filter shows only that case's entries (read before the page, which logs a
    # reading of the case: an auditor's interest in a case is on record too).
    with session_factory() as s:
        expected = sorted(s.execute(select(AuditEvent.position).where(
            AuditEvent.case_id == world.case_id)).scalars(), reverse=True)
    html = client.get(f"/audit?case={world.case_id}").data.decode()
    assert positions(html) == expected[:50]
    assert last_event(session_factory).case_id == world.case_id
    # The action filter, and the actor filter (the reporter: day only).
    html = client.get("/audit?action=case:submit&actor=reporter").data.decode()
    assert "(day only)" in html or positions(html) == []
    # Reading is itself logged, naming the filters.
    event = last_event(session_factory)
    assert event.action == "audit:read" and event.reviewer_id == world.auditor.id
    assert json.loads(event.detail) == {"action": "case:submit", "actor": "reporter",
                                        "shown": len(positions(html))}


def test_paging_walks_the_whole_log_without_gaps(app, session_factory, services, world):
    from core.audit.log import Actor, AuditAction, record_event
    with transaction(session_factory) as s:
        for i in range(120):
            record_event(s, services.clock, AuditAction.CATEGORY_CHANGED, Actor.system(),
                         detail={"i": i})
    client = auditor(app, session_factory, services, world)
    html = client.get("/audit?action=category:change").data.decode()
    seen = positions(html)
    while 'id="older"' in html:
        older = re.search(r'id="older" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        html = client.get(older).data.decode()
        seen += positions(html)
    assert len(seen) == 120 and len(set(seen)) == 120 and seen == sorted(seen, reverse=True)
    # "Newer" from the second page leads back to the first.
    second = client.get(f"/audit?action=category:change&before={seen[49] + 1}").data.decode()
    newer = re.search(r'id="newer" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert positions(client.get(newer).data.decode()) == seen[:49] or positions(
        client.get(newer).data.decode())[-1] > seen[49]


def test_a_period_pages_by_time_without_gaps(app, session_factory, services, world):
    """A period's pages are ordered by time, then position (one index range a page, see
    core.audit.browse): entries appended out of time order, as reporters' are, come in time
    order, every entry of the period once, none outside it; "newer" leads back."""
    from datetime import UTC, datetime, timedelta

    from core.audit.log import Actor, AuditAction, record_event
    real_now = services.clock.now
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    try:
        for i in range(150):  # every third entry dated two days before its neighbours
            moment = start + timedelta(hours=4 * i) - timedelta(days=2 if i % 3 == 0 else 0)
            services.clock.now = lambda moment=moment: moment
            with transaction(session_factory) as s:
                record_event(s, services.clock, AuditAction.CATEGORY_CHANGED, Actor.system(),
                             detail={"i": i})
    finally:
        services.clock.now = real_now
    zone = services.clock.zone  # the organisation's days
    since, until = datetime(2026, 11, 5, tzinfo=zone), datetime(2026, 11, 20, tzinfo=zone)
    with session_factory() as s:
        rows = s.execute(select(AuditEvent.position, AuditEvent.occurred_at).where(
            AuditEvent.occurred_at >= since,
            AuditEvent.occurred_at < until + timedelta(days=1))).all()
    expected = [p for p, _t in sorted(rows, key=lambda row: (row[1], row[0]), reverse=True)]
    assert len(expected) > 60  # more than one page
    assert expected != sorted(expected, reverse=True)  # time order is not position order
    client = auditor(app, session_factory, services, world)
    html = client.get("/audit?since=2026-11-05&until=2026-11-20").data.decode()
    seen = positions(html)
    first = seen[:]
    while 'id="older"' in html:
        older = re.search(r'id="older" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert "since=2026-11-05" in older and "until=2026-11-20" in older
        html = client.get(older).data.decode()
        seen += positions(html)
    assert seen == expected
    second = client.get(f"/audit?since=2026-11-05&until=2026-11-20&before={seen[49]}")
    newer = re.search(r'id="newer" href="([^"]+)"', second.data.decode()).group(1)
    assert positions(client.get(newer.replace("&amp;", "&")).data.decode()) == first[:50]


def test_a_case_is_found_by_its_reference(app, session_factory, services, world):
    """Outside tester: the log named and filtered cases only by their internal number, while
    every other page (and every colleague) uses the reference."""
    client = auditor(app, session_factory, services, world)
    for typed in (world.reference, world.reference.lower(), world.reference[2:]):
        by_number = positions(client.get(f"/audit?case={world.case_id}").text)
        assert by_number
        page = client.get(f"/audit?case={typed}")
        assert page.status_code == 200, typed
        # The same entries, and the reading by number just before (each reading is logged).
        assert positions(page.text)[1:] == by_number[:49]
        assert f'value="{world.reference}"' in page.text
    listed = client.get("/audit").text
    assert f'?case={world.reference}">{world.reference}</a>' in listed
    unknown = client.get("/audit?case=C-ZZZZZZZZ")
    assert unknown.status_code == 400 and "No case has the reference C-ZZZZZZZZ" in unknown.text
    assert 'value="C-ZZZZZZZZ"' in unknown.text


def test_bad_filters_get_a_message_not_an_error(app, session_factory, services, world):
    client = auditor(app, session_factory, services, world)
    for query in ("case=abc", "since=2026-13-01", "action=drop table", "actor=x",
                  "since=2026-12-05&until=2026-12-01", "before=-1", "case=" + "9" * 30,
                  # Outside tester: these raised errors (500).
                  "case=%C2%B2", "actor=%C2%B2", "before=%C2%B2", "case=9999999999999999999",
                  "before=9999999999999999999", "after=9223372036854775808",
                  "until=9999-12-31", "since=0001-01-01", "case=" + "9" * 5000,
                  "case=%D9%A1%D9%A2%D9%A3"):
        response = client.get(f"/audit?{query}")
        assert response.status_code == 400, query
        assert b'id="filter-error"' in response.data


def test_export_download_verifies_offline(app, session_factory, services, world):
    from core.audit.verifier import verify_export
    with transaction(session_factory) as s:
        sign_checkpoint(s, services)
    client = auditor(app, session_factory, services, world)
    token = csrf(client, "/audit/checkpoints")
    response = client.post("/audit/export", data={"csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert CANARY.encode() not in archive.read("events.jsonl")
    path = services.config.data_dir.parent / "export.zip"
    path.write_bytes(response.data)
    kept = next((services.config.data_dir / "audit" / "checkpoints").glob("*.txt"))
    report = verify_export(path, key=verifier_key(services),
                           kept=[(kept.name, kept.read_text("utf-8"))])
    assert report.ok, report.problems
    event = last_event(session_factory)
    assert (event.action, event.reviewer_id) == ("audit:export", world.auditor.id)


def test_sign_now_and_proofs(app, session_factory, services, world):
    from core.audit.verifier_proofs import verify_proof
    client = auditor(app, session_factory, services, world)
    token = csrf(client, "/audit/checkpoints")
    empty = client.post("/audit/proof", data={"csrf_token": token, "kind": "inclusion",
                                              "value": "0"})
    assert empty.status_code == 400 and b"No checkpoint has been signed yet" in empty.data
    with transaction(session_factory) as s:  # the checkpoint the auditor keeps
        kept = sign_checkpoint(s, services).row
        kept = (kept.size, kept.note)
    signed = client.post("/audit/checkpoints", data={"csrf_token": token})
    assert signed.status_code == 303
    page = client.get("/audit/checkpoints").data.decode()
    assert "Checkpoint of" in page and "Valid" in page and verifier_key(services).encode() in page
    assert "Missing or different" not in page and "Does not verify" not in page
    with session_factory() as s:
        size = s.execute(select(AuditCheckpoint.size).order_by(
            AuditCheckpoint.size.desc()).limit(1)).scalar_one()
    assert last_event_of(session_factory, "audit:checkpoint").reviewer_id == world.auditor.id
    for kind, value in (("inclusion", size - 1), ("consistency", kept[0])):
        proof = client.post("/audit/proof", data={"csrf_token": token, "kind": kind,
                                                  "value": str(value)})
        assert proof.status_code == 200, proof.data[:500]
        path = services.config.data_dir.parent / f"{kind}.json"
        path.write_bytes(proof.data)
        report = verify_proof(path, key=verifier_key(services), kept=[("kept", kept[1])])
        assert report.ok, report.problems
        event = last_event_of(session_factory, "audit:prove")
        assert event.reviewer_id == world.auditor.id and json.loads(event.detail)["kind"] == kind
    outside = client.post("/audit/proof", data={"csrf_token": token, "kind": "inclusion",
                                                "value": str(size + 1000)})
    assert outside.status_code == 400 and b'id="proof-error"' in outside.data


def last_event_of(session_factory, action: str) -> AuditEvent:
    with session_factory() as s:
        return s.execute(select(AuditEvent).where(AuditEvent.action == action)
                         .order_by(AuditEvent.position.desc()).limit(1)).scalar_one()


def test_a_rewritten_log_is_refused_and_the_alarm_logged(app, session_factory, services,
                                                          world):
    with transaction(session_factory) as s:
        sign_checkpoint(s, services)
    with transaction(session_factory) as s:
        s.execute(text("UPDATE audit_events SET case_id = NULL WHERE position = 0"))
        # ... and recompute nothing: the last checkpointed entry is untouched, but a rewrite
        # of the chain is what the next check sees: simulate it on the boundary entry.
        last = s.execute(select(AuditCheckpoint.size)).scalar_one() - 1
        s.execute(text(f"UPDATE audit_events SET detail = '{{}}' WHERE position = {last}"))
    client = auditor(app, session_factory, services, world)
    token = csrf(client, "/audit/checkpoints")
    response = client.post("/audit/checkpoints", data={"csrf_token": token})
    assert response.status_code == 409 and b'id="log-damaged"' in response.data
    alarm = last_event_of(session_factory, "audit:damaged")
    assert alarm.reviewer_id == world.auditor.id
    with session_factory() as s:
        assert len(s.execute(select(AuditCheckpoint)).scalars().all()) == 1


def test_other_roles_cannot_read_the_log(app, session_factory, services, world):
    for handle in (world.on_case, world.admin):
        client = login_client(app, session_factory, services, handle)
        assert client.get("/audit").status_code == 403
        assert client.get("/audit/checkpoints").status_code == 403


def test_every_action_has_words_in_the_console():
    from core.audit.log import AuditAction
    from reviewer.audit_labels import ACTIONS
    assert {str(a) for a in AuditAction} == set(ACTIONS)


def test_every_case_action_has_words_in_the_case_history():
    """Outside tester: "Show every reading" listed the raw case:submitter:open."""
    from reviewer.audit_labels import ACTIONS
    from reviewer.labels import HISTORY
    assert [a for a in ACTIONS if a.startswith("case:") and a not in HISTORY] == []
