"""One Content-Disposition for both apps' downloads (web.downloads): an ASCII stand-in and the
real name as RFC 5987 filename*, and no file name, whatever its characters, that can break
out of the header."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.http import parse_options_header

from web.downloads import ascii_file_name, attachment_response, content_disposition

SAFE_FALLBACK = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
HEADER = re.compile(r"attachment; filename=\"([^\"\\\r\n]*)\"; filename\*=UTF-8''([^\s;\"\\]*)")


def parts(value: str) -> tuple[str, str]:
    """(fallback, real name) of a header value, checking its whole shape."""
    match = HEADER.fullmatch(value)
    assert match, value
    return match.group(1), unquote(match.group(2), errors="strict")


@pytest.mark.parametrize(("name", "fallback"), [
    ("report.pdf", "report.pdf"),
    ("résumé final 报告.pdf", "resume_final_.pdf"),
    ("evidence 证据.txt", "evidence_.txt"),
    ("证据.txt", "attachment.txt"),
    ("notes\\", "notes_"),
    ("..\\..\\boot.ini", "boot.ini"),
    (".bashrc", "bashrc"),
    ("-rf", "rf"),
    ('a"b;c=d.txt', "a_b_c_d.txt"),
    ("x" * 300 + ".tar", "x" * 100 + ".tar"),
    ("archive.tar.gz", "archive.tar.gz"),
    ("name.with a space", "name.with_a_space"),
])
def test_fallback_names(name: str, fallback: str) -> None:
    assert ascii_file_name(name) == fallback
    assert parts(content_disposition(name)) == (fallback, name)


@pytest.mark.parametrize("name", ['"', "\\", '\\"', "\r\nSet-Cookie: a=b", "a\x00b", ";", "%",
                                  "a\u2028b", "\ud7ff", "a'b''c", " "])
def test_no_name_breaks_out_of_the_header(name: str) -> None:
    """Quotes, backslashes, line breaks, NUL and semicolons stay inside the parameters."""
    value = content_disposition(name)
    fallback, real = parts(value)
    assert SAFE_FALLBACK.fullmatch(fallback)
    assert real == name
    assert not set(value) & {"\r", "\n", "\x00", "\\"}
    # Parsers read the one disposition with these two parameters and nothing else.
    assert value.count('"') == 2 and value.count(";") == 2
    kind, options = parse_options_header(value)
    assert kind == "attachment" and options == {"filename": name}


@given(st.text(min_size=1, max_size=300))
def test_every_name_round_trips_and_its_fallback_is_safe(name: str) -> None:
    fallback, real = parts(content_disposition(name))
    assert real == name
    assert SAFE_FALLBACK.fullmatch(fallback) and len(fallback) <= 117


def test_attachment_response_is_a_download_never_inline() -> None:
    response = attachment_response("plan.pdf", 6, iter([b"abc", b"def"]))
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == content_disposition("plan.pdf")
    assert response.headers["Content-Length"] == "6"
    assert b"".join(response.response) == b"abcdef"  # type: ignore[arg-type]
