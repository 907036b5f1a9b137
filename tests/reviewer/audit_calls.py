"""The pieces of the console's audit coverage tests (test_audit_coverage.py): a scenario per
audited route (or per way of calling it) arranges what the call needs through the use cases,
then names one real request and exactly the events it must add to the log.

Scenarios register themselves with `@scenario(name, endpoint, *actions)`: `actions` is what
the scenario checks, known before it runs, so that a test can compare them with the route
table without running anything. They live in audit_scenarios_cases.py (case work) and
audit_scenarios_staff.py (sessions, administration, the auditor's pages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.audit.log import AuditAction
from core.cases import workflow
from core.cases.casework import UnlockedReviewer
from core.cases.recovery import regrant_member_cases
from core.cases.team_changes import grant_case
from core.db import transaction
from core.models import AuditEvent, CasePriority, Finding, Reviewer, ScopeDecision
from core.services import Services
from crypto.keys import KeyPair
from tests.core.factories import ReviewerHandle, add_reviewer
from tests.reviewer.conftest import World, login_client

#: Free text posted in forms; no event may hold it (events never carry content).
TEXT = "AUDIT-CANARY words the log must never hold"

#: One expected event: (action, reviewer id or None for the system, case id or None).
Expected = tuple[str, int | None, int | None]


def ev(action: AuditAction, reviewer_id: int | None, case_id: int | None = None) -> Expected:
    """An expected event (the actor a staff member when `reviewer_id` is given)."""
    return (str(action), reviewer_id, case_id)


@dataclass
class Call:
    """One request and what it must leave: its status and exactly these new events."""

    client: FlaskClient
    method: str
    path: str
    status: int
    events: list[Expected]
    data: dict[str, Any] | None = None
    multipart: bool = False


@dataclass
class Ctx:
    """What a scenario arranges with: the console (CSRF off), the world of conftest.py."""

    app: Flask
    session_factory: sessionmaker[Session]
    services: Services
    world: World
    recovery_key: KeyPair
    _keeper: ReviewerHandle | None = field(default=None, repr=False)

    @property
    def case(self) -> int:
        return self.world.case_id

    @property
    def alice(self) -> ReviewerHandle:
        """The world's case handler on the case (its intake)."""
        return self.world.on_case

    @property
    def bob(self) -> ReviewerHandle:
        """A case handler not on the world's case."""
        return self.world.not_on_case

    def client(self, handle: ReviewerHandle | None) -> FlaskClient:
        return login_client(self.app, self.session_factory, self.services, handle)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with transaction(self.session_factory) as s:
            yield s

    def keeper(self) -> ReviewerHandle:
        """An identity custodian who holds the world case's identity key (named after the
        report came in, so given it from the recovery key, as `candor recover` does)."""
        if self._keeper is None:
            self._keeper = add_reviewer(self.session_factory, self.services, "keeper",
                                        custodian=True)
            with self.tx() as s:
                regrant_member_cases(s, self.services, self.recovery_key.private_key,
                                     s.get(Reviewer, self._keeper.id))
        return self._keeper

    def join(self, handle: ReviewerHandle, case_id: int | None = None) -> None:
        """alice adds `handle` to the case team."""
        with self.tx() as s:
            grant_case(s, self.services, self.alice.unlocked, case_id or self.case,
                       s.get(Reviewer, handle.id))

    def step(self, use_case: Callable[..., object], *args: Any, who: UnlockedReviewer | None
             = None, **kwargs: Any) -> Any:
        """Run a case use case as alice (or `who`) in a transaction of its own."""
        with self.tx() as s:
            return use_case(s, self.services, who or self.alice.unlocked, *args, **kwargs)

    def accepted(self, case_id: int | None = None) -> None:
        """The case acknowledged and accepted, alice its lead."""
        case_id = case_id or self.case
        self.step(workflow.acknowledge, case_id, "Received.")
        self.step(workflow.decide_scope, case_id, ScopeDecision.ACCEPTED, lead_id=self.alice.id,
                  priority=CasePriority.NORMAL)

    def decided(self) -> None:
        """The case accepted and decided by alice."""
        self.accepted()
        self.step(workflow.record_decision, self.case, workflow.DecisionInput(
            finding=Finding.SUBSTANTIATED, root_cause=None, reasons="Logs."))


Scenario = tuple[str, frozenset[str], Callable[[Ctx], Call]]
#: name -> (endpoint, the actions it checks, the scenario)
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, endpoint: str, *actions: AuditAction
             ) -> Callable[[Callable[[Ctx], Call]], Callable[[Ctx], Call]]:
    """Register a scenario of `endpoint` that checks `actions`."""

    def register(run: Callable[[Ctx], Call]) -> Callable[[Ctx], Call]:
        assert name not in SCENARIOS, name
        SCENARIOS[name] = (endpoint, frozenset(str(a) for a in actions), run)
        return run

    return register


def log_size(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as s:
        return int(s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def events_since(session_factory: sessionmaker[Session], size: int) -> list[AuditEvent]:
    """The log's entries from position `size` on, in order (detached)."""
    with session_factory() as s:
        rows = list(s.execute(select(AuditEvent).where(AuditEvent.position >= size)
                              .order_by(AuditEvent.position)).scalars())
        s.expunge_all()
    return rows


def perform(call: Call) -> Any:
    """Send the call's request."""
    if call.multipart:
        return call.client.open(call.path, method=call.method, data=call.data,
                                content_type="multipart/form-data")
    return call.client.open(call.path, method=call.method, data=call.data)
