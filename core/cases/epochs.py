"""Key epochs: when someone leaves a case team, new content goes under new keys.

Starting an epoch makes a new case key and a new team key and seals them to the remaining
members (the kinds each held, and whose membership Candor wrote: core.cases.membership_tags),
the recovery key and the reporter (core.cases.grants). It needs
no old key and touches no old record: records keep the keys of their epoch, so the cost does
not grow with the case (benches/rotate.py). Whoever left keeps, at most, copies of the old
epochs' grants: they open nothing written afterwards.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.grants import (
    current_epoch,
    grant_to_recovery,
    grant_to_reviewer,
    seal_to_reporter,
)
from core.cases.membership import case_team_in_effect
from core.models import Case, CaseGrant, KeyKind, Recipient, Reviewer
from core.services import Services
from core.staff.keys import CannotReceiveKeys, UntrustedPublicKey, key_alarm
from crypto.keys import new_key

#: The keys that rotate (identity keys never do: the identity is written once).
ROTATING = (KeyKind.CASE, KeyKind.TEAM)


def start_epoch(session: Session, services: Services, actor: Actor, case: Case) -> int:
    """Move `case` to a new key epoch (the caller holds the case row lock); return it."""
    previous = case.key_epoch
    held = session.execute(
        select(CaseGrant.reviewer_id, CaseGrant.key_kind).where(
            CaseGrant.case_id == case.id, CaseGrant.epoch == previous,
            CaseGrant.recipient == Recipient.REVIEWER)
    ).all()
    team = case_team_in_effect(services.keyring, case)
    for member in team.untrusted:
        # Not as Candor wrote it (a database writer added it, cleared an exclusion, or put
        # back a row from before the exclusion: core.cases.membership): nothing of the new
        # epoch for it, and an alarm for the auditors.
        record_event(session, services.clock, AuditAction.RECORD_TAMPERED, actor,
                     case_id=case.id, detail={"record": "member",
                                              "reviewer_id": member.reviewer_id})
    members = team.ids()
    kinds_of: dict[int, set[KeyKind]] = {}
    for reviewer_id, kind in held:
        if reviewer_id in members and kind in ROTATING:
            kinds_of.setdefault(reviewer_id, set()).add(kind)
    case.key_epoch = previous + 1
    keys = {kind: new_key() for kind in ROTATING if current_epoch(case, kind) == case.key_epoch}
    sealed_to = 0
    for reviewer_id, kinds in sorted(kinds_of.items()):
        reviewer = session.get(Reviewer, reviewer_id)
        if reviewer is None:
            continue
        try:
            for kind in kinds & keys.keys():
                grant_to_reviewer(case, reviewer, kind, keys[kind], services.keyring)
        except UntrustedPublicKey:
            key_alarm(session, services, reviewer, actor, where="epoch")
            continue
        except CannotReceiveKeys:
            continue  # deactivated since: nothing of the new epoch
        sealed_to += 1
    recovery = services.keyring.recovery_public_key
    if recovery is not None:
        for kind, key in keys.items():
            grant_to_recovery(case, recovery, kind, key)
    reporter = KeyKind.CASE in keys and seal_to_reporter(case, services.keyring,
                                                         keys[KeyKind.CASE], case.key_epoch)
    record_event(session, services.clock, AuditAction.CASE_EPOCH_STARTED, actor,
                 case_id=case.id,
                 detail={"epoch": case.key_epoch, "members": sealed_to,
                         "case_key": KeyKind.CASE in keys, "reporter": bool(reporter)})
    session.flush()
    return case.key_epoch
