"""Confirmed categories kept as training examples for the category suggestions.

When a case handler sets or confirms a case's category (core.cases.recategorise), the
report's token counts (core.categories.suggestions.tokenize: words, word pairs, character
pairs; never the text or its order) are kept with the confirmed category, encrypted under the
case's team key, so that the console's suggestions learn from the organisation's own cases
while only the case's team can read what was learned from it (core.cases.category_examples).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, RowId


class CategoryExample(Base):
    """One case's confirmed category and its report's token counts (ciphertext).

    `counts_ciphertext` is the JSON {token: count} under the team key of `key_epoch`, bound
    to the case, the category, the epoch and `tokens_version` (core.cases.contexts), so that
    a database writer can neither relabel an example nor move it to another case. An example
    made by an older tokenizer (`tokens_version` below the current one) is not trained on.
    """

    __tablename__ = "category_examples"
    __table_args__ = (
        Index("ix_category_examples_confirmed", "confirmed_on", "case_id"),
    )

    case_id: Mapped[int] = mapped_column(RowId, ForeignKey("cases.id"), primary_key=True,
                                         autoincrement=False)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    key_epoch: Mapped[int] = mapped_column(Integer)
    tokens_version: Mapped[int] = mapped_column(SmallInteger)
    #: Day precision, like every date of a case.
    confirmed_on: Mapped[date] = mapped_column(Date)
    counts_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
