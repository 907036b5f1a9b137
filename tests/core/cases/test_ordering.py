"""Random row ids, and the per-case order that replaces their sequence (core.cases.ordering).

Sequential ids would number reporters' rows among staff rows, whose audit events carry exact
times; these tests hold that new rows in the four shared tables take random 63-bit ids and
that threads and file lists still come out in the order they were written.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.cases.casework import (
    post_reviewer_message,
    read_case_for_reviewer,
    store_reviewer_file,
)
from core.db import transaction
from core.intake.reporter import (
    login_submitter,
    post_submitter_message,
    read_case_for_submitter,
    store_submitter_file,
)
from core.models import Attachment, Case, CaseGrant, KeyKind, Message, MessageKind
from tests.core.factories import add_reviewer, chunks, seed_categories, submit

TABLES = (Case, CaseGrant, Message, Attachment)


@pytest.fixture
def ivy(session_factory, services):
    reviewer = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [reviewer.id]}, services=services)
    return reviewer


def _staff_says(session_factory, services, ivy, case_id, body, files=()):
    with transaction(session_factory) as s:
        stored = [store_reviewer_file(services, ivy.unlocked, s, case_id, KeyKind.CASE, name,
                                      "text/plain", chunks(data)) for name, data in files]
        post_reviewer_message(s, services, ivy.unlocked, case_id, MessageKind.INFORMATION,
                              body, stored)


def _reporter_says(session_factory, services, access, body, files=()):
    stored = [store_submitter_file(services, access, name, "text/plain", iter([data]))
              for name, data in files]
    with transaction(session_factory) as s:
        post_submitter_message(s, services, access, body, stored)


def test_new_rows_take_random_63_bit_ids(session_factory, services, ivy):
    cases = [submit(session_factory, services, files=[("a.txt", b"a"), ("b.txt", b"b")])
             for _ in range(8)]
    for case in cases:
        _staff_says(session_factory, services, ivy, case.case_id, "ok", [("c.txt", b"c")])
    with session_factory() as s:
        for model in TABLES:
            ids = s.scalars(select(model.id)).all()
            assert len(ids) >= 8, model
            assert all(1 << 62 <= i < 1 << 63 for i in ids), model
            assert len(set(ids)) == len(ids)
    created = [case.case_id for case in cases]
    # Written in this order, numbered in none: 8 ids in creation order by chance is 1 in 40320.
    assert created != sorted(created)


def test_thread_and_files_keep_the_order_they_were_written(session_factory, services, ivy):
    case = submit(session_factory, services, files=[(f"report-{i}.txt", b"r") for i in range(4)])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, case.receipt_code)
    said = []
    for turn in range(6):  # all on one day: the ids alone could not order them
        body = f"turn {turn}"
        files = [(f"{turn}-{i}.txt", body.encode()) for i in range(3)]
        if turn % 2:
            _reporter_says(session_factory, services, access, body, files)
        else:
            _staff_says(session_factory, services, ivy, case.case_id, body, files)
        said.append((body, [name for name, _ in files]))
    expected_report_files = [f"report-{i}.txt" for i in range(4)]
    with transaction(session_factory) as s:
        views = [read_case_for_submitter(s, services, access),
                 read_case_for_reviewer(s, services, ivy.unlocked, case.case_id)]
    for view in views:
        assert [(m.body, [f.meta.name for f in m.files]) for m in view.messages] == said
        assert [f.meta.name for f in view.files] == expected_report_files
    with session_factory() as s:
        messages = s.scalars(select(Message.position).where(Message.case_id == case.case_id))
        assert sorted(messages) == [1, 2, 3, 4, 5, 6]
        files = s.scalars(select(Attachment.position).where(Attachment.case_id == case.case_id))
        assert sorted(files) == list(range(1, 4 + 6 * 3 + 1))


def test_positions_count_within_each_case(session_factory, services, ivy):
    first, second = (submit(session_factory, services, files=[("x.txt", b"x")])
                     for _ in range(2))
    for turn in range(3):  # interleaved between the two cases
        for case in (first, second):
            _staff_says(session_factory, services, ivy, case.case_id, f"{turn}", [("y", b"y")])
    with session_factory() as s:
        for case in (first, second):
            positions = s.scalars(select(Message.position)
                                  .where(Message.case_id == case.case_id)).all()
            assert sorted(positions) == [1, 2, 3]
            files = s.scalars(select(Attachment.position)
                              .where(Attachment.case_id == case.case_id)).all()
            assert sorted(files) == [1, 2, 3, 4]
