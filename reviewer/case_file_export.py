"""The case file as the console hands it over: `case-<reference>.zip` holding
`case-<reference>.pdf` and `attachments/NNN-<name>` for each file of the export
(core.cases.case_file), written while it is sent (web.zip_stream).

The PDF is laid out from an HTML template with Jinja's autoescaping, so every text a
reporter or a colleague wrote is text in the document, never markup; reviewer.pdf fetches
nothing but `data:` URLs besides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

from flask import render_template

from core.blobs import BlobStore
from core.cases.case_file_views import CaseFile, ExportFile
from core.cases.files import blob_plaintext
from reviewer.pdf import FONT_STACK, html_to_pdf
from web.zip_stream import ZipMember

#: Longest attachment name in the archive, in UTF-8 bytes with its "NNN-" prefix: common
#: file systems take 255 bytes per name; some room is left for "(1)" and the like.
MAX_MEMBER_BYTES = 200
#: Characters Windows refuses in a name, and the path separators: each becomes "_".
_REFUSED = frozenset('/\\:*?"<>|')
_FALLBACK = "file"
#: A run of this many characters without a space gets a break opportunity after it (U+200B,
#: zero width): WeasyPrint lays out a run it cannot break in time that grows with the
#: square of its length (a 20,000-character run took 6 s), so a reporter's text could make
#: an export crawl.
BREAK_EVERY = 64
_UNBROKEN = re.compile(rf"\S{{{BREAK_EVERY}}}(?=\S)")
_ZERO_WIDTH_SPACE = "\u200b"


def archive_name(reference: str) -> str:
    """The zip's file name."""
    return f"case-{reference}.zip"


def pdf_name(reference: str) -> str:
    """The PDF's name inside the zip."""
    return f"case-{reference}.pdf"


def member_name(number: int, name: str) -> str:
    """`attachments/NNN-<name>` for a name the reporter or a colleague chose: no path
    separator, no leading dot (no "..", no hidden file), no control or invisible formatting
    character (a right-to-left override could disguise the extension), at most
    MAX_MEMBER_BYTES in UTF-8 with the extension kept; letters of every script stay. The
    number makes each name unique, so two files called the same keep both."""
    prefix = f"{number:03d}-"
    text = unicodedata.normalize("NFC", name)
    kept = "".join("_" if ch in _REFUSED else " " if unicodedata.category(ch) in ("Zl", "Zp")
                   else ch for ch in text if unicodedata.category(ch)[0] != "C")
    while ".." in kept:
        kept = kept.replace("..", ".")
    kept = kept.strip(" .") or _FALLBACK
    return f"attachments/{prefix}{_shorten(kept, MAX_MEMBER_BYTES - len(prefix))}"


def _shorten(name: str, limit: int) -> str:
    """`name` cut to `limit` UTF-8 bytes at a character boundary, its extension kept."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not stem or len(extension) > 16:
        stem, dot, extension = name, "", ""
    room = limit - len((dot + extension).encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .") or _FALLBACK
    return f"{cut}{dot}{extension}"


def breakable(text: str) -> str:
    """`text` with a zero-width break opportunity after every BREAK_EVERY characters of a
    run without a space (the PDF shows the same characters; lines may wrap there)."""
    return _UNBROKEN.sub(lambda run: run.group(0) + _ZERO_WIDTH_SPACE, text)


def render_case_file_html(case_file: CaseFile) -> str:
    """The case file as one self-contained HTML document, in the console's language. What
    people wrote goes through `breakable` (autoescaped all the same)."""
    return render_template("reviewer/case_file_pdf.html", file=case_file, font_stack=FONT_STACK,
                           member_name=member_name, breakable=breakable)


def case_file_pdf(html: str, reference: str) -> bytes:
    """The PDF of the rendered case file."""
    return html_to_pdf(html, title=f"case-{reference}")


def archive_members(case_file: CaseFile, pdf: bytes, blobs: BlobStore) -> Iterator[ZipMember]:
    """The zip's members: the PDF (deflated), then each attachment (stored), its blob
    decrypted chunk by chunk when its turn comes."""
    reference = case_file.facts.reference
    yield ZipMember(pdf_name(reference), lambda: (pdf,), size=len(pdf), compress=True)
    for exported in case_file.files:
        yield ZipMember(member_name(exported.number, exported.meta.name),
                        _opener(blobs, exported), size=exported.meta.size)


def _opener(blobs: BlobStore, exported: ExportFile) -> Callable[[], Iterator[bytes]]:
    """Decrypts the attachment's blob when called (no database needed by then)."""
    def chunks() -> Iterator[bytes]:
        return blob_plaintext(blobs, exported.blob_id, exported.stream_version,
                              exported.file_key)
    return chunks

