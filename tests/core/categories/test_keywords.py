"""Operators give categories keywords: parsing, refusals, limits and audit events."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.cases.category_examples import category_words
from core.categories.admin import (
    MAX_KEYWORD,
    MAX_KEYWORDS,
    MAX_KEYWORDS_TEXT,
    add_category,
    edit_category,
)
from core.categories.lookup import category_keywords, list_categories
from core.db import transaction
from core.errors import InvalidInput
from core.models import Category
from tests.core.categories.recorded import events


def _keywords(session_factory, code):
    with session_factory() as s:
        return s.scalars(select(Category.keywords).where(Category.code == code)).one()


def test_keywords_are_split_cleaned_and_stored_once(seeded, services):
    """Commas of both languages and semicolons separate terms; spaces inside a term are
    collapsed; empty terms and repeats (ignoring case) are left out."""
    with transaction(seeded) as s:
        added = add_category(s, services, code="procurement", name_en="Procurement",
                             name_zh="采购",
                             keywords=" Tender ,kickback，招标、回扣;; purchase   order ；TENDER,")
        assert category_keywords(added) == ("Tender", "kickback", "招标", "回扣",
                                            "purchase order")
    assert _keywords(seeded, "procurement") == "Tender, kickback, 招标, 回扣, purchase order"
    with seeded() as s:
        words = category_words(s.scalars(select(Category).where(
            Category.code == "procurement")).one())
        assert words.code == "procurement" and words.texts[:2] == ("Procurement", "采购")
        assert words.keywords == ("Tender", "kickback", "招标", "回扣", "purchase order")
    assert _keywords(seeded, "security") == ""  # the defaults start without
    with transaction(seeded) as s:  # full-width forms are the same term, as suggestions read
        edit_category(s, services, "security", keywords="VPN, ＶＰＮ, vpn, 门禁卡，門禁卡")
    assert _keywords(seeded, "security") == "VPN, 门禁卡, 門禁卡"


def test_keywords_are_replaced_cleared_and_audited_by_field_name(seeded, services):
    with transaction(seeded) as s:
        assert edit_category(s, services, "security", keywords="badge, 门禁卡").changed == (
            "keywords",)
    with transaction(seeded) as s:
        assert edit_category(s, services, "security", keywords="badge，门禁卡").changed == ()
    with transaction(seeded) as s:
        assert edit_category(s, services, "security", keywords="").changed == ("keywords",)
    assert _keywords(seeded, "security") == ""
    recorded = events(seeded)
    assert recorded == [("category:edit", {"category": "security", "fields": "keywords"},
                         "system")] * 2
    assert "badge" not in json.dumps([detail for _a, detail, _w in recorded])


@pytest.mark.parametrize(("keywords", "message"), [
    ("badge\ntailgating", "keywords must not contain control characters .found U\\+000A"),
    ("badge, \u202etailgating", "control characters .found U\\+202E"),
    ("badge, tail\u200bgating", "control characters .found U\\+200B"),  # invisible
    ("badge, \u200etailgating", "control characters .found U\\+200E"),
    (" ,,; ，", "The keywords hold only separators"),
    ("the", "The keyword 'the' gives suggestions nothing to go on"),
    ("badge, 问题", "The keyword '问题' gives suggestions nothing to go on"),
    ("badge, !!!", "The keyword '!!!' gives suggestions nothing to go on"),
    ("x" * (MAX_KEYWORD + 1), f"characters long; the limit is {MAX_KEYWORD}"),
    (", ".join(f"term{n}" for n in range(MAX_KEYWORDS + 1)),
     f"There are {MAX_KEYWORDS + 1} keywords; the limit is {MAX_KEYWORDS} per category"),
    (", ".join(f"{n:02d}" + "y" * (MAX_KEYWORD - 2) for n in range(40)),
     f"The keywords take 2478 characters; the limit is {MAX_KEYWORDS_TEXT}"),
])
def test_bad_keywords_are_refused_and_change_nothing(seeded, services, keywords, message):
    with transaction(seeded) as s:
        edit_category(s, services, "security", keywords="badge")
    with transaction(seeded) as s, pytest.raises(InvalidInput, match=message) as refused:
        edit_category(s, services, "security", name_en="Renamed", keywords=keywords)
    assert refused.value.field == "keywords"
    with transaction(seeded) as s, pytest.raises(InvalidInput, match=message):
        add_category(s, services, code="fraud", name_en="Fraud", name_zh="欺诈",
                     keywords=keywords)
    assert _keywords(seeded, "security") == "badge"
    with seeded() as s:
        assert s.scalars(select(Category.name_en).where(Category.code == "security")).one() \
            == "Security vulnerabilities and data protection"
        assert "fraud" not in [c.code for c in list_categories(s)]


def test_keywords_at_the_limits_are_kept(seeded, services):
    most = ", ".join(f"{n:02d}" + "y" * 17 for n in range(MAX_KEYWORDS))  # 100 x 19 + 2 x 99
    assert len(most) == 2098 and MAX_KEYWORDS_TEXT == 2000
    fitting = ", ".join(f"{n:02d}" + "y" * (MAX_KEYWORD - 2) for n in range(32))
    assert len(fitting) <= MAX_KEYWORDS_TEXT
    with transaction(seeded) as s:
        edit_category(s, services, "security", keywords=fitting)
    assert _keywords(seeded, "security") == fitting
    with transaction(seeded) as s, pytest.raises(InvalidInput, match="The keywords take 2098"):
        edit_category(s, services, "security", keywords=most)


