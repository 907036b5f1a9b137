"""The stages a case may move between: one table, read by every use case that changes a stage
(core.cases.casework.change_status refuses anything else).

The usual path (docs/PROCESS.md): received -> acknowledged -> scope decision (accepted: under
investigation; referred elsewhere; not admissible; or information needed) -> decided ->
outcome sent -> corrective actions -> closed. Detours:

- A request for information moves the case to "information needed"; from there it may go
  wherever the stage it came from could go, and back to that stage (the reporter's answer
  returns it there: core.cases.stages).
- A reporter who is not satisfied asks for a review; the team may reopen the case: back under
  investigation (an accepted case) or back to the scope decision (a referred or rejected one).
- Accepting, referring or rejecting a report that was not acknowledged yet acknowledges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from core.errors import Conflict
from core.models import CaseStatus

S = CaseStatus

#: Where each stage may go next (for "information needed": see `legal_targets`).
TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = MappingProxyType({
    S.RECEIVED: frozenset({S.ACKNOWLEDGED, S.INFO_NEEDED, S.UNDER_INVESTIGATION, S.REFERRED,
                           S.NOT_ADMISSIBLE}),
    S.ACKNOWLEDGED: frozenset({S.INFO_NEEDED, S.UNDER_INVESTIGATION, S.REFERRED,
                               S.NOT_ADMISSIBLE}),
    S.INFO_NEEDED: frozenset(),
    S.UNDER_INVESTIGATION: frozenset({S.INFO_NEEDED, S.DECIDED}),
    S.DECIDED: frozenset({S.FEEDBACK_GIVEN}),
    S.FEEDBACK_GIVEN: frozenset({S.FOLLOW_UP, S.CLOSED, S.UNDER_INVESTIGATION}),
    S.FOLLOW_UP: frozenset({S.CLOSED, S.UNDER_INVESTIGATION}),
    S.REFERRED: frozenset({S.CLOSED, S.ACKNOWLEDGED}),
    S.NOT_ADMISSIBLE: frozenset({S.CLOSED, S.ACKNOWLEDGED}),
    S.CLOSED: frozenset({S.UNDER_INVESTIGATION, S.ACKNOWLEDGED}),
})

#: Stages in which a report's scope is decided (accepted, referred elsewhere, not admissible):
#: before any such decision. The table also lets a finished case go back under investigation,
#: but only by reopening (the lead, with a reason: core.cases.workflow.reopen_case).
SCOPE_STAGES = frozenset({S.RECEIVED, S.ACKNOWLEDGED})
#: Stages a reopened case goes back to (accepted: investigation; otherwise: scope decision).
REOPEN_TARGETS = frozenset({S.UNDER_INVESTIGATION, S.ACKNOWLEDGED})
#: Stages in which the reporter may answer whether they are satisfied with the outcome.
SATISFACTION_STAGES = frozenset({S.FEEDBACK_GIVEN, S.FOLLOW_UP, S.CLOSED, S.REFERRED,
                                 S.NOT_ADMISSIBLE})
#: Stages a case may be reopened from: after the outcome, after closing, after a referral or
#: a not-admissible decision. Elsewhere the table's moves to REOPEN_TARGETS are other steps
#: (acknowledging, an answer to a request for information), not reopening.
REOPENABLE_STAGES = frozenset({S.FEEDBACK_GIVEN, S.FOLLOW_UP, S.CLOSED, S.REFERRED,
                               S.NOT_ADMISSIBLE})
#: Stages in which the handling of a case is over (no new records; reopening is possible).
ENDED = frozenset({S.CLOSED})


class IllegalTransition(Conflict):
    """A stage change the process does not allow; the message says which and why."""

    def __init__(self, current: CaseStatus, target: CaseStatus) -> None:
        super().__init__(f"a case cannot go from {current} to {target}")
        self.current = current
        self.target = target


def legal_targets(current: CaseStatus, before_request: CaseStatus | None = None
                  ) -> frozenset[CaseStatus]:
    """The stages a case in `current` may move to. For "information needed", `before_request`
    is the stage the request was made in: the case may return there or go where it could."""
    if current is S.INFO_NEEDED:
        # A request made on a received report acknowledged it: never back to "received".
        before = (S.ACKNOWLEDGED if before_request in (None, S.RECEIVED, S.INFO_NEEDED)
                  else before_request)
        return frozenset({before} | TRANSITIONS[before]) - {S.INFO_NEEDED}
    return TRANSITIONS[current]


def may_decide_scope(current: CaseStatus, before_request: CaseStatus | None = None) -> bool:
    """Whether the scope may be decided now: in a scope stage, or waiting for information
    asked in one (``before_request``: the stage the request was made in, as for
    ``legal_targets``)."""
    if current is S.INFO_NEEDED:
        return before_request in (None, S.INFO_NEEDED, *SCOPE_STAGES)
    return current in SCOPE_STAGES


def check_transition(current: CaseStatus, target: CaseStatus,
                     before_request: CaseStatus | None = None) -> None:
    """Raise IllegalTransition unless `current` may move to `target`."""
    if target not in legal_targets(current, before_request):
        raise IllegalTransition(current, target)
