"""An instance with something worth backing up, for the tests of `candor backup` and
`candor restore` (the fixtures `instance` and `empty_target` are in conftest.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyotp

from core.cases.content import ReportContent
from core.categories.intake_routes import set_intake
from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.intake.submission import SubmissionDraft, submit_report
from core.models import Category
from core.services import build_services
from core.staff.accounts import get_reviewer, totp_secret
from core.staff.authentication import confirm_totp
from core.staff.passphrase_change import change_passphrase
from tests.cli.conftest import PASSPHRASE, run

SUMMARY = "The badge reader logs every door"
FILE = b"door log, week 12\n" * 200
FILE_NAME = "door-log.csv"


@dataclass(frozen=True)
class Instance:
    """A backed-up instance's environment and what only its owner knows."""

    env: dict[str, str]
    recovery_key: str
    receipt: str


def make_instance(env: dict[str, str]) -> Instance:
    """In `env`: `candor init --recovery-key`, an enrolled case handler, one report with a
    file, and a signed checkpoint."""
    init = run(env, "init", "--recovery-key")
    assert init.exit_code == 0, init.output
    recovery = re.search(r"CANDOR-RECOVERY-1-[A-Z2-7-]+", init.output)
    assert recovery
    assert run(env, "reviewer", "add", "carol", "--role", "reviewer", "--passphrase-stdin",
               input=PASSPHRASE + "\n").exit_code == 0
    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        carol = get_reviewer(session, "carol")
        assert confirm_totp(session, services, carol,
                            pyotp.TOTP(totp_secret(services, carol)).now())
        change_passphrase(session, services, carol, PASSPHRASE, "carol's own quartz meadow 7")
        for category in session.query(Category).all():
            set_intake(session, services.keyring, category.code, [carol])
    draft = SubmissionDraft()
    draft.add_file(services, FILE_NAME, "text/csv", [FILE])
    with transaction(factory) as session:
        result = submit_report(session, services, draft, category_code="it_fault",
                               report=ReportContent(summary=SUMMARY))
    engine.dispose()
    assert run(env, "audit", "checkpoint").exit_code == 0
    return Instance(env, recovery.group(0), result.receipt_code)


def no_secret_in(output: str, instance: Instance) -> None:
    """No traceback, and nothing secret of the instance, in a command's output."""
    assert "Traceback" not in output
    for secret in (SUMMARY, FILE_NAME, instance.receipt, instance.recovery_key):
        assert secret not in output
