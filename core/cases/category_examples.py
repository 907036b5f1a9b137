"""The organisation's confirmed categories as examples for the category suggestions, each
readable only by its case's team.

When a case handler sets or confirms a case's category (core.cases.recategorise), the token
counts of its report (core.categories.tokens.tokenize: words, pairs of neighbouring words
and of Chinese characters; never the text, its sentences or its order) are kept with the
confirmed category, encrypted under the case's team key (`keep_example`). When a handler opens
a case whose category nobody has confirmed yet, the console trains a model in memory on the
keyword rules plus the examples of every case that handler is on the team of (`learned_model`)
and forgets it when the page is sent: nothing trained on case text is stored in clear, and a
handler learns only from cases they could read anyway (the checks of core.cases.casework: an
active account, not excluded, holding the case key of the current epoch). Reading the
examples is a decryption, audited as one `case:category:learn` event naming the cases read,
like the inbox's summaries.

Retention destroys a case's example with the rest of its content (core.cases.shredding); a
tampered example (moved to another case or relabelled in the database) fails its integrity
check, is not trained on, and is reported as tampering on its case (as is a team key grant
that does not open with the reader's key).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased

from core.audit.log import AuditAction, record_event
from core.cases.casework import UnlockedReviewer, record_tampering
from core.cases.content import ReportContent
from core.cases.contexts import category_example_context
from core.cases.grants import FIRST_EPOCH, CaseKeys
from core.categories.lookup import category_keywords
from core.categories.suggestions import (
    CategoryWords,
    Model,
    build_model,
    seed_model,
    tokenize,
)
from core.models import (
    Case,
    CaseGrant,
    CaseMember,
    Category,
    CategoryExample,
    KeyKind,
    Recipient,
    Reviewer,
)
from core.services import Services
from crypto.errors import CryptoError
from crypto.keys import open_sealed
from crypto.records import decrypt_record, encrypt_record

#: The version of core.categories.tokens.tokenize the kept counts were made with. Raise
#: it whenever tokenize changes what it returns (tests/core/cases/test_category_examples.py
#: pins a fingerprint of its output): examples of older versions are then not trained on
#: until their category is confirmed again.
TOKENS_VERSION = 1

#: The most examples one model is trained on: the most recently confirmed ones. Each costs an
#: X25519 unseal and a decryption when a case page is shown (benches/case_page_learning.py
#: times it).
MAX_EXAMPLES = 500

#: Tampering reported on a case whose example fails its integrity check.
TAMPERED_EXAMPLE = "category example"
#: Tampering reported on a case whose team key grant, sealed to the reader, does not open
#: (the example itself could not be checked).
TAMPERED_GRANT = "team key grant"


def _counts_bytes(counts: Counter[str]) -> bytes:
    return json.dumps(dict(sorted(counts.items())), ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def _counts_from(data: bytes) -> Counter[str]:
    """Token counts from their JSON; ValueError for anything but {str: positive int}."""
    loaded = json.loads(data)
    if not isinstance(loaded, dict) or not all(
            isinstance(token, str) and type(n) is int and n > 0 for token, n in loaded.items()):
        raise ValueError("not token counts")
    return Counter(loaded)


def keep_example(session: Session, case: Case, keys: CaseKeys, report: ReportContent,
                 category: Category, today: date) -> None:
    """Keep (or replace) the case's example: its report's token counts under the current
    team key, labelled with `category`. The caller audits the confirmation in the same
    transaction (core.cases.recategorise)."""
    epoch, team_key = keys.current(KeyKind.TEAM)
    counts = Counter(tokenize(report.words()))
    ciphertext = encrypt_record(
        team_key, _counts_bytes(counts),
        category_example_context(case.reference, category.id, epoch, TOKENS_VERSION))
    example = session.get(CategoryExample, case.id)
    if example is None:
        example = CategoryExample(case_id=case.id)
        session.add(example)
    example.category_id = category.id
    example.key_epoch = epoch
    example.tokens_version = TOKENS_VERSION
    example.confirmed_on = today
    example.counts_ciphertext = ciphertext


def is_confirmed(session: Session, case_id: int) -> bool:
    """Whether a handler has set or confirmed the case's category since examples are kept."""
    return session.get(CategoryExample, case_id) is not None


@dataclass(frozen=True)
class LearnedModel:
    """A model for suggestions and the number of confirmed cases it learned from (0: the
    keyword rules alone)."""

    model: Model
    examples: int


def read_examples(session: Session, services: Services, who: UnlockedReviewer, *,
                  limit: int = MAX_EXAMPLES) -> list[tuple[Counter[str], str]]:
    """(token counts, category code) of the most recently confirmed cases the reviewer may
    read (as core.cases.casework: an active account, a member not excluded, holding the case
    key of the current epoch) and holds the team key of the example's epoch for; audited as
    one event naming the cases read. Nothing for a deactivated account. A destroyed case has
    no example; an example (or the grant of its team key) that does not open is skipped and
    reported as tampering on its case."""
    reviewer = session.get(Reviewer, who.reviewer_id)
    if reviewer is None or not reviewer.active:
        return []  # its grants remain for the record but may not be used
    case_key = aliased(CaseGrant)
    current_case_epoch = sql_case((Case.reporter_public_key.is_(None), FIRST_EPOCH),
                                  else_=Case.key_epoch)
    rows = session.execute(
        select(CategoryExample.case_id, Case.reference, CategoryExample.category_id,
               Category.code, CategoryExample.key_epoch, CategoryExample.counts_ciphertext,
               CaseGrant.sealed_key)
        .join(Case, Case.id == CategoryExample.case_id)
        .join(Category, Category.id == CategoryExample.category_id)
        .join(CaseGrant, and_(CaseGrant.case_id == CategoryExample.case_id,
                              CaseGrant.recipient == Recipient.REVIEWER,
                              CaseGrant.reviewer_id == who.reviewer_id,
                              CaseGrant.key_kind == KeyKind.TEAM,
                              CaseGrant.epoch == CategoryExample.key_epoch))
        .join(CaseMember, and_(CaseMember.case_id == CategoryExample.case_id,
                               CaseMember.reviewer_id == who.reviewer_id,
                               CaseMember.excluded.is_(False)))
        .where(CategoryExample.tokens_version == TOKENS_VERSION,
               exists().where(case_key.case_id == CategoryExample.case_id,
                              case_key.recipient == Recipient.REVIEWER,
                              case_key.reviewer_id == who.reviewer_id,
                              case_key.key_kind == KeyKind.CASE,
                              case_key.epoch == current_case_epoch))
        .order_by(CategoryExample.confirmed_on.desc(), CategoryExample.case_id.desc())
        .limit(limit)).all()
    examples: list[tuple[Counter[str], str]] = []
    read: list[int] = []
    for case_id, reference, category_id, code, epoch, ciphertext, sealed in rows:
        try:
            team_key = open_sealed(who.private_key, sealed)
        except (CryptoError, ValueError):
            record_tampering(session, services, who.actor, case_id, [TAMPERED_GRANT])
            continue
        try:
            counts = _counts_from(decrypt_record(
                team_key, ciphertext,
                category_example_context(reference, category_id, epoch, TOKENS_VERSION)))
        except (CryptoError, ValueError):
            record_tampering(session, services, who.actor, case_id, [TAMPERED_EXAMPLE])
            continue
        examples.append((counts, code))
        read.append(case_id)
    if read:
        record_event(session, services.clock, AuditAction.CATEGORY_EXAMPLES_DECRYPTED,
                     who.actor, detail={"cases": ",".join(str(i) for i in sorted(read))})
    return examples


def category_words(category: Category) -> CategoryWords:
    """What the operator wrote about a category that its suggestions learn from: its names
    and descriptions in both languages, and its keywords."""
    return CategoryWords(category.code,
                         (category.name_en, category.name_zh, category.description_en or "",
                          category.description_zh or ""),
                         category_keywords(category))


def learned_model(session: Session, services: Services, who: UnlockedReviewer,
                  categories: Sequence[CategoryWords]) -> LearnedModel:
    """The keyword rules plus every example the reviewer may read, limited to `categories`
    (the active ones, core.categories.lookup.category_words), trained in memory. Their
    operator keywords add to the rules; their names and descriptions seed the categories
    that have neither. With no example to read, nothing is decrypted or audited and the
    model of the rules, keywords and descriptions alone (cached: it holds no case data) is
    returned."""
    words = tuple(CategoryWords(c.code, tuple(c.texts), tuple(c.keywords)) for c in categories)
    examples = read_examples(session, services, who)
    if not examples:
        return LearnedModel(seed_model(words), 0)
    return LearnedModel(build_model(token_examples=examples, categories=[c.code for c in words],
                                    descriptions={c.code: c.texts for c in words},
                                    extra_keywords={c.code: c.keywords for c in words}),
                        len(examples))
