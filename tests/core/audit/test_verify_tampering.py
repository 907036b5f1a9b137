"""The offline verifier catches any one change to the stored access log below the auditor's
kept checkpoint, and names where it is.

Guards: whatever single change someone with the database makes to the entries a kept
checkpoint covers (an edited field, with or without the chain re-hashed; an entry removed,
inserted or swapped, the rest renumbered and re-hashed; the tail truncated) `verify_export`
fails and names the first changed position; an edited checkpoint note, in the database or in
the data directory, fails it too. And with the signing key stolen and the leaf file rewritten,
the auditor's own checkpoints still catch the rewrite, within the range they report.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from base64 import b64encode
from datetime import timedelta
from hashlib import sha256
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from cli.main import cli
from core.audit.checkpoints import LogDamaged, checkpoint_states, sign_checkpoint, verifier_key
from core.audit.export import write_export
from core.audit.log import ENTRY_COLUMNS, Actor, AuditAction, entry_bytes, record_event
from core.audit.store import audit_folder, checkpoint_files
from core.audit.verifier import Report, verify_export
from core.db import transaction
from core.models import ActorKind, AuditCheckpoint, AuditEvent, AuditHead, PendingAuditEvent
from crypto.audit_chain import GENESIS, chain_hash, leaf_hash
from tests.core.audit.test_log import A, _populate, verify_all

FIELDS = ("action", "case_id", "reviewer_id", "detail", "occurred_at", "actor_kind")
NOTE_LINES = ("origin", "size", "root", "time")
_exports = itertools.count()


@dataclasses.dataclass
class Instance:
    """A log as the tests build it: its services (with their own data directory), the sizes
    of its checkpoints and the newest checkpoint, kept aside by the auditor."""

    session_factory: object
    services: object
    sizes: list[int]
    kept: list[tuple[str, str]]
    work: Path

    def export(self) -> Path:
        path = self.work / f"export-{next(_exports)}.zip"
        with self.session_factory() as s:
            write_export(s, self.services, path)
            s.rollback()  # the export's own entry is not kept: the log stays as tampered
        return path

    def report(self, kept: list[tuple[str, str]] | None = None) -> Report:
        return verify_export(self.export(), key=verifier_key(self.services),
                             kept=self.kept if kept is None else kept)


def keep(instance_dir: Path, note: str, size: int) -> tuple[str, str]:
    """What the auditor does with a mailed checkpoint: keep a copy of their own."""
    path = instance_dir / "kept" / f"{size}.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text(note, encoding="utf-8")
    return path.name, path.read_text(encoding="utf-8")


def build(session_factory, services, ids: dict, batches: list[int], specs: list[tuple],
          work: Path) -> Instance:
    """A fresh log in a wiped database and a new data directory: each batch of real events
    (`specs`: actor, action, case) followed by a checkpoint signed in its own transaction,
    then the rest of `specs` after the last checkpoint (unprotected)."""
    work.mkdir()
    services = dataclasses.replace(
        services, config=dataclasses.replace(services.config, data_dir=work / "data"))
    with transaction(session_factory) as s:
        for table in (AuditEvent, AuditCheckpoint, PendingAuditEvent):
            s.execute(delete(table))
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(size=0, head=GENESIS))
    actors = [Actor.system(), *(Actor.reviewer(r) for r in ids["reviewers"])]
    remaining = iter(enumerate(specs))
    sizes, note = [], ""
    for number, count in enumerate([*batches, len(specs) - sum(batches)]):
        with transaction(session_factory) as s:
            for n, (actor, action, case) in itertools.islice(remaining, count):
                record_event(s, services.clock, action, actors[actor % len(actors)],
                             case_id=None if case is None else ids["cases"][case],
                             detail={"n": n})
        if number < len(batches):
            with transaction(session_factory) as s:
                signed = sign_checkpoint(s, services)
                sizes.append(signed.row.size)
                note = signed.row.note
    return Instance(session_factory, services, sizes, [keep(work, note, sizes[-1])], work)


@pytest.fixture
def ids(session_factory, services, world) -> dict:
    """Real staff accounts and cases for the events to name."""
    _populate(session_factory, services, world)
    with session_factory() as s:
        cases = sorted(set(s.execute(select(AuditEvent.case_id)
                                     .where(AuditEvent.case_id.is_not(None))).scalars()))
    return {"reviewers": [world["ivy"].id, world["peer"].id], "cases": cases}


# --- what the attacker does ---------------------------------------------------------------------


def rows_of(session_factory) -> list[dict]:
    with session_factory() as s:
        return [{f: getattr(row, f) for f in FIELDS} for row in s.execute(
            select(*ENTRY_COLUMNS).order_by(AuditEvent.position))]


def rewrite(session_factory, change) -> None:
    """Someone with the database rewrites the log: every entry read, `change`d, stored back
    renumbered 0, 1, 2, ... with every leaf and chain hash and the head recomputed."""
    rows = change(rows_of(session_factory))
    with transaction(session_factory) as s:
        s.execute(delete(AuditEvent))
        current = GENESIS
        for position, row in enumerate(rows):
            event = AuditEvent(position=position, **row)
            event.leaf_hash = leaf_hash(entry_bytes(event))
            event.chain_hash = current = chain_hash(current, event.leaf_hash)
            s.add(event)
        s.execute(update(AuditHead).where(AuditHead.id == 1)
                  .values(size=len(rows), head=current))


def edited(field: str, old, ids: dict, variant: int):
    """Another value of `field` than `old` (`variant` picks which)."""
    if field == "detail":
        return json.dumps({"forged": True, "n": variant}, separators=(",", ":"),
                          sort_keys=True)
    if field == "occurred_at":
        return old + timedelta(seconds=1 + variant)
    choices = {
        "action": [str(a) for a in AuditAction],
        "case_id": [None, *ids["cases"], 987_654_321],
        "reviewer_id": [None, *ids["reviewers"]],
        "actor_kind": list(ActorKind),
    }[field]
    choices = [c for c in choices if c != old]
    return choices[variant % len(choices)]


def edited_note(note: str, line: str) -> str:
    """The note with one line of its signed text changed (its signature left as it was)."""
    text, _, signatures = note.partition("\n\n")
    origin, size, root, when = text.split("\n")[:4]
    changed = {
        "origin": [origin + "x", size, root, when],
        "size": [origin, str(int(size) + 1), root, when],
        "root": [origin, size, b64encode(sha256(root.encode()).digest()).decode(), when],
        "time": [origin, size, root, "time 2001-02-03T04:05:06Z"],
    }[line]
    return "\n".join(changed) + "\n\n" + signatures


def tamper(instance: Instance, ids: dict, mutation: tuple) -> int | None:
    """Apply one mutation; return the first position it changed (None: a checkpoint)."""
    sf, kind, *args = instance.session_factory, *mutation
    if kind == "edit":
        position, field, variant = args
        with transaction(sf) as s:
            event = s.get(AuditEvent, position)
            setattr(event, field, edited(field, getattr(event, field), ids, variant))
        return position
    if kind == "edit_rehashed":
        position, field, variant = args

        def change(rows):
            rows[position][field] = edited(field, rows[position][field], ids, variant)
            return rows
        rewrite(sf, change)
        return position
    if kind == "delete":
        with transaction(sf) as s:
            s.execute(delete(AuditEvent).where(AuditEvent.position == args[0]))
        return args[0]
    if kind == "delete_renumbered":
        rewrite(sf, lambda rows: rows[:args[0]] + rows[args[0] + 1:])
        return args[0]
    if kind == "insert":
        position = args[0]
        forged = {"action": str(A.CASE_LEAD_CHANGED), "case_id": None, "reviewer_id": None,
                  "detail": '{"forged":true}', "actor_kind": ActorKind.SYSTEM}
        rewrite(sf, lambda rows: [*rows[:position],
                                  {**forged, "occurred_at": rows[position]["occurred_at"]},
                                  *rows[position:]])
        return position
    if kind == "swap":
        first, second = args[0]

        def change(rows):
            rows[first], rows[second] = rows[second], rows[first]
            return rows
        rewrite(sf, change)
        return first
    if kind == "truncate":
        size = args[0]
        with transaction(sf) as s:
            s.execute(delete(AuditEvent).where(AuditEvent.position >= size))
            head = s.get(AuditHead, 1)
            head.size = size
            head.head = bytes(s.get(AuditEvent, size - 1).chain_hash) if size else GENESIS
        return size
    index, line = args
    size = instance.sizes[index]
    if kind == "checkpoint_row":
        with transaction(sf) as s:
            row = s.execute(select(AuditCheckpoint)
                            .where(AuditCheckpoint.size == size)).scalar_one()
            row.note = edited_note(row.note, line)
        return None
    assert kind == "checkpoint_file"
    path = checkpoint_files(instance.services.config.data_dir).path_for(size)
    path.write_text(edited_note(path.read_text("utf-8"), line), encoding="utf-8")
    return None


def mutations(kept_size: int, checkpoints: int) -> st.SearchStrategy[tuple]:
    """One change to the entries below the kept checkpoint, or to a stored checkpoint."""
    below = st.integers(0, kept_size - 1)
    variant = st.integers(0, 10_000)
    fields = st.sampled_from(FIELDS)
    checkpoint = st.integers(0, checkpoints - 1)
    return st.one_of(
        st.tuples(st.just("edit"), below, fields, variant),
        st.tuples(st.just("edit_rehashed"), below, fields, variant),
        st.tuples(st.just("delete"), below),
        st.tuples(st.just("delete_renumbered"), below),
        st.tuples(st.just("insert"), below),
        st.tuples(st.just("swap"), st.lists(below, min_size=2, max_size=2, unique=True)
                  .map(sorted).map(tuple)),
        st.tuples(st.just("truncate"), below),
        st.tuples(st.sampled_from(["checkpoint_row", "checkpoint_file"]), checkpoint,
                  st.sampled_from(NOTE_LINES)),
    )


EVENT = st.tuples(st.integers(0, 2), st.sampled_from(list(AuditAction)),
                  st.one_of(st.none(), st.integers(0, 1)))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_one_change_below_the_kept_checkpoint_is_named(session_factory, services, ids,
                                                            tmp_path, data):
    batches = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)
                        .map(lambda b: [b[0] + 1, *b[1:]]), label="batches")
    specs = data.draw(st.lists(EVENT, min_size=sum(batches), max_size=sum(batches) + 3),
                      label="events")
    instance = build(session_factory, services, ids, batches, specs,
                     tmp_path / f"example-{next(_exports)}")
    kept_size = instance.sizes[-1]
    baseline = instance.report()
    assert baseline.ok, baseline.problems

    mutation = data.draw(mutations(kept_size, len(batches)), label="mutation")
    expected = tamper(instance, ids, mutation)
    report = instance.report()

    assert not report.ok, mutation
    if expected is not None:
        assert report.first_bad_position == expected, (mutation, report.ordered())


def test_deleting_every_decryption_and_rehashing_is_caught(session_factory, services, world,
                                                           tmp_path):
    """The issue's attack: every 'report decrypted' entry deleted, the rest renumbered and the
    chain re-hashed. The chain is consistent again, but the checkpoint is not fooled, nor is
    `candor audit verify`."""
    _populate(session_factory, services, world)
    with transaction(session_factory) as s:
        signed = sign_checkpoint(s, services)
    instance = Instance(session_factory, services, [signed.row.size],
                        [keep(tmp_path, signed.row.note, signed.row.size)], tmp_path)
    decryptions = [position for position, row in enumerate(rows_of(session_factory))
                   if row["action"] == A.REPORT_DECRYPTED]
    assert decryptions and decryptions[-1] < signed.row.size

    rewrite(session_factory, lambda rows: [r for r in rows
                                           if r["action"] != A.REPORT_DECRYPTED])
    verify_all(session_factory)  # the database's own chain checks out again
    assert not any(r["action"] == A.REPORT_DECRYPTED for r in rows_of(session_factory))
    with pytest.raises(LogDamaged), transaction(session_factory) as s:
        sign_checkpoint(s, services)

    report = instance.report()
    assert not report.ok
    assert report.first_bad_position == decryptions[0]

    kept_file = tmp_path / "kept" / instance.kept[0][0]
    result = CliRunner().invoke(cli, ["audit", "verify", str(instance.export()),
                                      "--public-key", verifier_key(services).encode(),
                                      "--checkpoint", str(kept_file)])
    assert result.exit_code == 1, result.output
    assert f"The first bad position is {decryptions[0]}." in result.output
    assert f"position {decryptions[0]}: " in result.output


def test_a_stolen_key_and_rewritten_leaves_are_caught_by_the_kept_checkpoints(
        session_factory, services, ids, tmp_path):
    """The attacker holds the server's files and its signing key: they rewrite an entry,
    re-hash the chain, throw away the leaf file and checkpoints and sign new ones. The export
    is then consistent with itself; only the auditor's kept checkpoints catch it, and the
    range they report holds the changed position."""
    instance = build(session_factory, services, ids, [4, 5], [(n, A.REPORT_DECRYPTED, n % 2)
                                                               for n in range(12)],
                     tmp_path / "instance")
    older, newer = instance.sizes
    kept = [instance.kept[0]]
    with session_factory() as s:
        kept.insert(0, keep(instance.work, s.execute(
            select(AuditCheckpoint.note).where(AuditCheckpoint.size == older)).scalar_one(),
            older))
    changed = older + 2
    assert older < changed < newer

    def change(rows):
        rows[changed]["detail"] = '{"n":0}'
        return rows
    rewrite(session_factory, change)
    with transaction(session_factory) as s:
        s.execute(delete(AuditCheckpoint))
    for path in sorted(audit_folder(instance.services.config.data_dir).rglob("*"),
                       reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    for _ in range(2):  # re-signed with the stolen key, over the rewritten leaves
        with transaction(session_factory) as s:
            sign_checkpoint(s, instance.services)

    assert instance.report(kept=[]).ok  # the export alone proves nothing
    report = instance.report(kept=kept)
    assert not report.ok
    assert report.first_bad_position == older
    [problem] = report.problems
    assert f"between positions {older} and {newer - 1}" in problem.message
    assert older <= changed <= newer - 1


@pytest.mark.parametrize("column", ["root", "size"])
def test_a_checkpoint_row_edited_outside_its_note(session_factory, services, ids, tmp_path,
                                                  column):
    """A checkpoint row's size and root only repeat what its signed note says: exports carry
    the notes, so the log still verifies, and the auditor console flags the row."""
    instance = build(session_factory, services, ids, [3], [(0, A.REPORT_DECRYPTED, 0)] * 4,
                     tmp_path / "instance")
    with transaction(session_factory) as s:
        row = s.execute(select(AuditCheckpoint)).scalar_one()
        if column == "root":
            row.root = sha256(bytes(row.root)).digest()
        else:
            row.size += 1
    assert instance.report().ok
    with session_factory() as s:
        [state] = checkpoint_states(s, instance.services)
    assert not state.signature_valid
