"""core.staff.passphrase_change in its three steps (admit, prepare, finish), as the console
runs them: one session whose objects outlive the commit between the steps, and other
transactions changing the account in between. A change prepared against the account as it
was must never undo what happened meanwhile (an admin's reset above all)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import AuditEvent, Reviewer, ReviewerSession
from core.services import Services
from core.staff import authentication as staff_auth
from core.staff import passphrase_change as change
from core.staff.accounts import reset_passphrase, reset_totp
from core.staff.authentication import ACCOUNT_LIMIT, LoadedSession, confirm_totp
from core.staff.passphrase_change import PassphraseChange
from core.staff.passphrases import one_time_passphrase, verify_passphrase
from tests.core.factories import ReviewerHandle, strong_passphrase
from tests.reviewer.conftest import current_code, freeze_mid_totp_step, new_account

Factory = sessionmaker[Session]


@pytest.fixture(autouse=True)
def _frozen(services: Services) -> None:
    freeze_mid_totp_step(services)


def _loaded(s: Session, services: Services, handle: ReviewerHandle) -> LoadedSession:
    """Log the handle in and load its session in `s`, as a request does (committed)."""
    with s.begin():
        reviewer = s.get(Reviewer, handle.id)
        assert reviewer is not None
        token = staff_auth.create_session(s, services, reviewer, handle.private_key or None)
        loaded = staff_auth.load_session(s, services, token)
    assert loaded is not None
    return loaded


def _enrolled_totp(session_factory: Factory, services: Services, username: str
                   ) -> ReviewerHandle:
    """A new account (one-time passphrase, no keys) that has confirmed its TOTP app."""
    handle = new_account(session_factory, services, username, ready=False)
    code = current_code(services, session_factory, handle.id)
    with transaction(session_factory) as s:
        reviewer = s.get(Reviewer, handle.id)
        assert reviewer is not None and confirm_totp(s, services, reviewer, code)
    return handle


def _reasons(session_factory: Factory) -> list[str]:
    with session_factory() as s:
        details = s.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "session:login:fail").order_by(AuditEvent.position)).scalars()
        return [json.loads(d).get("reason", "") for d in details]


def _steps(s: Session, services: Services, loaded: LoadedSession, current: str, new: str,
           meanwhile: Any = None) -> change.PassphraseChangeResult:
    """The console's three steps in `s`, with `meanwhile` run between step 1 and step 3."""
    with s.begin():
        basis = change.admit_change(s, services, loaded, current, new)
    assert basis.retry_after is None
    prepared = change.prepare_change(services.config.kdf, basis, current, new)
    if meanwhile is not None:
        meanwhile()
    with s.begin():
        return change.finish_change(s, services, loaded, basis, prepared)


def test_an_admin_reset_in_between_is_not_undone(session_factory, services):
    alice = new_account(session_factory, services, "alice")
    temporary = one_time_passphrase(services.config.kdf)

    def admin_resets() -> None:
        with transaction(session_factory) as other:
            reset_passphrase(other, services, "alice", temporary=temporary)

    with session_factory() as s:
        loaded = _loaded(s, services, alice)
        result = _steps(s, services, loaded, alice.passphrase, strong_passphrase("new"),
                        admin_resets)
    assert result.outcome is PassphraseChange.CHANGED_MEANWHILE and result.token is None
    with session_factory() as s:
        row = s.get(Reviewer, alice.id)
        assert row is not None
        assert verify_passphrase(row.passphrase_hash, temporary.text, services.config.kdf)
        assert row.wrapped_private_key is None and row.public_key is None
        assert row.must_change_passphrase
    assert _reasons(session_factory)[-1] == "passphrase-change-stale"


def test_a_totp_reset_in_between_stops_an_enrolment(session_factory, services):
    ivy = _enrolled_totp(session_factory, services, "ivy")

    def admin_resets_totp() -> None:
        with transaction(session_factory) as other:
            reset_totp(other, services, "ivy")

    with session_factory() as s:
        loaded = _loaded(s, services, ivy)
        result = _steps(s, services, loaded, ivy.passphrase, strong_passphrase("own"),
                        admin_resets_totp)
    assert result.outcome is PassphraseChange.CHANGED_MEANWHILE
    with session_factory() as s:
        row = s.get(Reviewer, ivy.id)
        assert row is not None and row.wrapped_private_key is None and row.public_key is None
        assert not row.totp_confirmed


def test_of_two_changes_prepared_together_only_the_first_is_stored(session_factory, services):
    alice = new_account(session_factory, services, "alice")
    first, second = strong_passphrase("first"), strong_passphrase("second")
    with session_factory() as s1, session_factory() as s2:
        loaded1, loaded2 = _loaded(s1, services, alice), _loaded(s2, services, alice)
        with s2.begin():
            basis2 = change.admit_change(s2, services, loaded2, alice.passphrase, second)
        prepared2 = change.prepare_change(services.config.kdf, basis2, alice.passphrase,
                                          second)
        done = _steps(s1, services, loaded1, alice.passphrase, first)
        with s2.begin():
            late = change.finish_change(s2, services, loaded2, basis2, prepared2)
    assert done.outcome is PassphraseChange.CHANGED
    assert late.outcome is PassphraseChange.CHANGED_MEANWHILE
    with session_factory() as s:
        row = s.get(Reviewer, alice.id)
        assert row is not None
        assert verify_passphrase(row.passphrase_hash, first, services.config.kdf)


def test_an_enrolment_makes_the_keys_and_a_new_session(session_factory, services):
    ivy = _enrolled_totp(session_factory, services, "ivy")
    own = strong_passphrase("own")
    with session_factory() as s:
        loaded = _loaded(s, services, ivy)
        result = _steps(s, services, loaded, ivy.passphrase, own)
    assert result.outcome is PassphraseChange.CHANGED and result.token is not None
    with session_factory() as s, s.begin():
        reopened = staff_auth.load_session(s, services, result.token)
        assert reopened is not None and reopened.private_key is not None
        assert reopened.reviewer.public_key is not None
        assert not reopened.reviewer.must_change_passphrase


def test_a_wrong_current_passphrase_changes_nothing_and_is_audited(session_factory, services):
    alice = new_account(session_factory, services, "alice")
    with session_factory() as s:
        loaded = _loaded(s, services, alice)
        result = _steps(s, services, loaded, "not the passphrase at all",
                        strong_passphrase("new"))
    assert result.outcome is PassphraseChange.WRONG_CURRENT
    with session_factory() as s:
        row = s.get(Reviewer, alice.id)
        assert row is not None
        assert verify_passphrase(row.passphrase_hash, alice.passphrase, services.config.kdf)
    assert _reasons(session_factory)[-1] == "passphrase-change"


def test_the_throttle_is_charged_before_any_argon2id(session_factory, services, monkeypatch):
    alice = new_account(session_factory, services, "alice")
    runs: list[int] = []
    run = services.kdf_slots.run
    monkeypatch.setattr(services.kdf_slots, "run", lambda work: (runs.append(1), run(work))[1])
    with session_factory() as s:
        loaded = _loaded(s, services, alice)
        for _ in range(ACCOUNT_LIMIT):
            with s.begin():
                change.change_own_passphrase(s, services, loaded, "wrong wrong wrong",
                                             strong_passphrase("new"))
        assert len(runs) == ACCOUNT_LIMIT
        with s.begin():
            refused = change.change_own_passphrase(s, services, loaded, alice.passphrase,
                                                   strong_passphrase("new"))
    assert refused.outcome is PassphraseChange.THROTTLED
    assert len(runs) == ACCOUNT_LIMIT
    assert _reasons(session_factory)[-1] == "passphrase-change-throttled"


def test_a_reset_through_a_stale_session_still_writes_every_field(session_factory, services):
    # The session read the new account (must change its passphrase, no keys) before its
    # owner enrolled; an attribute set to the value it holds there would not be written.
    ivy = _enrolled_totp(session_factory, services, "ivy")
    with session_factory() as s:
        with s.begin():
            stale = s.get(Reviewer, ivy.id)
            assert stale is not None and stale.must_change_passphrase
        with session_factory() as owner:
            _steps(owner, services, _loaded(owner, services, ivy), ivy.passphrase,
                   strong_passphrase("own"))
        temporary = one_time_passphrase(services.config.kdf)
        with s.begin():
            reset_passphrase(s, services, "ivy", temporary=temporary)
    with session_factory() as s:
        row = s.get(Reviewer, ivy.id)
        assert row is not None
        assert row.must_change_passphrase
        assert row.wrapped_private_key is None and row.public_key is None
        assert verify_passphrase(row.passphrase_hash, temporary.text, services.config.kdf)


@pytest.mark.parametrize("column", ["passphrase_hash", "wrapped_private_key"])
def test_a_credential_changed_in_between_with_the_session_kept_is_seen(
        session_factory, services, column):
    # Not through the use cases (they end the sessions too): only the comparison with what
    # step 2 worked on can see this.
    alice = new_account(session_factory, services, "alice")

    def written_meanwhile() -> None:
        with transaction(session_factory) as other:
            row = other.get(Reviewer, alice.id)
            assert row is not None
            setattr(row, column, "$argon2id$changed" if column == "passphrase_hash"
                    else b"changed")

    with session_factory() as s:
        loaded = _loaded(s, services, alice)
        result = _steps(s, services, loaded, alice.passphrase, strong_passphrase("new"),
                        written_meanwhile)
    assert result.outcome is PassphraseChange.CHANGED_MEANWHILE


def test_a_guess_through_an_ended_session_learns_nothing(session_factory, services):
    # A stolen cookie, ended on purpose while its guess is checked: right or wrong, the
    # answer is the same, so the guess is neither confirmed nor the change made.
    alice = new_account(session_factory, services, "alice")
    outcomes = []
    for guess in (alice.passphrase, "not the passphrase at all"):
        with session_factory() as s:
            loaded = _loaded(s, services, alice)

            def logout(row_id=loaded.row.id_hash) -> None:
                with transaction(session_factory) as other:
                    other.delete(other.get(ReviewerSession, row_id))

            outcomes.append(_steps(s, services, loaded, guess, strong_passphrase("new"),
                                   logout).outcome)
    assert outcomes == [PassphraseChange.CHANGED_MEANWHILE] * 2
    with session_factory() as s:
        row = s.get(Reviewer, alice.id)
        assert row is not None
        assert verify_passphrase(row.passphrase_hash, alice.passphrase, services.config.kdf)
