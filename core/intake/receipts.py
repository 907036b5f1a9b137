"""Receipt codes as the portal shows and reads them (crypto.receipt does the work).

Checking a code's form needs no database and reveals nothing, so the portal calls these
before it spends any budget: a mistyped digit is told at once (`MistypedReceipt`), anything
that is not a code at all is `MalformedReceipt`; both are `ReceiptError`s.
"""

from __future__ import annotations

from crypto.errors import MalformedReceipt, MistypedReceipt, ReceiptError
from crypto.receipt import format_receipt, normalise_receipt

__all__ = ["MalformedReceipt", "MistypedReceipt", "ReceiptError", "format_receipt",
           "normalise_receipt"]
