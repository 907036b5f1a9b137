"""core.intake.receipts: receipt codes as the portal shows and reads them. (The code's
arithmetic is tested in tests/crypto/test_receipt.py.)"""

from __future__ import annotations

import pytest

from core.db import transaction
from core.intake.receipts import (
    MalformedReceipt,
    MistypedReceipt,
    ReceiptError,
    format_receipt,
    normalise_receipt,
)
from core.intake.reporter import login_submitter
from tests.core.factories import submit


def test_a_receipt_as_shown_and_as_retyped_opens_its_case(session_factory, services, intake):
    """Guards the way round the portal relies on: the code shown in groups, or typed back
    with full-width digits and Chinese separators, reads as the issued code and opens the
    case."""
    result = submit(session_factory, services)
    shown = format_receipt(result.receipt_code)
    assert shown != result.receipt_code and normalise_receipt(shown) == result.receipt_code
    retyped = "、".join(shown.split()).translate(
        {ord(d): ord(d) - ord("0") + 0xFF10 for d in "0123456789"})
    assert normalise_receipt(retyped) == result.receipt_code
    with transaction(session_factory) as s:
        assert login_submitter(s, services, retyped).case_id == result.case_id


def test_both_refusals_are_receipt_errors(session_factory, services, intake):
    """Guards the two refusals the portal tells apart before spending any budget, and that
    catching ReceiptError catches both."""
    code = submit(session_factory, services).receipt_code
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(MistypedReceipt) as mistyped:
        normalise_receipt(typo)
    with pytest.raises(MalformedReceipt) as malformed:
        normalise_receipt(code[:-1])
    assert isinstance(mistyped.value, ReceiptError) and isinstance(malformed.value, ReceiptError)
    assert not isinstance(mistyped.value, MalformedReceipt)
