"""Fixtures for the console: an app on each backend, accounts in every role, a case."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.audit.log import Actor
from core.cases.content import Identity, ReportContent
from core.cases.team_changes import exclude_member, grant_case
from core.db import transaction
from core.models import Reviewer, Role
from core.services import Services
from core.session_tokens import SessionToken
from core.staff import authentication as staff_auth
from core.staff.accounts import add_reviewer as add_reviewer_usecase
from core.staff.accounts import totp_secret
from reviewer import create_app
from tests.core.factories import (
    ReviewerHandle,
    add_reviewer,
    seed_categories,
    strong_passphrase,
    submit,
)

CANARY = "CANARY-7f3a9c report text"


def new_account(session_factory: sessionmaker[Session], services: Services, username: str,
                role: Role = Role.REVIEWER, ready: bool = True) -> ReviewerHandle:
    """An account whose owner completed enrolment (`ready`), or one just created by an admin:
    its passphrase is the one-time one and it has no key pair yet (private_key empty)."""
    if ready:
        return add_reviewer(session_factory, services, username, role)
    one_time = strong_passphrase("one-time")
    with transaction(session_factory) as s:
        created = add_reviewer_usecase(s, services, username=username, role=role,
                                       passphrase=one_time)
        return ReviewerHandle(created.reviewer.id, created.reviewer.username, one_time, b"")


def open_session(app: Flask, session_factory: sessionmaker[Session], services: Services,
                 handle: ReviewerHandle) -> SessionToken:
    with transaction(session_factory) as s:
        reviewer = s.get(Reviewer, handle.id)
        assert reviewer is not None
        return staff_auth.create_session(s, services, reviewer, handle.private_key)


def cookie_name(app: Flask) -> str:
    return app.extensions["candor.console"].cookie_name


def login_client(app: Flask, session_factory: sessionmaker[Session], services: Services,
                 handle: ReviewerHandle | None) -> FlaskClient:
    client = app.test_client()
    if handle is not None:
        token = open_session(app, session_factory, services, handle)
        client.set_cookie(cookie_name(app), token.encode())
    return client


def current_code(services: Services, session_factory: sessionmaker[Session],
                 reviewer_id: int, offset_steps: int = 0) -> str:
    with session_factory() as s:
        reviewer = s.get(Reviewer, reviewer_id)
        assert reviewer is not None
        secret = totp_secret(services, reviewer)
    assert secret is not None
    when = services.clock.now().timestamp() + offset_steps * 30
    return pyotp.TOTP(secret).at(when)


def freeze_mid_totp_step(services: Services) -> None:
    """Stop the console's clock in the middle of the current 30-second TOTP step, so that no
    step ends between a test computing a code and the console checking it."""
    moment = datetime.fromtimestamp(30 * math.floor(time.time() / 30) + 15, UTC)
    services.clock.now = lambda: moment


def wrong_code(services: Services, session_factory: sessionmaker[Session],
               reviewer_id: int) -> str:
    """A well-formed code the console refuses now (a fixed one like "123456" is accepted
    when it happens to be the live code). Use with a frozen clock."""
    accepted = {current_code(services, session_factory, reviewer_id, step)
                for step in (-1, 0, 1)}
    return next(code for code in ("123456", "000000", "999999", "111111")
                if code not in accepted)


@pytest.fixture
def app(config, services) -> Iterator[Flask]:
    application = create_app(config, services=services)
    application.config["TESTING"] = True
    yield application
    application.extensions["candor.database"].engine.dispose()


@pytest.fixture
def app_nocsrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@dataclass
class World:
    """Accounts in every role and one confidential case with an attachment."""

    on_case: ReviewerHandle
    not_on_case: ReviewerHandle
    excluded: ReviewerHandle
    auditor: ReviewerHandle
    admin: ReviewerHandle
    case_id: int
    reference: str
    file_id: int


def accept_world_case(session_factory: sessionmaker[Session], services: Services,
                      world: World) -> None:
    """The world's case acknowledged and accepted by alice (on_case), its lead."""
    from core.cases import workflow
    from core.models import CasePriority, ScopeDecision

    lead = world.on_case
    with transaction(session_factory) as s:
        workflow.acknowledge(s, services, lead.unlocked, world.case_id, "Received.")
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, lead.unlocked, world.case_id, ScopeDecision.ACCEPTED,
                              lead_id=lead.id, priority=CasePriority.NORMAL)


@pytest.fixture
def world(session_factory, services) -> World:
    on_case = new_account(session_factory, services, "alice")
    not_on_case = new_account(session_factory, services, "bob")
    excluded = new_account(session_factory, services, "carol")
    auditor = new_account(session_factory, services, "audrey", Role.AUDITOR)
    admin = new_account(session_factory, services, "adam", Role.ADMIN)
    seed_categories(session_factory, {"it_fault": [on_case.id, excluded.id],
                                      "security": [not_on_case.id]}, services=services)
    result = submit(session_factory, services,
                    report=ReportContent(summary="Printer jams", description=CANARY),
                    identity=Identity(name="Wang Fang", contact="wf@example.org"),
                    files=[("evidence 证据.txt", b"attached bytes " * 1000)])
    with transaction(session_factory) as s:
        excluded_reviewer = s.get(Reviewer, excluded.id)
        exclude_member(s, services, Actor.system(), result.case_id, excluded_reviewer)
    from sqlalchemy import select

    from core.models import Attachment
    with session_factory() as s:
        file_id = s.execute(select(Attachment.id).where(
            Attachment.case_id == result.case_id)).scalar_one()
    return World(on_case, not_on_case, excluded, auditor, admin, result.case_id,
                 result.reference, file_id)


@pytest.fixture
def handling(app, session_factory, services):
    """A logged-in client of alice, on the team of a received report in English (its lead
    once accepted), bob on the team too; (client, alice, case id)."""
    alice = new_account(session_factory, services, "alice")
    bob = new_account(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    result = submit(session_factory, services,
                    report=ReportContent(summary="Badge reader", description="It fails.",
                                         language="en"))
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, result.case_id, s.get(Reviewer, bob.id))
    client = login_client(app, session_factory, services, alice)
    return client, alice, result.case_id
