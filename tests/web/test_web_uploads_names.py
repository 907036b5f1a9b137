"""File names as browsers send them (web.upload_parts): taken literally from the part's header,
as browsers write them (they percent-encode '"' and never escape with a backslash), so that a
file named `notes\\` stays a file named `notes\\`, not a text field; folders come off only
where they are folders."""

from __future__ import annotations

import pytest

from tests.web.multipart_helpers import BOUNDARY, build, field, file, parse
from web.upload_parts import disposition_params


def raw_part(disposition: bytes, data: bytes = b"data") -> bytes:
    """A body of one part with the Content-Disposition value given byte for byte."""
    return (f"--{BOUNDARY}\r\n".encode() + b"Content-Disposition: " + disposition
            + b"\r\nContent-Type: text/plain\r\n\r\n" + data + f"\r\n--{BOUNDARY}--\r\n".encode())


@pytest.mark.parametrize("name", ["notes\\", "\\", "a\\b.txt", "..\\..\\win.ini", "x\\\\y",
                                  "end\\ ", "报告\\.pdf"])
def test_a_backslash_is_part_of_the_name(name: str) -> None:
    """werkzeug reads `filename="notes\\"` as an escaped quote: it lost the name and made the
    part a text field, so the file was skipped without a word."""
    parsed = parse(build([field("a", "1"), file("attachments", name, b"content"),
                          field("b", "2")]))
    assert parsed == [("field", "a", b"1"),
                      ("file", "attachments", name, "application/pdf", b"content"),
                      ("field", "b", b"2")]


@pytest.mark.parametrize(("sent", "kept"), [
    ("C:\\Users\\zhang.wei\\Documents\\plan.pdf", "plan.pdf"),
    ("c:\\plan.pdf", "plan.pdf"),
    ("\\\\fileserver\\share\\li\\plan.pdf", "plan.pdf"),
    ("C:/Users/li/plan.pdf", "plan.pdf"),
    ("/home/li/secret notes.txt", "secret notes.txt"),
    ("dir/notes\\", "notes\\"),
    ("C:\\dir\\", ""),
    ("a/", ""),
])
def test_folders_come_off_only_where_they_are_folders(sent: str, kept: str) -> None:
    parsed = parse(build([file("f", sent, b"x")]))
    assert parsed[0][2] == kept


@pytest.mark.parametrize(("disposition", "filename"), [
    (b'form-data; name="f"; filename="a; name=evil.txt"', "a; name=evil.txt"),
    (b'form-data; filename="notes\\"; name="f"', "notes\\"),
    (b'form-data; name="f"; FILENAME="upper.txt"', "upper.txt"),
    (b'form-data; name=f; filename=bare.txt', "bare.txt"),
    (b"form-data; name=\"f\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf", "报告.pdf"),
    (b'form-data; name="f"; filename=""', ""),
])
def test_the_header_is_read_as_browsers_write_it(disposition: bytes, filename: str) -> None:
    parsed = parse(raw_part(disposition))
    assert parsed == [("file", "f", filename, "text/plain", b"data")]


def test_a_part_without_a_filename_is_a_field() -> None:
    assert parse(raw_part(b'form-data; name="note\\"')) == [("field", "note\\", b"data")]


def test_disposition_params() -> None:
    assert disposition_params('form-data; name="a"; filename="b\\"; Extra=c') == {
        "name": "a", "filename": "b\\", "extra": "c"}
    assert disposition_params('form-data; name="first"; name="second"') == {"name": "first"}
    assert disposition_params("form-data") == {}
