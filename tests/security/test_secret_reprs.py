"""Secrets must not reach logs or tracebacks through an object's repr (docs/CRYPTO.md: receipt
codes are "never stored, logged or put in a URL"; crypto's own KeyPair, ReceiptSecrets and
SigningKeyPair redact their reprs, and core's SubmissionDraft hides its keys)."""

from __future__ import annotations

from core.cases.casework import UnlockedReviewer
from core.cases.grants import SubmitterKeys
from core.intake.reporter import SubmitterAccess
from core.intake.submission import SubmissionDraft, SubmissionResult
from crypto.keys import generate_keypair, new_key
from crypto.receipt import format_receipt, generate_receipt


def shown(obj: object) -> str:
    return repr(obj) + str(obj) + f"{obj!r}"


def leaks(text: str, secret: bytes | str) -> bool:
    if isinstance(secret, str):
        return secret in text or format_receipt(secret) in text
    return repr(secret) in text or secret.hex() in text or secret.hex().upper() in text


def test_leak_detector_works():
    key = new_key()
    assert leaks(repr({"k": key}), key)
    assert leaks(f"code {format_receipt('1' * 28)}", "1" * 28)
    assert not leaks("nothing here", key)


def test_draft_hides_its_keys():
    draft = SubmissionDraft()
    for key in (draft.case_key, draft.team_key, draft.identity_key):
        assert not leaks(shown(draft), key)


def test_submission_result_hides_the_receipt():
    code = generate_receipt()
    result = SubmissionResult(receipt_code=code, case_id=1, reference="C-2345ABCD", unrouted=False)
    assert not leaks(shown(result), code)


def test_submitter_access_hides_the_case_key():
    key = new_key()
    private = generate_keypair().private_key
    access = SubmitterAccess(case_id=1, reference="C-2345ABCD",
                             opened=SubmitterKeys(first_case_key=key, private_key=private))
    assert not leaks(shown(access), key) and not leaks(shown(access), private)
    assert not leaks(shown(access.opened), key) and not leaks(shown(access.opened), private)


def test_unlocked_reviewer_hides_the_private_key():
    key = generate_keypair().private_key
    assert not leaks(shown(UnlockedReviewer(reviewer_id=1, private_key=key)), key)
