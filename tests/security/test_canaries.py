"""REQUIRED by the issue: submit cases with unique canary strings in every field, then scan the
raw SQLite file (and its WAL), a full PostgreSQL dump and the blob and data directories. No
canary and no receipt code may be found. Positive controls prove the scans can see data."""

from __future__ import annotations

import io
import secrets
import sqlite3
import zipfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.audit.checkpoints import sign_checkpoint
from core.audit.export import write_export
from core.audit.log import Actor
from core.cases.casework import (
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
    store_reviewer_file,
)
from core.cases.content import Identity, ReportContent
from core.cases.identity_access import reveal_identity
from core.cases.team_changes import exclude_member, grant_case
from core.db import transaction
from core.intake.reporter import (
    login_submitter,
    open_file_for_submitter,
    post_submitter_message,
    read_case_for_submitter,
    store_submitter_file,
)
from core.models import (
    KeyKind,
    MessageKind,
    Reviewer,
)
from crypto.receipt import format_receipt
from tests.core.factories import add_reviewer, approve_identity, chunks, seed_categories, submit
from tests.security.canary_case_cycle import run_case_cycle
from tests.security.scanning import (
    byte_forms,
    files_under,
    pg_dump,
    receipt_needles,
    repeated,
    scan_bytes,
    scan_files,
    sqlite_files,
)

# --- the scanner ------------------------------------------------------------------------------


def test_scanner_finds_every_form():
    needles = {"a": "CANARY-X-" + secrets.token_hex(4), "zh": "金丝雀" + secrets.token_hex(2)}
    for label, value in needles.items():
        for form, pattern in byte_forms(value).items():
            haystack = secrets.token_bytes(500) + pattern + secrets.token_bytes(500)
            assert (label, form) in scan_bytes(haystack, needles)
    assert scan_bytes(secrets.token_bytes(5000), needles) == set()


# --- the scenario -----------------------------------------------------------------------------


def make_canaries() -> dict[str, str]:
    fields = [
        "summary",
        "description",
        "what_happened",
        "when",
        "where",
        "who_involved",
        "how_known",
        "evidence",
        "identity_name",
        "identity_contact",
        "identity_position",
        "file_name",
        "file_bytes",
        "big_file_bytes",
        "content_type",
        "second_report",
        "submitter_message",
        "submitter_file_name",
        "submitter_file_bytes",
        "clarification",
        "information",
        "internal_note",
        "reveal_reason",
        "reviewer_file_name",
        "reviewer_file_bytes",
        "team_file_name",
        "team_file_bytes",
        # The case cycle (issue 13).
        "acknowledgement", "evidence_note", "interviewee", "interview_summary",
        "evidence_file_name", "evidence_file_bytes", "decision_reasons", "responsibility",
        "sanction_details", "recognition_details", "action_title", "action_notes",
        "action_follow_up", "outcome", "grounds", "outcome_comment", "staff_recorded",
        "staff_recorded_name",
    ]
    canaries = {f: f"CANARY-{f.upper()}-{secrets.token_hex(8)}" for f in fields}
    canaries["chinese"] = f"金丝雀举报内容{secrets.token_hex(4)}测试"
    canaries["chinese_message"] = f"请回复我{secrets.token_hex(4)}谢谢"
    return canaries


def run_scenario(session_factory, services, c: dict[str, str]) -> list[str]:
    """Every path by which text reaches the server; returns the receipt codes handed out."""
    ivy = add_reviewer(session_factory, services, "ivy")
    peer = add_reviewer(session_factory, services, "peer")
    outsider = add_reviewer(session_factory, services, "outsider")
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    seed_categories(session_factory, {"misconduct": [ivy.id], "security": [ivy.id]},
                    services=services)

    report = ReportContent(
        summary=c["summary"],
        description=c["description"] + " " + c["chinese"],
        what_happened=c["what_happened"],
        when=c["when"],
        where=c["where"],
        who_involved=c["who_involved"],
        how_known=c["how_known"],
        evidence=c["evidence"],
    )
    big = repeated(c["big_file_bytes"], 300 * 1024)
    assert len(big) > 64 * 1024
    first = submit(
        session_factory,
        services,
        category="misconduct",
        report=report,
        identity=Identity(
            name=c["identity_name"], contact=c["identity_contact"], position=c["identity_position"]
        ),
        files=[
            (c["file_name"] + ".txt", repeated(c["file_bytes"], 5000)),
            (c["chinese"] + ".pdf", big),
            ("empty.bin", b""),
        ],
        content_type="text/x-" + c["content_type"].lower(),
    )
    second = submit(
        session_factory,
        services,
        category="security",
        report=ReportContent(summary=c["second_report"]),
        files=[("second.txt", repeated(c["second_report"], 70 * 1024))],
    )

    with transaction(session_factory) as s:
        access = login_submitter(s, services, format_receipt(first.receipt_code))
        view = read_case_for_submitter(s, services, access)
    for f in view.files:
        with transaction(session_factory) as s:
            _meta, stream = open_file_for_submitter(s, services, access, f.id)
            b"".join(stream)
    stored = store_submitter_file(
        services,
        access,
        c["submitter_file_name"],
        "text/plain",
        chunks(repeated(c["submitter_file_bytes"], 80 * 1024)),
    )
    with transaction(session_factory) as s:
        post_submitter_message(
            s, services, access, c["submitter_message"] + " " + c["chinese_message"], [stored]
        )

    case_id = first.case_id
    # The identity request's reason travels encrypted to the custodians (its own canary).
    approve_identity(session_factory, services, ivy, keeper, case_id,
                     reason=c["reveal_reason"] + " request")
    me = ivy.unlocked
    with transaction(session_factory) as s:
        rview = read_case_for_reviewer(s, services, me, case_id)
        for f in [*rview.files, *rview.messages[0].files]:
            _meta, stream = open_file_for_reviewer(s, services, me, f.id)
            b"".join(stream)
        case_file = store_reviewer_file(
            services,
            me,
            s,
            case_id,
            KeyKind.CASE,
            c["reviewer_file_name"],
            "text/plain",
            chunks(repeated(c["reviewer_file_bytes"], 2000)),
        )
        team_file = store_reviewer_file(
            services,
            me,
            s,
            case_id,
            KeyKind.TEAM,
            c["team_file_name"],
            "text/plain",
            chunks(repeated(c["team_file_bytes"], 90 * 1024)),
        )
        post_reviewer_message(
            s,
            services,
            me,
            case_id,
            MessageKind.CLARIFICATION_REQUEST,
            c["clarification"],
            [case_file],
        )
        post_reviewer_message(
            s, services, me, case_id, MessageKind.INTERNAL_NOTE, c["internal_note"], [team_file]
        )
        post_reviewer_message(s, services, me, case_id, MessageKind.INFORMATION, c["information"])
        revealed = reveal_identity(s, services, me, case_id, c["reveal_reason"])
        assert revealed.name == c["identity_name"]
        grant_case(s, services, me, case_id, s.get(Reviewer, peer.id))
        exclude_member(s, services, Actor.reviewer(ivy.id), case_id, s.get(Reviewer, outsider.id))
    with transaction(session_factory) as s:
        read_case_for_reviewer(s, services, peer.unlocked, case_id)
        read_case_for_reviewer(s, services, me, second.case_id)
    with transaction(session_factory) as s:
        again = read_case_for_submitter(
            s, services, login_submitter(s, services, first.receipt_code)
        )
        assert c["clarification"] in [m.body for m in again.messages]
    staff_code = run_case_cycle(session_factory, services, c, ivy, second.case_id,
                                second.receipt_code)
    with transaction(session_factory) as s:
        sign_checkpoint(s, services)
        # The auditors' export, unpacked beside the data directory so that the scans read
        # its members as plain files.
        archive = io.BytesIO()
        write_export(s, services, archive)
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(services.config.data_dir.parent / "audit-export")
    return [first.receipt_code, second.receipt_code, staff_code]


# --- SQLite -----------------------------------------------------------------------------------


BLOBS_WRITTEN = 8  # files: 3 + 1 with the reports, 1 + 2 in messages, 1 evidence file


def test_no_canary_in_database_blobs_or_data_dir(
    tmp_path, tmp_path_factory, backend, database_url, engine, session_factory, services
):
    canaries = make_canaries()
    codes = run_scenario(session_factory, services, canaries)
    needles = {**canaries, **receipt_needles(codes)}
    if backend == "sqlite":
        check_sqlite(tmp_path, database_url, engine, services, needles)
    else:
        check_postgres(tmp_path, tmp_path_factory, database_url, engine, services, needles)


def checkpoint_sqlite(engine, db: Path) -> None:
    """Move the WAL into the main file (closing the app's connections first)."""
    engine.dispose()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    finally:
        conn.close()


def check_sqlite(tmp_path, database_url, engine, services, needles):
    db = Path(make_url(database_url).database)
    assert db.is_relative_to(tmp_path)
    wal = Path(f"{db}-wal")
    # Before a checkpoint the new pages sit in the WAL: scan it, the main file and the shm.
    assert wal.exists() and wal.stat().st_size > 0
    before = sqlite_files(database_url)
    assert scan_files(before, needles) == []
    # Everything else on disk: data dir, secrets, blobs (and again the database files).
    everything = files_under(tmp_path)
    blob_files = files_under(services.config.blob_dir)
    assert len(blob_files) == BLOBS_WRITTEN
    assert db in everything
    assert scan_files(everything, needles) == []

    # After a checkpoint everything is in the main file.
    checkpoint_sqlite(engine, db)
    assert db.stat().st_size > 50_000
    assert scan_files(files_under(tmp_path), needles) == []

    # Positive controls: the same scans find a canary that is stored in clear.
    control_text = "CANARY-CONTROL-" + secrets.token_hex(8)
    control_zh = "对照金丝雀" + secrets.token_hex(4)
    control_blob = "CANARY-CONTROL-BLOB-" + secrets.token_hex(8)
    control_file = "CANARY-CONTROL-FILE-" + secrets.token_hex(8)
    controls = {"text": control_text, "zh": control_zh, "blob": control_blob, "file": control_file}
    with engine.begin() as conn:
        conn.execute(text("create table scratch_control (t text, b blob)"))
        conn.execute(
            text("insert into scratch_control values (:t, :b)"),
            {"t": control_text + " " + control_zh, "b": control_blob.encode()},
        )
    (services.config.blob_dir / "ab").mkdir(exist_ok=True)
    (services.config.blob_dir / "ab" / "control").write_bytes(control_file.encode())
    in_wal = {label for _path, label, _form in scan_files(sqlite_files(database_url), controls)}
    assert in_wal == {"text", "zh", "blob"}
    found = {label for _path, label, _form in scan_files(files_under(tmp_path), controls)}
    assert found == {"text", "zh", "blob", "file"}
    checkpoint_sqlite(engine, db)
    found = {label for _p, label, _f in scan_files([db], controls)}
    assert found == {"text", "zh", "blob"}
    # ... while the real canaries are still nowhere.
    assert scan_files(files_under(tmp_path), needles) == []


# --- PostgreSQL -------------------------------------------------------------------------------


def check_postgres(tmp_path, tmp_path_factory, database_url, engine, services, needles):
    dump_dir = tmp_path_factory.mktemp("dump")
    dump = pg_dump(database_url, dump_dir / "candor.sql", engine)
    # The dump is real: it holds the tables and their ciphertext rows.
    for table in (b"cases", b"case_grants", b"messages", b"attachments", b"audit_events"):
        assert b"COPY public." + table in dump
    assert b"\\\\x" in dump or b"\\x" in dump  # bytea as hex
    assert scan_bytes(dump, needles) == set()

    everything = files_under(tmp_path)
    assert len(files_under(services.config.blob_dir)) == BLOBS_WRITTEN
    assert scan_files(everything, needles) == []

    # Positive control: clear text and bytea in a scratch table show up in a new dump (the
    # bytea one only as hex), and a clear file in the blob folder is found.
    control_text = "CANARY-CONTROL-" + secrets.token_hex(8)
    control_zh = "对照金丝雀" + secrets.token_hex(4)
    control_bytes = "CANARY-CONTROL-BYTEA-" + secrets.token_hex(8)
    control_file = "CANARY-CONTROL-FILE-" + secrets.token_hex(8)
    with engine.begin() as conn:
        conn.execute(text("create table scratch_control (t text, b bytea)"))
        conn.execute(
            text("insert into scratch_control values (:t, :b)"),
            {"t": control_text + " " + control_zh, "b": control_bytes.encode()},
        )
    (services.config.blob_dir / "ab").mkdir(exist_ok=True)
    (services.config.blob_dir / "ab" / "control").write_bytes(control_file.encode())
    dump = pg_dump(database_url, dump_dir / "control.sql", engine)
    controls = {"text": control_text, "zh": control_zh, "bytes": control_bytes}
    found = scan_bytes(dump, controls)
    assert {label for label, _ in found} == {"text", "zh", "bytes"}
    assert ("bytes", "hex") in found
    assert scan_bytes(dump, needles) == set()
    found_files = scan_files(files_under(tmp_path), {"file": control_file})
    assert [label for _p, label, _f in found_files] == ["file"]
