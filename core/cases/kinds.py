"""The message-kind policy: one table saying, for each kind of record a case's thread holds,
which key encrypts it (and its files), whether the reporter sees it, who writes it, and
which stage it moves the case to.

Every rule about kinds reads this table: the use cases (core.cases.casework,
core.intake.reporter), the reporter's visible set, and the console's form and labels. A kind
that is not declared here gets `UNDECLARED`: team key, hidden from the reporter, moving
nothing. A new team-only kind is therefore safe by default; making a kind visible to
reporters is a deliberate line in this table (tests/core/cases/test_kinds.py checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from core.models import Author, CaseStatus, KeyKind, MessageKind


@dataclass(frozen=True)
class KindPolicy:
    """What one kind of message is."""

    #: The per-case key its text and files are encrypted under.
    key: KeyKind
    #: Shown to the reporter in the portal (only ever true with the case key).
    reporter_sees: bool
    #: Who writes it: staff in the console, or the reporter in the portal.
    written_by: Author
    #: The stage posting it moves the case to (None: the stage stays).
    moves_to: CaseStatus | None = None
    #: A word to the reporter: the first one acknowledges a received report.
    acknowledges: bool = False
    #: The stages it may be written in (None: any). It moves the case to `moves_to` only
    #: where core.cases.transitions allows that move; elsewhere the stage stays.
    allowed_in: frozenset[CaseStatus] | None = None

    def __post_init__(self) -> None:
        if self.reporter_sees and self.key is not KeyKind.CASE:
            raise ValueError("a kind the reporter sees must be under the case key")


#: Undeclared kinds: readable by the case team only, moving nothing.
UNDECLARED = KindPolicy(key=KeyKind.TEAM, reporter_sees=False, written_by=Author.REVIEWER)

POLICIES: Mapping[MessageKind, KindPolicy] = MappingProxyType({
    # The reporter writes, or answers a request for information (the case then returns to
    # the stage it was in: core.intake.reporter).
    MessageKind.REPORTER_MESSAGE: KindPolicy(
        key=KeyKind.CASE, reporter_sees=True, written_by=Author.SUBMITTER),
    # Questions belong to acceptance and investigation; after a decision, a case is reopened
    # instead (core.cases.workflow).
    MessageKind.CLARIFICATION_REQUEST: KindPolicy(
        key=KeyKind.CASE, reporter_sees=True, written_by=Author.REVIEWER,
        moves_to=CaseStatus.INFO_NEEDED, acknowledges=True,
        allowed_in=frozenset({CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED,
                              CaseStatus.INFO_NEEDED, CaseStatus.UNDER_INVESTIGATION})),
    MessageKind.INFORMATION: KindPolicy(
        key=KeyKind.CASE, reporter_sees=True, written_by=Author.REVIEWER, acknowledges=True),
    # The outcome follows a recorded decision and carries its grounds (written with
    # core.cases.workflow.give_feedback only); a later one (after a review) keeps the stage.
    MessageKind.FEEDBACK: KindPolicy(
        key=KeyKind.CASE, reporter_sees=True, written_by=Author.REVIEWER,
        moves_to=CaseStatus.FEEDBACK_GIVEN, acknowledges=True,
        allowed_in=frozenset({CaseStatus.DECIDED, CaseStatus.FEEDBACK_GIVEN,
                              CaseStatus.FOLLOW_UP})),
    MessageKind.INTERNAL_NOTE: KindPolicy(
        key=KeyKind.TEAM, reporter_sees=False, written_by=Author.REVIEWER),
})


def policy_of(kind: MessageKind) -> KindPolicy:
    """The declared policy of `kind`, or UNDECLARED (team only)."""
    return POLICIES.get(kind, UNDECLARED)


def reporter_visible_kinds() -> frozenset[MessageKind]:
    """The kinds the portal shows the reporter: exactly those declared visible."""
    return frozenset(kind for kind, policy in POLICIES.items() if policy.reporter_sees)


def staff_kinds() -> tuple[MessageKind, ...]:
    """The kinds staff may write in the console, in the table's order."""
    return tuple(kind for kind, policy in POLICIES.items()
                 if policy.written_by is Author.REVIEWER)


def reply_kinds() -> tuple[MessageKind, ...]:
    """The kinds written on the console's reply form: every staff kind but the outcome,
    which is sent with its grounds (core.cases.workflow.give_feedback)."""
    return tuple(kind for kind in staff_kinds() if kind is not MessageKind.FEEDBACK)


def allowed_in(kind: MessageKind, status: CaseStatus) -> bool:
    """Whether a message of `kind` may be written while the case is in `status`."""
    stages = policy_of(kind).allowed_in
    return stages is None or status in stages


def is_team_only(kind: MessageKind) -> bool:
    """True for kinds the reporter never sees (the console marks them "team only")."""
    return not policy_of(kind).reporter_sees
