"""Receipt codes as the portal shows and reads them (crypto.receipt does the work).

Checking a code's form needs no database and reveals nothing, so the portal calls these
before it spends any budget: a mistyped digit is told at once (`MistypedReceipt`), anything
that is not a code at all is `MalformedReceipt`; both are `ReceiptError`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.services import Services
from crypto.errors import MalformedReceipt, MistypedReceipt, ReceiptError
from crypto.receipt import (
    ReceiptSecrets,
    derive_receipt_secrets,
    format_receipt,
    generate_receipt,
    normalise_receipt,
)

__all__ = ["MalformedReceipt", "MistypedReceipt", "NewReceipt", "ReceiptError",
           "derive_receipt", "format_receipt", "new_receipt", "normalise_receipt"]


def derive_receipt(services: Services, receipt_text: str) -> ReceiptSecrets:
    """The lookup id and key of a receipt code: one Argon2id, queued for a slot
    (core.kdf_slots; SlotsBusy after the configured wait).

    Call it before opening a transaction: on SQLite a transaction holds the database's write
    lock, and nobody else could write for the whole derivation."""
    code = normalise_receipt(receipt_text)  # a malformed code costs no slot
    keyring = services.keyring
    return services.kdf_slots.run(lambda: derive_receipt_secrets(
        code, instance_salt=keyring.receipt_salt, pepper=keyring.pepper,
        profile=services.config.kdf))


@dataclass(frozen=True)
class NewReceipt:
    """A fresh receipt code and what it derives to, made before the submission's transaction."""

    code: str = field(repr=False)
    secrets: ReceiptSecrets = field(repr=False)


def new_receipt(services: Services) -> NewReceipt:
    """Generate a receipt code and derive its secrets (through the Argon2id queue)."""
    code = generate_receipt()
    return NewReceipt(code=code, secrets=derive_receipt(services, code))
