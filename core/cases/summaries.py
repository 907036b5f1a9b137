"""One-line summaries for the inbox: the report's summary of each case on the page being
shown, decrypted with the reviewer's key for that page only and never stored in clear.

The page's grants and reports are read in one query each, whatever the size of the archive,
and the decryption is audited as one event naming the page's cases (an inbox page is one
act of reading, not fifty).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import UnlockedReviewer
from core.cases.grants import FIRST_EPOCH
from core.cases.reading import decrypt_report
from core.models import Case, CaseGrant, KeyKind, Recipient
from core.services import Services
from crypto.errors import CryptoError
from crypto.keys import open_sealed

#: Longest summary shown in a row, in characters.
SUMMARY_LENGTH = 120


def inbox_summaries(session: Session, services: Services, who: UnlockedReviewer,
                    case_ids: Sequence[int]) -> dict[int, str]:
    """The summary of each case the reviewer holds the report key of; a report that does
    not open (no grant, or failing its integrity check) is left out."""
    if not case_ids:
        return {}
    sealed = {case_id: key for case_id, key in session.execute(
        select(CaseGrant.case_id, CaseGrant.sealed_key)
        .where(CaseGrant.case_id.in_(case_ids), CaseGrant.recipient == Recipient.REVIEWER,
               CaseGrant.reviewer_id == who.reviewer_id, CaseGrant.key_kind == KeyKind.CASE,
               CaseGrant.epoch == FIRST_EPOCH))}
    summaries: dict[int, str] = {}
    for case_id, reference, ciphertext in session.execute(
            select(Case.id, Case.reference, Case.report_ciphertext)
            .where(Case.id.in_(list(sealed)))):
        try:
            key = open_sealed(who.private_key, sealed[case_id])
            report = decrypt_report(reference, ciphertext, key)
        except (CryptoError, ValueError):
            continue  # shown without a summary; the case page reports tampering
        summary = " ".join(report.summary.split())
        summaries[case_id] = (summary if len(summary) <= SUMMARY_LENGTH
                              else summary[:SUMMARY_LENGTH - 1] + "…")
    if summaries:
        record_event(session, services.clock, AuditAction.SUMMARIES_DECRYPTED, who.actor,
                     detail={"cases": ",".join(str(i) for i in sorted(summaries))})
    return summaries
