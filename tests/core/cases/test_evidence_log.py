"""core.cases.evidence (read back through core.cases.casework_reading): entries encrypted,
hashed in the audit log, corrected by new entries, and a moved ciphertext caught."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text, update

from core.cases import workflow
from core.cases.casework import StageRefused
from core.cases.casework_reading import read_casework
from core.cases.evidence import add_evidence
from core.db import transaction
from core.errors import InvalidInput, NotFound
from core.models import (
    EvidenceEntry,
    EvidenceKind,
)
from tests.core.cases.casework_fixtures import (
    CORRECTION,
    INTERVIEW,
    NOTE,
    accepted_case,
    count,
    decide,
    details,
    stopped_clock,
)
from tests.core.factories import audit_actions, audit_size, submit


@pytest.fixture
def fixed(services):
    return stopped_clock(services)


@pytest.fixture
def team(session_factory, services, fixed):
    return accepted_case(session_factory, services, fixed)


def test_interviews_need_the_interviewee(session_factory, fixed, team) -> None:
    alice, _bob, case_id = team
    size = audit_size(session_factory)
    for interviewee in ("", "   "):
        with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
            add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.INTERVIEW,
                         text=INTERVIEW, interviewee=interviewee)
        assert refused.value.field == "interviewee"
    with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
        add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE, text=" ")
    assert refused.value.field == "text"
    with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
        add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.FILE, text="No file.")
    assert refused.value.field == "files"
    assert count(session_factory, EvidenceEntry) == 0
    assert audit_size(session_factory) == size


def test_the_log_is_encrypted_hashed_and_corrected_by_new_entries(session_factory, fixed,
                                                                  team) -> None:
    alice, bob, case_id = team
    with transaction(session_factory) as s:
        note = add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE, text=NOTE)
        interview = add_evidence(s, fixed, bob.unlocked, case_id, EvidenceKind.INTERVIEW,
                                 interviewee="The night guard", text=INTERVIEW)
        correction = add_evidence(s, fixed, bob.unlocked, case_id, EvidenceKind.NOTE,
                                  text=CORRECTION, corrects_id=note.id)
        ids = [note.id, interview.id, correction.id]

    with session_factory() as s:
        rows = {e.id: (e.position, e.corrects_id, bytes(e.ciphertext))
                for e in s.execute(select(EvidenceEntry)).scalars()}
    assert [rows[i][:2] for i in ids] == [(1, None), (2, None), (3, note.id)]
    # The hash in each audit event is that of the stored ciphertext.
    logged = details(session_factory, "case:evidence:add")
    assert [d["entry_id"] for d in logged] == ids
    assert [d["sha256"] for d in logged] == [
        hashlib.sha256(rows[i][2]).hexdigest() for i in ids]
    assert [d["kind"] for d in logged] == ["note", "interview", "note"]
    assert [d["corrects_id"] for d in logged] == [None, None, note.id]
    with transaction(session_factory) as s:
        view = read_casework(s, fixed, bob.unlocked, case_id)

    assert [e.id for e in view.evidence] == ids
    assert [e.kind for e in view.evidence] == [EvidenceKind.NOTE, EvidenceKind.INTERVIEW,
                                               EvidenceKind.NOTE]
    assert [e.author for e in view.evidence] == ["alice", "bob", "bob"]
    assert [e.content.text("text") for e in view.evidence] == [NOTE, INTERVIEW, CORRECTION]
    assert view.evidence[1].content.text("interviewee") == "The night guard"
    assert [e.corrects_position for e in view.evidence] == [None, None, 1]
    assert not any(e.content.tampered for e in view.evidence)
    assert all(e.created_on == fixed.clock.today() for e in view.evidence)
    assert "case:record:tampered" not in audit_actions(session_factory)
    assert audit_actions(session_factory)[-1] == "case:report:decrypt"


def test_no_plaintext_in_the_stored_rows(session_factory, fixed, team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s:
        add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE, text=NOTE)
        add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.INTERVIEW,
                     interviewee="CANARY-WITNESS", text=INTERVIEW)
    secrets = [NOTE, INTERVIEW, "CANARY-WITNESS", "CANARY"]
    with session_factory() as s:
        ciphertexts = [bytes(c) for c in s.execute(
            text("select ciphertext from evidence_entries")).scalars()]
        every_cell = [cell for row in s.execute(text("select * from evidence_entries"))
                      for cell in row]
        audit = [str(d) for d in s.execute(text("select detail from audit_events")).scalars()]
    assert len(ciphertexts) == 2
    for secret in secrets:
        for encoding in ("utf-8", "utf-16-le"):
            raw = secret.encode(encoding)
            assert not any(raw in c for c in ciphertexts), secret
        assert not any(secret in str(cell) for cell in every_cell)
        assert not any(secret in d for d in audit)


def test_a_correction_points_into_the_same_case(session_factory, fixed, team) -> None:
    alice, _bob, case_id = team
    other = submit(session_factory, fixed).case_id
    with transaction(session_factory) as s:
        foreign = add_evidence(s, fixed, alice.unlocked, other, EvidenceKind.NOTE,
                               text="Elsewhere.").id
    size = audit_size(session_factory)
    for corrects in (foreign, 123_456_789):
        with transaction(session_factory) as s, pytest.raises(NotFound):
            add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE,
                         text="Correction.", corrects_id=corrects)
    assert audit_size(session_factory) == size
    assert count(session_factory, EvidenceEntry) == 1


def test_the_log_of_a_closed_case_is_archived(session_factory, fixed, team) -> None:
    _alice, bob, case_id = team
    decide(session_factory, fixed, team)
    with transaction(session_factory) as s:
        workflow.give_feedback(s, fixed, bob.unlocked, case_id, "Done.", "Logs.",
                               grounds_heading="Grounds:")
        workflow.close_case(s, fixed, bob.unlocked, case_id)
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        add_evidence(s, fixed, bob.unlocked, case_id, EvidenceKind.NOTE, text="Late.")
    assert count(session_factory, EvidenceEntry) == 0


def test_a_copied_ciphertext_is_reported_as_tampered(session_factory, fixed, team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s:
        first = add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE,
                             text="The first note.").id
        second = add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE,
                              text="The second note.").id
    # Someone with write access to the database copies the first entry over the second.
    with transaction(session_factory) as s:
        source = s.get(EvidenceEntry, first).ciphertext
        s.execute(update(EvidenceEntry).where(EvidenceEntry.id == second)
                  .values(ciphertext=source))
    before = audit_actions(session_factory).count("case:record:tampered")
    with transaction(session_factory) as s:
        view = read_casework(s, fixed, alice.unlocked, case_id)
    by_id = {e.id: e for e in view.evidence}
    assert not by_id[first].content.tampered
    assert by_id[first].content.text("text") == "The first note."
    assert by_id[second].content.tampered
    assert by_id[second].content.content is None
    assert by_id[second].content.text("text") == ""  # never the first note's text
    assert audit_actions(session_factory).count("case:record:tampered") == before + 1
    assert details(session_factory, "case:record:tampered")[-1] == {
        "record": f"evidence:{second}"}
