"""Checkpoints are mailed to the active auditors with an address, through a real SMTP server,
and carry the signed note whole (it verifies from the mail alone)."""

from __future__ import annotations

from email import message_from_bytes

from core.audit.checkpoints import (
    CHECKPOINT_SUBJECT,
    mail_checkpoint,
    sign_checkpoint,
    verifier_key,
)
from core.db import transaction
from core.models import Reviewer, Role
from crypto.signed_note import open_checkpoint
from tests.core.factories import add_reviewer
from tests.core.operations import mail_server

smtp = mail_server.smtp


def test_checkpoints_reach_the_auditors(session_factory, services, smtp):
    audrey = add_reviewer(session_factory, services, "audrey", Role.AUDITOR)
    gone = add_reviewer(session_factory, services, "gone", Role.AUDITOR)
    ivy = add_reviewer(session_factory, services, "ivy")
    with transaction(session_factory) as s:
        s.get(Reviewer, audrey.id).email = "audrey@example.org"
        s.get(Reviewer, gone.id).email = "gone@example.org"
        s.get(Reviewer, gone.id).active = False
        s.get(Reviewer, ivy.id).email = "ivy@example.org"  # a case handler: not mailed
    with transaction(session_factory) as s:
        note = sign_checkpoint(s, services).row.note
    with transaction(session_factory) as s:
        assert mail_checkpoint(s, services, note) == 1
    [(recipients, raw)] = smtp.messages
    assert recipients == ["audrey@example.org"]
    mail = message_from_bytes(raw)
    assert mail["Subject"] == CHECKPOINT_SUBJECT
    body = mail.get_payload(decode=True).decode().replace("\r\n", "\n")
    kept = body[body.index(services.config.audit_origin + "\n"):]
    assert kept == note  # the auditor can keep it straight from the mail
    assert open_checkpoint(kept, verifier_key(services)).size >= 1
