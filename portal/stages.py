"""The stage of a case in plain words for the reporter (GLOSSARY.md, "Stages")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.cases.views import CaseView
from core.models import Author, CaseStatus, MessageKind

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


#: The reporter-facing steps of the usual path, in order, for the progress list.
PROGRESS = (
    CaseStatus.RECEIVED,
    CaseStatus.ACKNOWLEDGED,
    CaseStatus.UNDER_INVESTIGATION,
    CaseStatus.DECIDED,
    CaseStatus.FEEDBACK_GIVEN,
    CaseStatus.CLOSED,
)

#: Stages off the usual path: the step they follow, and the steps still to come after them.
_DETOURS: dict[CaseStatus, tuple[CaseStatus, tuple[CaseStatus, ...]]] = {
    # A question may come before or during the investigation; the status does not say
    # which, so it is shown at the earliest point, with everything after it still to come.
    CaseStatus.INFO_NEEDED: (CaseStatus.ACKNOWLEDGED, PROGRESS[2:]),
    CaseStatus.REFERRED: (CaseStatus.ACKNOWLEDGED, (CaseStatus.CLOSED,)),
    CaseStatus.NOT_ADMISSIBLE: (CaseStatus.ACKNOWLEDGED, (CaseStatus.CLOSED,)),
    CaseStatus.FOLLOW_UP: (CaseStatus.FEEDBACK_GIVEN, (CaseStatus.CLOSED,)),
}


def progress_steps(status: CaseStatus) -> list[tuple[CaseStatus, str]]:
    """The progress list of a case in `status`: (stage, "done" | "current" | "todo").

    A stage off the usual path (a question to the reporter, a referral, follow-up of
    corrective actions) appears as a step of its own where it happens, so that no step the
    case has not reached is ever shown as done.
    """
    if status in _DETOURS:
        after, later = _DETOURS[status]
        path = PROGRESS[: PROGRESS.index(after) + 1] + (status,) + later
    else:
        path = PROGRESS
    current = path.index(status)
    return [(step, "done" if index < current else "current" if index == current else "todo")
            for index, step in enumerate(path)]
