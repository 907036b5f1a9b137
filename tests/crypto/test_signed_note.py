"""C2SP signed notes and tlog checkpoints: interoperability with the published example, and
refusal of every altered note, key or checkpoint."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crypto.signed_note import (
    Checkpoint,
    NoteError,
    VerifierKey,
    checkpoint_text,
    open_checkpoint,
    open_note,
    parse_checkpoint_text,
    sign_note,
)
from crypto.signing import generate_signing_key

# The example of golang.org/x/mod/sumdb/note, the format's reference implementation.
GO_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = (GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuG"
           "UgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
SEED = generate_signing_key().seed
ORIGIN = "example.org/audit"
MOMENT = datetime(2026, 12, 5, 14, 0, 7, 123456, tzinfo=UTC)


def test_opens_the_reference_implementations_example():
    key = VerifierKey.parse(GO_KEY)
    assert key.encode() == GO_KEY
    assert open_note(GO_NOTE, key) == GO_TEXT


@pytest.mark.parametrize("forged", [
    GO_NOTE.replace("cryptography", "Cryptography"),
    GO_NOTE.replace("x08go", "x08gp"),
    GO_NOTE.replace("\u2014", "-"),
    GO_NOTE.replace("\n\n", "\n"),
    GO_TEXT,
])
def test_altered_notes_are_refused(forged):
    with pytest.raises(NoteError):
        open_note(forged, VerifierKey.parse(GO_KEY))


def test_signatures_by_other_keys_are_ignored_and_ours_is_required():
    key = VerifierKey.from_seed(ORIGIN, SEED)
    note = sign_note("hello\n", ORIGIN, SEED)
    other = sign_note("hello\n", "someone-else", generate_signing_key().seed)
    both = note + other.split("\n\n", 1)[1]
    assert open_note(both, key) == "hello\n"
    with pytest.raises(NoteError, match="no signature by"):
        open_note(other, key)
    impostor = VerifierKey(ORIGIN, generate_signing_key().verify_key)
    with pytest.raises(NoteError):
        open_note(note, impostor)


@pytest.mark.parametrize("text", ["no newline", "blank\n\nline\n"])
def test_only_well_formed_text_is_signed(text):
    with pytest.raises(ValueError):
        sign_note(text, ORIGIN, SEED)


@pytest.mark.parametrize("bad", [
    "name+c74f20a3", "name+zz+AAAA", "na me+c74f20a3+" + GO_KEY.split("+")[2],
    GO_KEY.replace("c74f20a3", "c74f20a4"), GO_KEY.replace("+ARpc", "+Apc"),
])
def test_malformed_verifier_keys_are_refused(bad):
    with pytest.raises(NoteError):
        VerifierKey.parse(bad)


def test_checkpoint_round_trip_and_format():
    key = VerifierKey.from_seed(ORIGIN, SEED)
    stated = Checkpoint(ORIGIN, 42, bytes(range(32)), MOMENT)
    text = checkpoint_text(stated)
    assert text == ("example.org/audit\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
                    "time 2026-12-05T14:00:07Z\n")
    opened = open_checkpoint(sign_note(text, ORIGIN, SEED), key)
    assert opened == Checkpoint(ORIGIN, 42, bytes(range(32)), MOMENT.replace(microsecond=0))
    assert len(key.fingerprint.split()) == 16


@pytest.mark.parametrize("text", [
    "o\n42\nAAAA\ntime 2026-12-05T14:00:07Z\n",  # root not 32 bytes
    "o\n042\n" + "A" * 43 + "=\ntime 2026-12-05T14:00:07Z\n",  # leading zero
    "o\n-1\n" + "A" * 43 + "=\ntime 2026-12-05T14:00:07Z\n",
    "o\n42\n" + "A" * 43 + "=\n",  # no time
    "o\n42\n" + "A" * 43 + "=\ntime yesterday\n",
    "o o\n42\n" + "A" * 43 + "=\ntime 2026-12-05T14:00:07Z\n",
])
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        parse_checkpoint_text(text)


def test_a_checkpoint_of_another_log_is_refused():
    other = "other.org/audit"
    note = sign_note(checkpoint_text(Checkpoint(other, 1, bytes(32), MOMENT)), ORIGIN, SEED)
    with pytest.raises(NoteError, match="for the log"):
        open_checkpoint(note, VerifierKey.from_seed(ORIGIN, SEED))
