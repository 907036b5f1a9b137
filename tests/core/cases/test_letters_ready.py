"""A message to the reporter is never a template left unready (core.cases.letters
.check_letter, in every use case that sends a letter): a blank such as "[why]" left in it is
refused, and so is the acceptance letter for a report referred elsewhere or not admitted
(outside tester: the console's own check could be got round by any other caller of core).
A refused letter sends nothing, moves nothing and records nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from core.cases import workflow
from core.cases.letters import BLANKS, Letter, check_letter, letter, unchanged_template
from core.db import transaction
from core.errors import LetterNotReady
from core.models import Case, CasePriority, CaseStatus, Finding, Message, ScopeDecision
from tests.core.factories import audit_actions, detached_case, handlers_and_case

DECISION = workflow.DecisionInput(finding=Finding.SUBSTANTIATED, root_cause=None, reasons="Logs.")


@pytest.fixture
def team(session_factory, services):
    alice, bob, result = handlers_and_case(session_factory, services)
    return alice, bob, result.case_id


def _messages(session_factory, case_id: int) -> int:
    with session_factory() as s:
        return s.execute(select(func.count()).select_from(Message)
                         .where(Message.case_id == case_id)).scalar_one()


def _refused(session_factory, case_id: int, step, *, blanks: bool) -> None:
    """Run `step(session)`; it must be refused as a letter not ready, leaving no trace."""
    before = (audit_actions(session_factory), _messages(session_factory, case_id),
              detached_case(session_factory, case_id).status)
    with transaction(session_factory) as s, pytest.raises(LetterNotReady) as refused:
        step(s)
    assert bool(refused.value.blanks) is blanks
    after = (audit_actions(session_factory), _messages(session_factory, case_id),
             detached_case(session_factory, case_id).status)
    assert after == before


def test_the_templates_blanks_are_known() -> None:
    assert {"[why]", "[where]", "[原因]", "[渠道]", "[answer]", "[答复]"} <= set(BLANKS)
    for name in (Letter.REFERRAL, Letter.NOT_ADMISSIBLE, Letter.OUTCOME, Letter.REVIEW_ANSWER):
        for language in ("en", "zh", ""):
            with pytest.raises(LetterNotReady):
                check_letter(letter(name, language), field="message")
    check_letter("Reason: the contract is handled by Procurement [see 4.2].", field="message")


def test_a_template_is_recognised_rewrapped_in_either_language() -> None:
    for language in ("en", "zh", ""):
        rewrapped = "\r\n " + letter(Letter.ACCEPTED, language).replace("。", "。\n") + "  "
        assert unchanged_template(rewrapped, Letter.ACCEPTED) == language
    assert unchanged_template(letter(Letter.ACCEPTED, "en") + " HR.", Letter.ACCEPTED) is None


@pytest.mark.parametrize("decision", [ScopeDecision.REFERRED, ScopeDecision.NOT_ADMISSIBLE])
@pytest.mark.parametrize("language", ["en", "zh", ""])
def test_a_refusal_needs_its_own_letter_made_ready(session_factory, services, team, decision,
                                                  language) -> None:
    alice, _bob, case_id = team
    template = Letter.REFERRAL if decision is ScopeDecision.REFERRED else Letter.NOT_ADMISSIBLE

    def decide(message: str):
        return lambda s: workflow.decide_scope(s, services, alice.unlocked, case_id, decision,
                                               message=message)

    _refused(session_factory, case_id, decide(letter(Letter.ACCEPTED, language)), blanks=False)
    _refused(session_factory, case_id, decide(letter(template, language)), blanks=True)
    filled = letter(template, language).replace("[why]", "it concerns a supplier").replace(
        "[where]", "Procurement").replace("[原因]", "涉及供应商").replace("[渠道]", "采购部")
    with transaction(session_factory) as s:
        decide(filled)(s)
    assert detached_case(session_factory, case_id).scope_decision is decision


def test_the_acceptance_letter_goes_with_an_acceptance(session_factory, services,
                                                       team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              message=letter(Letter.ACCEPTED, "zh"), lead_id=alice.id,
                              priority=CasePriority.NORMAL)
    assert detached_case(session_factory, case_id).status is CaseStatus.UNDER_INVESTIGATION


def test_the_outcome_and_a_review_answer_need_their_blanks_filled(session_factory, services,
                                                                   team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=alice.id, priority=CasePriority.NORMAL)
        workflow.record_decision(s, services, alice.unlocked, case_id, DECISION)
    template = letter(Letter.OUTCOME, "en")
    _refused(session_factory, case_id, lambda s: workflow.give_feedback(
        s, services, alice.unlocked, case_id, template, "Logs.", grounds_heading="Grounds:"),
        blanks=True)
    _refused(session_factory, case_id, lambda s: workflow.give_feedback(
        s, services, alice.unlocked, case_id, "Fixed.", letter(Letter.REVIEW_ANSWER, "zh"),
        grounds_heading="Grounds:"), blanks=True)
    with transaction(session_factory) as s:
        workflow.give_feedback(s, services, alice.unlocked, case_id, "Fixed.", "Logs.",
                               grounds_heading="Grounds:")
        s.execute(update(Case).where(Case.id == case_id).values(review_requested=True))
    _refused(session_factory, case_id, lambda s: workflow.answer_review(
        s, services, alice.unlocked, case_id, letter(Letter.REVIEW_ANSWER, "")), blanks=True)
    with transaction(session_factory) as s:
        workflow.answer_review(s, services, alice.unlocked, case_id, "We checked again.")
    assert not detached_case(session_factory, case_id).review_requested
