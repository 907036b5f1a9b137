"""core.cases.category_examples: a confirmed category keeps the report's token counts,
encrypted for the case's team; suggestions learn from the examples a handler may read, and
reading them is audited."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import delete, select, update

from core.cases.casework import read_case_for_reviewer
from core.cases.category_examples import (
    TOKENS_VERSION,
    is_confirmed,
    learned_model,
    read_examples,
)
from core.cases.content import ReportContent
from core.cases.recategorise import set_category
from core.cases.team_changes import exclude_member, grant_case
from core.categories.admin import add_category
from core.categories.suggestions import SEED_WEIGHT, CategoryWords, suggest, tokenize
from core.db import transaction
from core.errors import AccessDenied
from core.models import AuditEvent, Case, CaseGrant, CategoryExample, KeyKind, Reviewer
from core.staff.accounts import deactivate_reviewer
from crypto.keys import generate_keypair, seal_to
from tests.core.factories import add_reviewer, submit

CANARY = ReportContent(summary="Canaryword in the build server",
                       description="Zebrafinch logs 金丝雀 everywhere.")


def _confirm(session_factory, services, team, case_id: int, code: str) -> None:
    """ivy (the security category's intake handler) saves the case's category."""
    with transaction(session_factory) as s:
        set_category(s, services, team["ivy"].unlocked, case_id, code)


def _events(session_factory, action: str) -> list[AuditEvent]:
    with session_factory() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.position)).scalars())


def _example(session_factory, case_id: int) -> CategoryExample | None:
    with session_factory() as s:
        example = s.get(CategoryExample, case_id)
        if example is not None:
            s.expunge(example)
        return example


def test_changing_the_category_keeps_an_encrypted_example(session_factory, services,
                                                          team) -> None:
    case_id = submit(session_factory, services, category="security", report=CANARY).case_id
    _confirm(session_factory, services, team, case_id, "it_fault")
    example = _example(session_factory, case_id)
    assert example is not None and example.tokens_version == TOKENS_VERSION
    for word in (b"canaryword", b"zebrafinch", "金丝雀".encode(), b"canary"):
        assert word not in example.counts_ciphertext.lower()
    with session_factory() as s:
        (counts, code), = read_examples(s, services, team["ivy"].unlocked)
    assert code == "it_fault"
    assert counts == Counter(tokenize(CANARY.words()))


def test_confirming_unchanged_is_audited_and_keeps_an_example(session_factory, services,
                                                              team) -> None:
    case_id = team["case"].case_id
    _confirm(session_factory, services, team, case_id, "security")
    (event,) = _events(session_factory, "case:category:confirm")
    assert event.case_id == case_id and event.reviewer_id == team["ivy"].id
    assert json.loads(event.detail) == {"category": "security"}
    assert _events(session_factory, "case:category") == []
    with session_factory() as s:
        assert is_confirmed(s, case_id)


def test_a_later_change_replaces_the_example(session_factory, services, team) -> None:
    case_id = team["case"].case_id
    for code in ("security", "it_fault"):
        _confirm(session_factory, services, team, case_id, code)
    with session_factory() as s:
        assert len(s.execute(select(CategoryExample)).all()) == 1
        assert [code for _c, code in read_examples(s, services, team["ivy"].unlocked)] == [
            "it_fault"]


def test_reading_examples_is_audited_with_the_cases_read(session_factory, services,
                                                         team) -> None:
    case_id = team["case"].case_id
    _confirm(session_factory, services, team, case_id, "security")
    with transaction(session_factory) as s:
        assert len(read_examples(s, services, team["ivy"].unlocked)) == 1
    (event,) = _events(session_factory, "case:category:learn")
    assert event.reviewer_id == team["ivy"].id and event.case_id is None
    assert json.loads(event.detail) == {"cases": str(case_id)}


def test_only_the_cases_team_learns_from_it(session_factory, services, team) -> None:
    case_id = team["case"].case_id
    colleague = add_reviewer(session_factory, services, "colin")
    with transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, s.get(Reviewer, colleague.id))
    _confirm(session_factory, services, team, case_id, "security")
    with transaction(session_factory) as s:
        assert read_examples(s, services, team["outsider"].unlocked) == []
        assert read_examples(s, services, team["auditor"].unlocked) == []
        assert len(read_examples(s, services, colleague.unlocked)) == 1
    assert len(_events(session_factory, "case:category:learn")) == 1  # nothing read, no event
    with transaction(session_factory) as s:
        exclude_member(s, services, team["ivy"].unlocked.actor, case_id,
                       s.get(Reviewer, colleague.id))
    with transaction(session_factory) as s:
        assert read_examples(s, services, colleague.unlocked) == []
        assert len(read_examples(s, services, team["ivy"].unlocked)) == 1


def _with_colleague(session_factory, services, team):
    """The team's case with a second member, colin, and its category confirmed by ivy."""
    case_id = team["case"].case_id
    colleague = add_reviewer(session_factory, services, "colin")
    with transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, s.get(Reviewer, colleague.id))
    _confirm(session_factory, services, team, case_id, "security")
    return case_id, colleague


def test_a_deactivated_account_learns_nothing(session_factory, services, team) -> None:
    """Its grants stay for the record but may not be used (core.cases.casework)."""
    _case_id, colleague = _with_colleague(session_factory, services, team)
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "colin")
    with transaction(session_factory) as s:
        assert read_examples(s, services, colleague.unlocked) == []
        learned = learned_model(s, services, colleague.unlocked, [CategoryWords("security")])
        assert learned.examples == 0
    assert _events(session_factory, "case:category:learn") == []


def test_a_member_who_may_not_read_the_case_learns_nothing_from_it(session_factory, services,
                                                                   team) -> None:
    """Holding an old team key is not enough: the case itself must open for them (the case
    key of its current epoch), as it must for the case page."""
    case_id, colleague = _with_colleague(session_factory, services, team)
    with transaction(session_factory) as s:  # e.g. left out of a new epoch
        s.execute(delete(CaseGrant).where(CaseGrant.case_id == case_id,
                                          CaseGrant.reviewer_id == colleague.id,
                                          CaseGrant.key_kind == KeyKind.CASE))
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        read_case_for_reviewer(s, services, colleague.unlocked, case_id)
    with transaction(session_factory) as s:
        assert read_examples(s, services, colleague.unlocked) == []
        assert len(read_examples(s, services, team["ivy"].unlocked)) == 1


def test_a_team_grant_that_does_not_open_is_reported_as_the_grant(session_factory, services,
                                                                 team) -> None:
    """The example could not even be checked: the alarm names the grant, not the example."""
    case_id = team["case"].case_id
    _confirm(session_factory, services, team, case_id, "security")
    with transaction(session_factory) as s:
        s.execute(update(CaseGrant).where(
            CaseGrant.case_id == case_id, CaseGrant.reviewer_id == team["ivy"].id,
            CaseGrant.key_kind == KeyKind.TEAM).values(
            sealed_key=seal_to(generate_keypair().public_key, bytes(32))))
    with transaction(session_factory) as s:
        assert read_examples(s, services, team["ivy"].unlocked) == []
    assert [(e.case_id, json.loads(e.detail))
            for e in _events(session_factory, "case:record:tampered")] == [
        (case_id, {"record": "team key grant"})]
    assert _events(session_factory, "case:category:learn") == []


def test_without_a_key_to_the_report_no_example_and_no_false_alarm(session_factory, services,
                                                                   team) -> None:
    """A member holding only later epochs' keys (e.g. regranted from the recovery key) sets
    the category; nothing was decrypted, so nothing is kept and nothing is reported."""
    case_id, colleague = _with_colleague(session_factory, services, team)
    with transaction(session_factory) as s:  # a new epoch: the report stays under epoch 1
        exclude_member(s, services, team["ivy"].unlocked.actor, case_id,
                       s.get(Reviewer, colleague.id))
    with transaction(session_factory) as s:
        assert s.get(Case, case_id).key_epoch == 2  # type: ignore[union-attr]
        s.execute(delete(CaseGrant).where(CaseGrant.case_id == case_id,
                                          CaseGrant.reviewer_id == team["ivy"].id,
                                          CaseGrant.epoch == 1))
        s.execute(delete(CategoryExample))
    _confirm(session_factory, services, team, case_id, "it_fault")
    assert _events(session_factory, "case:record:tampered") == []
    assert _example(session_factory, case_id) is None
    with session_factory() as s:
        assert s.get(Case, case_id).category.code == "it_fault"  # type: ignore[union-attr]


def test_two_handlers_saving_the_category_at_once(session_factory, services, team) -> None:
    """The second waits for the first (the case row's lock) and replaces its example: no
    primary-key conflict, on either database."""
    case_id, colleague = _with_colleague(session_factory, services, team)
    with transaction(session_factory) as s:
        s.execute(delete(CategoryExample))
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with transaction(session_factory) as s:
                set_category(s, services, colleague.unlocked, case_id, "it_fault")
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    with transaction(session_factory) as s:
        set_category(s, services, team["ivy"].unlocked, case_id, "security")
        s.flush()  # the first example is inserted, not yet committed
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second is waiting on the lock
    thread.join(60)
    assert not thread.is_alive() and errors == []
    with session_factory() as s:
        assert [(e.case_id, e.category_id) for e in s.execute(
            select(CategoryExample)).scalars()] == [
            (case_id, s.get(Case, case_id).category_id)]  # type: ignore[union-attr]
        assert [code for _c, code in read_examples(s, services, colleague.unlocked)] == [
            "it_fault"]


@pytest.mark.parametrize("tamper", ["relabel", "move", "old tokenizer"])
def test_a_tampered_example_is_not_trained_on(session_factory, services, team,
                                              tamper: str) -> None:
    first = team["case"].case_id
    second = submit(session_factory, services, category="security", report=CANARY).case_id
    for case_id in (first, second):
        _confirm(session_factory, services, team, case_id, "security")
    with transaction(session_factory) as s:
        if tamper == "relabel":  # the label the suggestions would learn
            other = s.execute(select(CategoryExample.category_id)).scalars().first()
            s.execute(update(CategoryExample).where(CategoryExample.case_id == first)
                      .values(category_id=other + 1))
        elif tamper == "move":  # the second case's counts under the first's row
            moved = s.get(CategoryExample, second).counts_ciphertext  # type: ignore[union-attr]
            s.execute(update(CategoryExample).where(CategoryExample.case_id == first)
                      .values(counts_ciphertext=moved))
        else:
            s.execute(update(CategoryExample).where(CategoryExample.case_id == first)
                      .values(tokens_version=TOKENS_VERSION - 1))
    with transaction(session_factory) as s:
        read = read_examples(s, services, team["ivy"].unlocked)
    assert [counts for counts, _code in read] == [Counter(tokenize(CANARY.words()))]
    tampered = _events(session_factory, "case:record:tampered")
    if tamper == "old tokenizer":  # not tampering: skipped until confirmed again
        assert tampered == []
    else:
        assert [(e.case_id, json.loads(e.detail)) for e in tampered] == [
            (first, {"record": "category example"})]


def test_at_most_the_latest_examples_are_read(session_factory, services, team) -> None:
    cases = [submit(session_factory, services, category="security", report=CANARY).case_id
             for _ in range(3)]
    for case_id in cases:
        _confirm(session_factory, services, team, case_id, "security")
    with transaction(session_factory) as s:
        assert len(read_examples(s, services, team["ivy"].unlocked, limit=2)) == 2
    (event,) = _events(session_factory, "case:category:learn")
    assert json.loads(event.detail) == {"cases": ",".join(map(str, sorted(cases)[-2:]))}


def test_a_category_without_keyword_rules_is_learned(session_factory, services,
                                                     team) -> None:
    """An organisation's own category has no keyword rules: the keyword model can never
    suggest it; after handlers confirm a few cases in it, the learned model does."""
    with transaction(session_factory) as s:
        add_category(s, services, code="canteen", name_en="Canteen and catering",
                     name_zh="食堂与餐饮")
    reports = [ReportContent(summary=f"The canteen served spoiled noodles again ({n})",
                             description="Canteen kitchen hygiene, cold noodles, 食堂 卫生")
               for n in range(3)]
    for report in reports:
        case_id = submit(session_factory, services, category="security",
                         report=report).case_id
        _confirm(session_factory, services, team, case_id, "canteen")
    fresh = ReportContent(summary="Canteen noodles spoiled", description="食堂 卫生 差")
    active = [CategoryWords(code) for code in ("security", "it_fault", "canteen", "other")]
    with transaction(session_factory) as s:
        learned = learned_model(s, services, team["outsider"].unlocked, active)
        assert learned.examples == 0  # not on those teams: keyword rules only
        keyword_only = suggest(fresh.words(), learned.model)
        assert keyword_only is None or keyword_only.category != "canteen"
        learned = learned_model(s, services, team["ivy"].unlocked, active)
    assert learned.examples == 3
    suggestion = suggest(fresh.words(), learned.model)
    assert suggestion is not None and suggestion.category == "canteen"
    assert {"canteen", "noodles"} & {reason.word for reason in suggestion.why}


def test_the_learned_model_keeps_the_descriptions_of_added_categories(
        session_factory, services, team) -> None:
    """With examples to learn from, a category with no example yet is still known by the
    names and descriptions its operator wrote; without the descriptions it would not be."""
    _confirm(session_factory, services, team, team["case"].case_id, "security")
    codes = ("security", "it_fault", "procurement", "other")
    procurement = CategoryWords("procurement", ("Procurement and tenders", "采购与招标",
                                                "Tenders, supplier selection, purchase orders.",
                                                ""))
    report = "The tender was never published and one supplier got the purchase order."
    with transaction(session_factory) as s:
        learned = learned_model(s, services, team["ivy"].unlocked,
                                [procurement if c == "procurement" else CategoryWords(c)
                                 for c in codes])
        bare = learned_model(s, services, team["ivy"].unlocked, [CategoryWords(c) for c in codes])
    assert learned.examples == bare.examples == 1
    suggestion = suggest(report, learned.model)
    assert suggestion is not None and suggestion.category == "procurement"
    assert "procurement" not in bare.model.categories or \
        bare.model.total("procurement") == 0


def test_with_examples_an_operators_keywords_still_count(session_factory, services,
                                                        team) -> None:
    """The learned model (one confirmed case here) keeps the operator's keywords: an added
    category with keywords is suggested from them and no longer from its descriptions, and
    keywords given to a default category add to its rules."""
    _confirm(session_factory, services, team, team["case"].case_id, "security")
    canteen = CategoryWords("canteen", ("Canteen and catering", "食堂与餐饮",
                                        "Meals and the canteen staff.", ""),
                            ("noodles", "rice", "饭菜"))
    words = [CategoryWords(c) for c in ("security", "it_fault", "environment", "other")]
    with transaction(session_factory) as s:
        learned = learned_model(s, services, team["ivy"].unlocked, [*words, canteen])
        fumes = learned_model(s, services, team["ivy"].unlocked, [
            CategoryWords("environment", (), ("fume extraction",)), *words[:2], words[3]])
    assert learned.examples == fumes.examples == 1
    suggestion = suggest("The noodles were cold and the rice undercooked.", learned.model)
    assert suggestion is not None and suggestion.category == "canteen"
    assert learned.model.count("canteen", "meal") == 0  # the description no longer seeds
    assert learned.model.count("canteen", "noodl") == SEED_WEIGHT  # "noodles", stemmed
    assert learned.model.count("environment", "fume extraction") == 0
    assert fumes.model.count("environment", "fume extraction") > 0
    suggestion = suggest("The repair workshop solders without any fume extraction.",
                         fumes.model)
    assert suggestion is not None and suggestion.category == "environment"


def test_tokenize_is_the_version_the_examples_were_kept_with() -> None:
    """Kept counts are only comparable with counts of the same tokenizer. If this fails,
    tokenize changed: raise TOKENS_VERSION (examples of the older version are then left out
    until confirmed again) and update the fingerprint."""
    text = ("Our manager asked for a kickback on the server contract; nobody owns the "
            "backup. 经理要求回扣，服务器合同没人负责，发票报销有问题。Ｆｕｌｌ-width ＡＢＣ 123")
    fingerprint = hashlib.sha256("\n".join(tokenize(text)).encode()).hexdigest()
    assert (TOKENS_VERSION, fingerprint) == (1, FINGERPRINT_V1)


FINGERPRINT_V1 = "b45d1f3212cda9a6eda493b7e6d0aacd1ac79077bb6864d25b5f40f7f979041e"
