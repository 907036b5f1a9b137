"""Handlers the reporter chose, on the form, not to receive their report.

Each choice is stored as a keyed tag of (case, account) under the instance account key
(crypto.key_tags): the team and the database see how many were excluded, not who, and the use
cases refuse to seal any key of the case to one of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.keyring import Keyring
from core.models import Case, ReporterExclusion
from crypto.key_tags import key_tag


def _tag(keyring: Keyring, case: Case, reviewer_id: int) -> bytes:
    return key_tag(keyring.account_key, f"case:{case.reference}:excluded-by-reporter",
                   str(reviewer_id).encode("ascii"))


def record_reporter_exclusions(case: Case, keyring: Keyring,
                               reviewer_ids: Iterable[int]) -> None:
    """Remember the reporter's choice for `case` (each account once)."""
    for reviewer_id in sorted(set(reviewer_ids)):
        case.reporter_exclusions.append(
            ReporterExclusion(tag=_tag(keyring, case, reviewer_id)))


def excluded_by_reporter(case: Case, keyring: Keyring, reviewer_id: int) -> bool:
    """Whether the reporter excluded this account from their case."""
    tag = _tag(keyring, case, reviewer_id)
    return any(exclusion.tag == tag for exclusion in case.reporter_exclusions)


def reporter_exclusion_count(case: Case) -> int:
    """How many handlers the reporter excluded (who, the team does not learn)."""
    return len(case.reporter_exclusions)
