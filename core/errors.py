"""Errors raised by use cases. Messages are safe to show a user: they never hold content."""

from __future__ import annotations


class DomainError(Exception):
    """Root of every expected failure of a use case (the apps map these to 4xx pages)."""


class InvalidInput(DomainError):
    """The request cannot be carried out as given; the message says why."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class LetterNotReady(InvalidInput):
    """A message to the reporter that is still a template: with blanks left to fill
    (`blanks`, such as "[why]"), or the acceptance letter sent for a refusal (no blanks)."""

    def __init__(self, message: str, *, field: str, blanks: tuple[str, ...] = ()) -> None:
        super().__init__(message, field=field)
        self.blanks = blanks


class MessageLimitReached(InvalidInput):
    """The reporter has sent as many messages to the case as one stored period (a day, or a
    week at week precision) allows. `period` is "day" or "week", for the apps' wording."""

    def __init__(self, message: str, *, period: str) -> None:
        super().__init__(message, field="body")
        self.period = period


class NotFound(DomainError):
    """No such case, reviewer or attachment (or not one the caller may know about)."""


class AccessDenied(DomainError):
    """The caller holds no grant for this key, or is excluded from the case."""


class ReceiptNotRecognised(DomainError):
    """A well-formed receipt code that matches no case."""


class Conflict(DomainError):
    """The change clashes with the current state (duplicate name, wrong stage, ...)."""


class DamagedGrant(AccessDenied):
    """A case key sealed to this reviewer does not open with their private key: the grant was
    altered, or copied from someone else's, by someone writing to the database (a reset
    deletes a reviewer's grants, so no honest grant is left sealed to an old key). Refused
    like any access; the console also audits it as RECORD_TAMPERED."""


class TamperedRecord(DomainError):
    """A stored ciphertext does not open at its place: it was moved, copied, re-attributed or
    altered by someone writing to the database. Not shown; audited as RECORD_TAMPERED."""


# The apps reach crypto only through core: the crypto failures they must tell apart come from
# here. A CryptoError escaping a use case means a key or ciphertext did not open (tampering,
# or a grant that is not the caller's): the apps refuse the request (403).
from crypto.errors import CryptoError as CryptoError  # noqa: E402
from crypto.errors import DecryptionError as DecryptionError  # noqa: E402
from crypto.errors import StreamError as StreamError  # noqa: E402
