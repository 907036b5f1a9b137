"""core.categories.suggestions: suggestions with their reasons, training in memory,
cross-validated accuracy on the labelled sample set, and what a model holds (counts, no text)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from core.categories.lookup import DEFAULT_CATEGORIES
from core.categories.suggestion_words import KEYWORDS
from core.categories.suggestions import (
    DESCRIPTION_WEIGHT,
    MIN_CONFIDENCE,
    SEED_WEIGHT,
    WHY_WORDS,
    CategoryWords,
    Model,
    build_model,
    keyword_model,
    seed_model,
    seeded_by_description,
    suggest,
    tokenize,
)

SAMPLES = Path(__file__).parent / "samples"
CODES = [code for code, *_ in DEFAULT_CATEGORIES]

#: The aim of issue #16 is 0.85 per language. Measured (benches/README.md) since the main sets
#: grew to 491 / 492 reports (2026-12-07): 0.760 English, 0.776 Chinese; these floors catch a
#: regression without pretending the aim is met.
MIN_CV_ACCURACY = {"en": 0.73, "zh": 0.74}
#: Reports written after the keyword rules were frozen, model trained on the main sets:
#: measured 0.800 English, 0.825 Chinese.
MIN_HOLDOUT_ACCURACY = {"en": 0.75, "zh": 0.77}


def _load(name: str) -> list[tuple[str, str]]:
    with (SAMPLES / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [(row["text"], row["category"]) for row in map(json.loads, lines)]


def _words_of(text: str, reason_word: str) -> bool:
    """Whether every word of a reason (a word, or a pair "a b") occurs in the text."""
    lowered = text.casefold()
    return all(part in lowered for part in reason_word.split(" "))


# --- tokenisation ---------------------------------------------------------------------------

# --- suggestions ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "category"), [
    ("The purchasing manager took a kickback from the supplier and the tender was rigged.",
     "misconduct"),
    ("The VPN keeps crashing and I cannot log in to the ERP since the upgrade.", "it_fault"),
    ("Customer ID numbers are stored unencrypted on a public bucket anyone can read.",
     "security"),
    ("采购经理收受供应商回扣，招标文件也是为他指定的供应商写的。", "misconduct"),
    ("服务器宕机，系统打不开，大家都无法登录。", "it_fault"),
    ("消防通道被杂物堵塞，灭火器也过期了，存在安全隐患。", "environment"),
    ("建议引入知识库和模板，能节省很多时间。", "suggestion"),
])
def test_a_clear_report_gets_its_category_and_words_from_it(text: str, category: str) -> None:
    suggestion = suggest(text, keyword_model())
    assert suggestion is not None
    assert suggestion.category == category
    assert MIN_CONFIDENCE <= suggestion.confidence <= 1.0
    assert 2 <= len(suggestion.why) <= WHY_WORDS
    assert all(_words_of(text, r.word) for r in suggestion.why)
    weights = [r.weight for r in suggestion.why]
    assert weights == sorted(weights, reverse=True) and weights[-1] > 0


@pytest.mark.parametrize("text", [
    "", "   ", "!!! ???", "。。。", "12345 678", "asdf qwer zxcv", "the and of to",
    "Hello, I would like to report something.", "Please read this.", "Kickback!",
    "你好", "嗯嗯嗯", "您好，我想反映一个情况。", "如题", "lorem ipsum dolor sit amet",
])
def test_an_empty_or_meaningless_text_gives_none(text: str) -> None:
    assert suggest(text, keyword_model()) is None


def test_confirmed_examples_shift_a_borderline_suggestion() -> None:
    text = "The on-call rota changes every week and nobody knows who is covering."
    before = suggest(text, keyword_model(), min_confidence=0.0, min_words=0)
    assert before is not None and before.category == "roles" and before.confidence < 0.5
    assert suggest(text, keyword_model()) is None  # too weak to show
    confirmed = [
        ("The on-call rota gives me three nights in a row again.", "environment"),
        ("Rota changes mean I keep covering weekends with no rest.", "environment"),
        ("Being on call every week is wearing me out.", "environment"),
    ]
    after = suggest(text, build_model(confirmed))
    assert after is not None and after.category == "environment"
    assert {"rota", "covering"} & {r.word for r in after.why}


def test_categories_can_be_limited_and_added() -> None:
    model = build_model(categories=["security", "it_fault"])
    assert model.categories == ("security", "it_fault")
    suggestion = suggest("The supplier paid a kickback; the VPN password leaked.", model)
    assert suggestion is not None and suggestion.category == "security"
    # An operator's category has no keyword rules: it is learnt from confirmed cases only.
    added = build_model([("The canteen in Building 7 closed and lunch is cold.", "catering"),
                         ("Lunch in the Building 7 canteen was cold again.", "catering")])
    assert "catering" in added.categories
    suggestion = suggest("Cold lunch again in the Building 7 canteen", added)
    assert suggestion is not None and suggestion.category == "catering"


PROCUREMENT = ("Procurement and tenders", "采购与招标",
               "Tenders, supplier selection, purchase orders and quotes.",
               "招标、供应商选择、采购订单和报价。")
DESCRIBED = {code: (en, zh, desc_en, desc_zh)
             for code, en, zh, desc_en, desc_zh in DEFAULT_CATEGORIES}


@pytest.mark.parametrize("text", [
    "The tender for the office furniture was never published; one supplier got the purchase "
    "order without quotes.",
    "这次办公家具的招标根本没公开，采购订单直接给了一家供应商，没有比价。",
])
def test_a_category_without_rules_is_suggested_from_its_names_and_descriptions(
        text: str) -> None:
    """An operator's category has no keyword rules: before any case is confirmed, the words
    of the names and descriptions the operator wrote are its evidence."""
    undescribed = build_model(descriptions={**DESCRIBED, "procurement": ("", "", "", "")})
    assert "procurement" in undescribed.categories
    before = suggest(text, undescribed, min_confidence=0.0, min_words=0)
    assert before is None or before.category != "procurement"
    model = build_model(descriptions={**DESCRIBED, "procurement": PROCUREMENT})
    suggestion = suggest(text, model)
    assert suggestion is not None and suggestion.category == "procurement"
    assert {r.word for r in suggestion.why} & {"tender", "purchase order", "招标", "采购"}
    # Reports of the defaults keep their categories beside it.
    vpn = suggest("Our VPN keeps disconnecting every ten minutes.", model)
    assert vpn is not None and vpn.category == "it_fault"


def test_descriptions_count_for_categories_without_rules_only() -> None:
    model = build_model(descriptions={**DESCRIBED, "procurement": PROCUREMENT})
    rules_only = keyword_model()
    for code in CODES:  # the defaults are seeded by their rules alone
        assert model.total(code) == rules_only.total(code)
    # Each word is a term weighing DESCRIPTION_WEIGHT, shared among its tokens, once per
    # occurrence: "tender" (one token) and 招标 (the word and its character pair: two tokens,
    # 3 counts each) are in the name and in the description.
    assert model.count("procurement", "tender") == 2 * DESCRIPTION_WEIGHT
    assert [model.count("procurement", t) for t in tokenize("招标")] == [2 * 3, 2 * 3]
    seeded = {t for t in model.vocabulary if model.count("procurement", t)}
    assert "purchase order" not in seeded and "tender supplier" not in seeded  # no word pairs
    # Words too common to tell categories apart are no evidence: 问题, 任何, 工作, 公司.
    generic = build_model(descriptions={**DESCRIBED, "concerns": (
        "Concerns", "问题反馈", "Any other concern.", "您想向公司反映的任何工作或团队问题。")})
    for word in ("问题", "任何", "工作", "公司"):
        assert generic.count("concerns", word) == 0, word
    assert generic.count("concerns", "concern") > 0 and generic.count("concerns", "团队") > 0
    # Limited to some categories, the others' descriptions are left out.
    limited = build_model(categories=["security"], descriptions={"procurement": PROCUREMENT})
    assert limited.categories == ("security",) and "tender" not in limited.vocabulary
    # The cached model of rules and descriptions is the same model, built once per settings.
    described = _words({**DESCRIBED, "procurement": PROCUREMENT})
    cached = seed_model(described)
    assert cached is seed_model(described)
    assert cached.categories == model.categories and cached.vocabulary == model.vocabulary
    assert all(cached.count("procurement", t) == model.count("procurement", t)
               for t in model.vocabulary)


def test_operator_keywords_add_to_the_rules_of_a_default_category() -> None:
    """Each of an operator's keywords counts like a shipped term (SEED_WEIGHT shared among its
    tokens), on top of the shipped rules: a report the rules alone leave unsuggested is then
    suggested, with the operator's words as the reason."""
    text = "The repair workshop solders without any fume extraction."
    assert suggest(text, keyword_model()) is None
    model = build_model(extra_keywords={"environment": ("fume extraction", "solder fumes")})
    suggestion = suggest(text, model)
    assert suggestion is not None and suggestion.category == "environment"
    assert {"fume", "extraction"} <= {reason.word for reason in suggestion.why}
    shipped = keyword_model()
    # Each term makes 3 tokens (two words and their pair): 15 shared, 5 each; "fume" is in
    # both ("fumes" stems to it).
    assert model.count("environment", "fume extraction") == 5
    assert model.count("environment", "fume") == shipped.count("environment", "fume") + 5 + 5
    # The shipped rules are all still there.
    assert all(model.count("environment", t) >= shipped.count("environment", t)
               for t in shipped.vocabulary)
    assert model.total("environment") > shipped.total("environment")
    for code in CODES:
        if code != "environment":
            assert model.total(code) == shipped.total(code)


def test_an_added_category_with_keywords_is_known_by_them_not_its_descriptions() -> None:
    """Once the operator gives an added category keywords, its names and descriptions no
    longer seed it: the operator chose the words the category should be known by."""
    canteen = ("Canteen and catering", "食堂与餐饮", "Meals, the canteen and its staff.", "")
    words = CategoryWords("canteen", canteen, ("noodles", "rice", "饭菜"))
    assert not seeded_by_description(words)
    assert seeded_by_description(CategoryWords("canteen", canteen))
    assert not seeded_by_description(CategoryWords("security"))  # shipped rules
    model = seed_model((*_words(DESCRIBED), words))
    assert model.count("canteen", "canteen") == 0 and model.count("canteen", "meal") == 0
    assert model.count("canteen", "rice") == SEED_WEIGHT
    for text in ("The noodles were cold again and the rice undercooked.", "饭菜又冷又硬。"):
        suggestion = suggest(text, model)
        assert suggestion is not None and suggestion.category == "canteen", text
    described_only = seed_model((*_words(DESCRIBED), CategoryWords("canteen", canteen)))
    assert described_only.count("canteen", "canteen") == 2 * DESCRIPTION_WEIGHT  # name, text
    assert suggest("The noodles were cold again and the rice undercooked.",
                   described_only) is None
    # Keywords of a category outside the model are ignored; empty ones change nothing.
    assert build_model(categories=["security"], extra_keywords={"canteen": ("rice",)}
                       ).categories == ("security",)
    empty = build_model(extra_keywords={"security": ()})
    assert all(empty.count("security", t) == keyword_model().count("security", t)
               for t in keyword_model().vocabulary)


def _words(described: dict[str, tuple[str, ...]]) -> tuple[CategoryWords, ...]:
    """The categories as seed_model takes them: names and descriptions, no keywords."""
    return tuple(CategoryWords(code, texts) for code, texts in described.items())


def _added_categories() -> dict[str, tuple[str, ...]]:
    with (SAMPLES / "added-categories.json").open(encoding="utf-8") as file:
        return {code: tuple(texts) for code, texts in json.load(file).items()
                if not code.startswith("_")}


def test_an_added_category_costs_the_defaults_little() -> None:
    """With the rules alone, a category an organisation adds takes few of the sample
    reports' right suggestions (measured 0-7 of 674 right among 1,143; benches/README.md),
    even one described in vague words."""
    reports = [r for name in ("en", "zh", "holdout-en", "holdout-zh") for r in _load(name)]

    def right(model: Model) -> int:
        return sum(1 for text, code in reports
                   if (s := suggest(text, model)) is not None and s.category == code)

    alone = right(seed_model(_words(DESCRIBED)))
    for code, texts in _added_categories().items():
        assert alone - right(seed_model(_words({**DESCRIBED, code: texts}))) <= 8, code


def test_token_counts_train_like_the_texts_they_come_from() -> None:
    confirmed = [
        ("The on-call rota gives me three nights in a row again.", "environment"),
        ("Rota changes mean I keep covering weekends with no rest.", "environment"),
        ("食堂的午饭又是凉的。", "catering"),
    ]
    from_text = build_model(confirmed)
    from_counts = build_model(token_examples=[(Counter(tokenize(t)), c) for t, c in confirmed])
    mixed = build_model(confirmed[:1], token_examples=[(Counter(tokenize(t)), c)
                                                        for t, c in confirmed[1:]])
    assert from_text.categories == from_counts.categories == mixed.categories
    for model in (from_counts, mixed):
        for code in from_text.categories:
            assert model.total(code) == from_text.total(code)
            for token in from_text.vocabulary:
                assert model.count(code, token) == from_text.count(code, token)
                assert model.weight(token, code) == from_text.weight(token, code)
    limited = build_model(token_examples=[(Counter(["canteen"]), "catering")],
                          categories=["security"])
    assert limited.categories == ("security",) and "canteen" not in limited.vocabulary
    with pytest.raises(ValueError, match="non-negative"):
        build_model(token_examples=[({"rota": -1}, "environment")])


def test_a_keyword_term_weighs_the_same_however_many_tokens_it_makes() -> None:
    """Each keyword term adds about SEED_WEIGHT counts, shared among its tokens."""
    model = build_model(keywords={"a": (("vpn",), ("无法登录",)), "b": (("printer",), ())})
    assert model.count("a", "vpn") == SEED_WEIGHT
    chinese = tokenize("无法登录")
    assert len(chinese) > 2
    share = model.count("a", chinese[0])
    assert all(model.count("a", t) == share for t in chinese)
    assert abs(share * len(chinese) - SEED_WEIGHT) <= len(chinese) / 2


# --- accuracy on the labelled sample set ----------------------------------------------------

def test_the_sample_set_covers_every_default_category() -> None:
    for name in ("en", "zh", "holdout-en", "holdout-zh"):
        rows = _load(name)
        per_category = Counter(category for _text, category in rows)
        assert set(per_category) == set(CODES)
        assert min(per_category.values()) >= (40 if "holdout" not in name else 10)
        assert len({text for text, _ in rows}) == len(rows)
    main = {text for lang in ("en", "zh") for text, _ in _load(lang)}
    assert not main & {text for lang in ("en", "zh") for text, _ in _load(f"holdout-{lang}")}


def test_cross_validated_accuracy_per_language() -> None:
    """5-fold: each fold is suggested by a model of the keyword rules and the other 4 folds of
    both languages; a report's category is never learnt from the report itself."""
    sets = {lang: _load(lang) for lang in ("en", "zh")}
    folds = {}
    for lang, rows in sets.items():
        seen: Counter[str] = Counter()
        for text, category in rows:
            folds[lang, text] = seen[category] % 5
            seen[category] += 1
    right = Counter[str]()
    for held_out in range(5):
        training = [(t, c) for lang, rows in sets.items() for t, c in rows
                    if folds[lang, t] != held_out]
        model = build_model(training)
        for lang, rows in sets.items():
            test = [(t, c) for t, c in rows if folds[lang, t] == held_out]
            assert not set(test) & set(training)
            for text, category in test:
                suggestion = suggest(text, model, min_confidence=0.0, min_words=0)
                right[lang] += suggestion is not None and suggestion.category == category
    for lang, rows in sets.items():
        assert right[lang] / len(rows) >= MIN_CV_ACCURACY[lang], (lang, right[lang], len(rows))


def test_accuracy_on_reports_written_after_the_rules_were_frozen() -> None:
    model = build_model(_load("en") + _load("zh"))
    for lang in ("en", "zh"):
        rows = _load(f"holdout-{lang}")
        right = sum((s := suggest(t, model, min_confidence=0.0, min_words=0)) is not None
                    and s.category == c for t, c in rows)
        assert right / len(rows) >= MIN_HOLDOUT_ACCURACY[lang], (lang, right, len(rows))


# --- what a model holds ---------------------------------------------------------------------

def _strings(value: object) -> list[str]:
    """Every string reachable from a model's slots (keys and values, nested)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, frozenset | tuple | list):
        return [s for item in value for s in _strings(item)]
    assert isinstance(value, int | float), type(value)
    return []


def test_a_model_holds_counts_and_no_text() -> None:
    """A Model has only slots: per-category token counts, per-token totals, the vocabulary and
    the smoothing constant. Its strings are category codes and tokens (a word or a pair of
    neighbouring words), never a report or a sentence of one."""
    confirmed = [
        ("Frau Keller's team copied the Zhang family's medical file to a USB stick.", "security"),
        ("王经理让供应商把回扣打到他表弟的账户上，金额是三万元。", "misconduct"),
    ]
    model = build_model(confirmed)
    assert not hasattr(model, "__dict__")
    strings = [s for slot in Model.__slots__ for s in _strings(getattr(model, slot))]
    tokens = {t for text, _ in confirmed for t in tokenize(text)}
    tokens |= {t for terms in KEYWORDS.values() for ts in terms for term in ts
               for t in tokenize(term)}
    assert set(strings) <= set(model.categories) | tokens
    assert all(s.count(" ") <= 1 for s in strings)
    for text, _ in confirmed:
        assert text not in strings
        assert not any(len(s) > 12 and s in text for s in strings)
    assert model.count("misconduct", "回扣") > keyword_model().count("misconduct", "回扣")


def test_the_keyword_rules_name_each_term_once() -> None:
    assert set(KEYWORDS) == set(CODES)
    terms = Counter(t.casefold() for english, chinese in KEYWORDS.values()
                    for t in (*english, *chinese))
    assert [t for t, n in terms.items() if n > 1] == []
    for english, chinese in KEYWORDS.values():
        assert len(english) >= 40 and len(chinese) >= 40
        assert all(tokenize(term) for term in (*english, *chinese))
