"""The errors of the streaming form parser (web.uploads): each carries a human message,
translated when shown, and never a field value, file name or file content."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _

# "_" is lazy_gettext: messages are built at import time and translated when shown.


class UploadError(Exception):
    """Root of upload errors; ``message`` is a translatable, human-readable explanation.

    Messages never contain field values, file names or file contents.
    """

    status_code = 400

    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class UploadTooLarge(UploadError):
    """A limit was exceeded. ``reason`` is one of "total", "file", "field", "files", "fields"."""

    status_code = 413

    def __init__(self, message: Any, *, reason: str, limit: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.limit = limit

    @property
    def about_files(self) -> bool:
        """Whether the files were the problem (False for a text field too long, or too many
        fields), so that a page may state the file limits beside the message."""
        return self.reason not in TEXT_REASONS


#: UploadTooLarge reasons that are about the text of a form, not its files.
TEXT_REASONS = frozenset({"field", "fields"})


def body_too_large(limit: int) -> UploadTooLarge:
    """The error for a request body over `limit` bytes."""
    return UploadTooLarge(_("The upload is larger than the limit."), reason="total", limit=limit)


class MalformedForm(UploadError):
    """The body is not a well-formed multipart/form-data body (or it was cut short)."""
