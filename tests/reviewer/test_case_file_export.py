"""reviewer.case_file_export: the names of the attachments inside the case file's zip (the
reporter chose them), and the archive's own names."""

from __future__ import annotations

import pytest

from reviewer.case_file_export import (
    BREAK_EVERY,
    MAX_MEMBER_BYTES,
    archive_name,
    breakable,
    member_name,
    pdf_name,
)


@pytest.mark.parametrize(("name", "expected"), [
    ("report.pdf", "attachments/001-report.pdf"),
    ("证据照片.jpg", "attachments/001-证据照片.jpg"),
    ("../../etc/passwd", "attachments/001-_._etc_passwd"),
    ("..", "attachments/001-file"),
    (".bashrc", "attachments/001-bashrc"),
    ("a\\b:c*d?e\"f<g>h|i.txt", "attachments/001-a_b_c_d_e_f_g_h_i.txt"),
    ("bad\x00\x1f\x7fname.txt", "attachments/001-badname.txt"),
    ("invoice\u202etxt.exe", "attachments/001-invoicetxt.exe"),  # no right-to-left override
    ("line\u2028break.txt", "attachments/001-line break.txt"),
    ("", "attachments/001-file"),
    ("  . ", "attachments/001-file"),
])
def test_names_are_made_safe(name, expected):
    assert member_name(1, name) == expected


def test_long_names_are_cut_keeping_the_extension():
    for stem in ("a" * 500, "证" * 300):
        name = member_name(12, stem + ".docx")
        leaf = name.removeprefix("attachments/")
        assert leaf.startswith("012-") and leaf.endswith(".docx")
        assert len(leaf.encode("utf-8")) <= MAX_MEMBER_BYTES
        leaf.encode("utf-8").decode("utf-8")  # cut at a character boundary


def test_the_same_name_twice_gives_two_members():
    assert member_name(2, "notes.txt") != member_name(3, "notes.txt")
    assert member_name(1000, "x") == "attachments/1000-x"


def test_archive_names():
    assert archive_name("C-7K3M9Q2A") == "case-C-7K3M9Q2A.zip"
    assert pdf_name("C-7K3M9Q2A") == "case-C-7K3M9Q2A.pdf"


def test_long_runs_get_zero_width_break_opportunities():
    assert breakable("short words stay as they are") == "short words stay as they are"
    broken = breakable("x " + "A" * (2 * BREAK_EVERY + 1) + " y")
    assert broken.replace("\u200b", "") == "x " + "A" * (2 * BREAK_EVERY + 1) + " y"
    assert broken.count("\u200b") == 2
    assert all(len(run) <= BREAK_EVERY for run in broken.replace("\u200b", " ").split())
    assert breakable("A" * BREAK_EVERY) == "A" * BREAK_EVERY  # nothing after a whole run
