"""The stage of a case in plain words for the reporter (docs/GLOSSARY.md, "Stages")."""

from __future__ import annotations

from collections.abc import Set

from flask_babel import lazy_gettext as _l

from core.cases.views import CaseView
from core.models import Author, CaseStatus, MessageKind, ScopeDecision

#: status -> (name of the stage, what happens next)
STAGES = {
    CaseStatus.RECEIVED: (
        _l("Received"),
        # %(day)s: the acknowledgement deadline, filled in by the case page.
        _l("Your report has arrived. A case handler will acknowledge it by %(day)s."),
    ),
    CaseStatus.ACKNOWLEDGED: (
        _l("Acknowledged"),
        _l("A case handler has read your report and is deciding how to handle it."),
    ),
    CaseStatus.REFERRED: (
        _l("Referred elsewhere"),
        _l("Your report belongs to another channel. The messages below explain where."),
    ),
    CaseStatus.NOT_ADMISSIBLE: (
        _l("Not admissible"),
        _l("Your report cannot be handled here. The messages below give the reasons."),
    ),
    CaseStatus.INFO_NEEDED: (
        _l("Waiting for your information"),
        _l("The case handlers have asked you a question. Please answer it below."),
    ),
    CaseStatus.UNDER_INVESTIGATION: (
        _l("Under investigation"),
        _l("An investigation team is looking into your report."),
    ),
    CaseStatus.DECIDED: (
        _l("Decided"),
        _l("A decision has been made. You will receive the outcome and its reasons here."),
    ),
    CaseStatus.FEEDBACK_GIVEN: (
        _l("Outcome sent"),
        _l("The outcome and its reasons are in the messages below. You can still reply."),
    ),
    CaseStatus.FOLLOW_UP: (
        _l("Corrective actions in progress"),
        _l("The agreed corrective actions are being carried out and followed up."),
    ),
    CaseStatus.CLOSED: (
        _l("Closed"),
        _l("This case is closed and archived. Thank you for speaking up."),
    ),
}

#: Shown instead of the "please answer" text once the reporter has answered a question.
ANSWERED = _l("Thank you for your answer. The case handlers will read it and go on.")

def question_answered(case: CaseView) -> bool:
    """True when the reporter's latest message answers the case handlers' latest question
    (the case has then returned to its earlier stage: the page thanks them instead of
    repeating that stage's text)."""
    from_staff = [m for m in case.messages if m.author is not Author.SUBMITTER]
    return (bool(case.messages) and case.messages[-1].author is Author.SUBMITTER
            and bool(from_staff) and from_staff[-1].kind is MessageKind.CLARIFICATION_REQUEST)


#: The reporter-facing steps of the usual path, in order, for the progress list. Corrective
#: actions appear only in a case that has them.
PROGRESS: tuple[CaseStatus, ...] = (
    CaseStatus.RECEIVED,
    CaseStatus.ACKNOWLEDGED,
    CaseStatus.UNDER_INVESTIGATION,
    CaseStatus.DECIDED,
    CaseStatus.FEEDBACK_GIVEN,
    CaseStatus.FOLLOW_UP,
    CaseStatus.CLOSED,
)
_OPTIONAL = frozenset({CaseStatus.FOLLOW_UP})
#: Stages off the usual path, and the steps still to come after them (None: the rest of the
#: usual path).
_DETOURS: dict[CaseStatus, tuple[CaseStatus, ...] | None] = {
    CaseStatus.INFO_NEEDED: None,
    CaseStatus.REFERRED: (CaseStatus.CLOSED,),
    CaseStatus.NOT_ADMISSIBLE: (CaseStatus.CLOSED,),
}


#: The ending of a report the scope decision did not accept.
_SCOPE_ENDINGS = {ScopeDecision.REFERRED: CaseStatus.REFERRED,
                  ScopeDecision.NOT_ADMISSIBLE: CaseStatus.NOT_ADMISSIBLE}


def _detour_ending(status: CaseStatus, passed: Set[CaseStatus],
                   scope: ScopeDecision | None) -> CaseStatus | None:
    """For a closed case that ended as referred or not admissible: that ending. The case's
    scope decision says which when it is known (a report referred, reopened, then found not
    admissible has passed both); otherwise the stages passed do (never accepted after
    that)."""
    if status is not CaseStatus.CLOSED:
        return None
    if scope is not None:
        return _SCOPE_ENDINGS.get(scope)
    if CaseStatus.UNDER_INVESTIGATION in passed:
        return None
    for ending in (CaseStatus.REFERRED, CaseStatus.NOT_ADMISSIBLE):
        if ending in passed:
            return ending
    return None


def progress_steps(status: CaseStatus, reached: Set[CaseStatus] = frozenset(),
                   scope: ScopeDecision | None = None) -> list[tuple[CaseStatus, str]]:
    """The progress list of a case in `status`: (stage, "done" | "current" | "todo").

    `reached` is every stage the case has been in (core.cases.stages.reached_stages). Only
    those are shown as done: a case that went from "acknowledged" straight to "outcome sent"
    shows no investigation or decision as done. Leaving "received" acknowledges a report, so
    both count as passed once the case has moved on. A stage off the usual path (a question
    to the reporter, a referral) appears as the current step after those passed.
    `scope` is the case's scope decision (Case.scope_decision), if made: a closed case that
    was referred or found not admissible shows that ending instead of the usual path.
    """
    passed: set[CaseStatus] = set(reached) | {CaseStatus.RECEIVED}
    if status is not CaseStatus.RECEIVED:
        passed.add(CaseStatus.ACKNOWLEDGED)
    ending = _detour_ending(status, passed, scope)
    if ending is not None:
        # A referred or rejected case, now closed: its own ending, not the usual path.
        return [(CaseStatus.RECEIVED, "done"), (CaseStatus.ACKNOWLEDGED, "done"),
                (ending, "done"), (CaseStatus.CLOSED, "current")]
    if status in _DETOURS:
        done: list[CaseStatus] = [step for step in PROGRESS
                                  if step in passed and step is not CaseStatus.CLOSED]
        later: tuple[CaseStatus, ...] | None = _DETOURS[status]
        if later is None:
            last = PROGRESS.index(done[-1])
            later = tuple(step for step in PROGRESS[last + 1:] if step not in _OPTIONAL)
    else:
        position = PROGRESS.index(status)
        done = [step for step in PROGRESS[:position] if step in passed]
        later = tuple(step for step in PROGRESS[position + 1:] if step not in _OPTIONAL)
    return ([(step, "done") for step in done] + [(status, "current")]
            + [(step, "todo") for step in later])
