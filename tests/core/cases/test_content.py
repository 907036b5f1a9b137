"""core.cases.content: what a reporter writes, its plaintext for encryption, and the checks
that name the field a reporter must correct."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from core.cases.content import (
    MAX_LONG_TEXT,
    MAX_SHORT_TEXT,
    FileMeta,
    Identity,
    ReportContent,
    clean_text,
    validate_identity,
    validate_report,
)
from core.errors import InvalidInput

REPORT = ReportContent(summary="工资单导出", description="Anyone can fetch it.",
                       what_happened="exported", when="Monday", where="Floor 3",
                       who_involved="IT", how_known="saw it", evidence="screenshot")


@pytest.mark.parametrize("value", [
    REPORT,
    ReportContent(summary="Only a summary"),
    Identity(name="张三", contact="zs@example.org", position="clerk"),
    FileMeta(name="报告.pdf", content_type="application/pdf", size=2**40),
])
def test_plaintext_round_trips(value):
    """Guards the serialisation of each record: what is encrypted reads back equal, Chinese
    text included."""
    assert type(value).from_bytes(value.to_bytes()) == value


def test_plaintext_is_utf8_json_with_sorted_keys():
    """Guards the plaintext form: UTF-8 (\\u escapes would make Chinese text twice as long)
    with sorted keys, a form that does not depend on the order the fields are declared in."""
    data = REPORT.to_bytes()
    assert "工资单导出".encode() in data
    assert list(json.loads(data)) == sorted(f.name for f in fields(ReportContent))


def test_reading_ignores_fields_added_later_and_fills_missing_ones():
    """Guards reading records written by another version: unknown fields are dropped and
    fields not yet written take their defaults, instead of failing the whole case."""
    newer = json.dumps({"summary": "s", "severity": "high"}).encode()
    assert ReportContent.from_bytes(newer) == ReportContent(summary="s")
    assert Identity.from_bytes(b'{"name": "n", "badge": 7}') == Identity(name="n")
    assert FileMeta.from_bytes(b'{"name": "a", "content_type": "t", "size": 1, "x": 0}') == \
        FileMeta(name="a", content_type="t", size=1)


def test_clean_text_trims_drops_nul_and_names_the_field():
    """Guards clean_text: surrounding space trimmed, NUL characters (refused by PostgreSQL text
    and invisible to readers) removed, None read as empty, the limit counted in characters
    after trimming, and every refusal naming its field."""
    assert clean_text("  a\x00b \n", field="f", limit=5) == "ab"
    assert clean_text("\x00 a \x00", field="f", limit=5) == "a"  # no space left behind a NUL
    assert clean_text(None, field="f", limit=5) == ""
    assert clean_text(" " + "字" * 5 + " ", field="f", limit=5) == "字" * 5
    with pytest.raises(InvalidInput, match="under 5 characters") as too_long:
        clean_text("字" * 6, field="when", limit=5)
    assert too_long.value.field == "when"
    for empty in (None, "", " \x00 "):
        with pytest.raises(InvalidInput, match="required") as missing:
            clean_text(empty, field="summary", limit=5, required=True)
        assert missing.value.field == "summary"


@pytest.mark.parametrize(("name", "limit"), [
    ("summary", MAX_SHORT_TEXT), ("when", MAX_SHORT_TEXT), ("where", MAX_SHORT_TEXT),
    ("description", MAX_LONG_TEXT), ("what_happened", MAX_LONG_TEXT),
    ("who_involved", MAX_LONG_TEXT), ("how_known", MAX_LONG_TEXT), ("evidence", MAX_LONG_TEXT),
])
def test_each_report_field_has_its_limit(name, limit):
    """Guards the limit of every field of the report: up to it is kept, one more character is
    refused with the field's name."""
    at_limit = validate_report(ReportContent(**{"summary": "s", name: "x" * limit}))
    assert getattr(at_limit, name) == "x" * limit
    with pytest.raises(InvalidInput) as refused:
        validate_report(ReportContent(**{"summary": "s", name: "x" * (limit + 1)}))
    assert refused.value.field == name


def test_validate_report_cleans_every_field_and_needs_a_summary():
    """Guards that the stored report is the cleaned one (each field trimmed) and that only the
    summary is required."""
    messy = ReportContent(**{f.name: f" {getattr(REPORT, f.name)}\x00 "
                             for f in fields(ReportContent)})
    assert validate_report(messy) == REPORT
    assert validate_report(ReportContent(summary=" s ")) == ReportContent(summary="s")
    with pytest.raises(InvalidInput) as missing:
        validate_report(ReportContent(summary="  ", description="a description"))
    assert missing.value.field == "summary"


def test_validate_identity_needs_a_name_and_bounds_each_field():
    """Guards the identity of a confidential report: a name is required (it is what makes the
    report confidential rather than anonymous), every field is trimmed and limited."""
    assert validate_identity(Identity(name=" 张三 ", contact=" zs@example.org ")) == \
        Identity(name="张三", contact="zs@example.org")
    with pytest.raises(InvalidInput) as missing:
        validate_identity(Identity(name=" ", contact="zs@example.org"))
    assert missing.value.field == "name"
    for name in ("name", "contact", "position"):
        values = {"name": "n", name: "x" * (MAX_SHORT_TEXT + 1)}
        with pytest.raises(InvalidInput) as too_long:
            validate_identity(Identity(**values))
        assert too_long.value.field == name
