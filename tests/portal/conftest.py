"""Portal fixtures: a real app on each database backend, with categories and a reviewer."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import Role
from core.services import Services
from core.usecases.categories import seed_default_categories, set_intake
from core.usecases.reviewers import add_reviewer
from crypto.reviewer_keys import unwrap_private_key
from portal import create_app

REVIEWER_PASSPHRASE = "quiet meadow lantern 42 harbour"


@dataclass(frozen=True)
class IntakeReviewer:
    id: int
    private_key: bytes


@pytest.fixture
def intake_reviewer(session_factory: sessionmaker[Session], services: Services) -> IntakeReviewer:
    with transaction(session_factory) as session:
        seed_default_categories(session)
        created = add_reviewer(session, services, username="intake", role=Role.REVIEWER,
                               passphrase=REVIEWER_PASSPHRASE)
        from core.models import Category

        for category in session.query(Category).all():
            set_intake(session, category.code, [created.reviewer])
        wrapped = created.reviewer.wrapped_private_key
        reviewer_id = created.reviewer.id
    return IntakeReviewer(reviewer_id, unwrap_private_key(wrapped, REVIEWER_PASSPHRASE))


@pytest.fixture
def portal_app(services: Services, intake_reviewer: IntakeReviewer) -> Flask:
    app = create_app(services.config, services=services)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(portal_app: Flask) -> FlaskClient:
    return portal_app.test_client()


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
