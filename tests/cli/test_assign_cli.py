"""`candor assign`: list the open cases that reach nobody and hand one to a case handler with
the organisation recovery key."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from core.cases.content import ReportContent
from core.categories.intake_routes import set_intake
from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.intake.submission import SubmissionDraft, submit_report
from core.models import Category, PendingNotification
from core.services import build_services
from core.staff.accounts import get_reviewer, totp_secret
from core.staff.authentication import confirm_totp
from core.staff.passphrase_change import change_passphrase
from tests.cli.conftest import PASSPHRASE, run


def enrolled(env: dict[str, str], factory, services, username: str) -> int:
    """Add a case handler with the CLI and enrol them as their owner would."""
    assert run(env, "reviewer", "add", username, "--role", "reviewer", "--passphrase-stdin",
               input=PASSPHRASE + "\n").exit_code == 0
    with transaction(factory) as session:
        account = get_reviewer(session, username)
        code = pyotp.TOTP(totp_secret(services, account)).now()
        assert confirm_totp(session, services, account, code)
        change_passphrase(session, services, account, PASSPHRASE, f"{username}'s own quartz 7")
        account.totp_last_step = None
        return account.id


def test_assign_lists_and_hands_over_a_case_that_reaches_nobody(env: dict[str, str]) -> None:
    init = run(env, "init", "--recovery-key")
    recovery_text = re.search(r"CANDOR-RECOVERY-1-[A-Z2-7-]+", init.output).group(0)
    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    factory = make_session_factory(engine)
    try:
        ivy = enrolled(env, factory, services, "ivy")
        enrolled(env, factory, services, "carol")
        with transaction(factory) as session:
            for category in session.query(Category).all():
                set_intake(session, services.keyring, category.code, [get_reviewer(session, "ivy")])
        assert "Every open case reaches" in run(env, "assign").output
        with transaction(factory) as session:  # the reporter leaves out the only handler
            lost = submit_report(session, services, SubmissionDraft(), category_code="it_fault",
                                 report=ReportContent(summary="VPN logs are read"),
                                 excluded_handlers=[ivy])
        listed = run(env, "assign")
        assert listed.exit_code == 0 and "1 open case(s) reach nobody" in listed.output
        assert lost.reference in listed.output

        no_user = run(env, "assign", lost.reference)
        assert no_user.exit_code == 2 and "USERNAME" in no_user.output
        left_out = run(env, "assign", lost.reference, "ivy", "--key-stdin",
                       input=recovery_text + "\n")
        assert left_out.exit_code == 1 and "excluded" in left_out.output
        wrong_key = run(env, "assign", lost.reference, "carol", "--key-stdin",
                        input="CANDOR-RECOVERY-1-AAAA\n")
        assert wrong_key.exit_code == 1 and "Traceback" not in wrong_key.output
        unknown = run(env, "assign", "C-NOSUCH00", "carol", "--key-stdin",
                      input=recovery_text + "\n")
        assert unknown.exit_code == 1 and "no case" in unknown.output

        assert run(env, "reviewer", "edit", "carol", "--email", "carol@example.org"
                   ).exit_code == 0
        # Typed in lower case, without the "C-": the same reference.
        handed = run(env, "assign", lost.reference.lower()[2:], "carol", "--key-stdin",
                     input=recovery_text + "\n")
        assert handed.exit_code == 0, handed.output
        assert f"{lost.reference} is now with 'carol'" in handed.output
        assert "Every open case reaches" in run(env, "assign").output
        with factory() as session:  # she hears of it at the next `candor notify`
            waiting = session.execute(select(PendingNotification.reviewer_id)).scalars().all()
            assert waiting == [get_reviewer(session, "carol").id]
    finally:
        engine.dispose()
