"""The statistics page's month cells (core.statistics.month_cells): derived data, counts per
month of receipt kept so that a view reads a few hundred rows per month, however many cases
it covers.

A month's cells are recomputed from the clear columns when the month is stale, on a day after
its latest change: any write through the ORM to a case, decision or corrective action of that
month dates and marks it (core.statistics.staleness), and core.statistics.recount says when it
is counted; a month without a row was never computed.
They hold counts and nothing else: no case id, no reference, nothing decrypted.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base


class StatisticsMonth(Base):
    """One month of receipt whose cells exist. `stale`: a case of the month changed since
    they were computed. `changed_on`: the organisation's day of the month's latest change
    (day precision, as the cases' own dates). A stale month's cells stand as of the start of
    that day; a view recounts it only on a later day (core.statistics.month_cells)."""

    __tablename__ = "statistics_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class StatisticsCell(Base):
    """How many cases (or corrective actions) of one month of receipt have one fact.

    `level` says which filters the cell serves: 0 every case of the month, 1 one category
    (`category_id`; 0 for cases without one), 2 one channel, 3 one category and one channel.
    The unused dimension is -1 (category) or "" (channel), so that the key holds no NULL.
    `measure` and `key` name the fact (core.statistics.month_cells: e.g. "scope" /
    "accepted"); measures with many keys (days taken, due days) keep one row with key "*" and
    all their keys in `histogram`.
    """

    __tablename__ = "statistics_cells"
    # The key leads with the filters, then the month: a view's cells are one range per month.
    # The grid's "cases" cells of every category are a range of the second index.
    __table_args__ = (
        Index("ix_statistics_cells_measure", "measure", "level", "channel", "month"),
        Index("ix_statistics_cells_month", "month"),  # a recount deletes its month's cells
    )

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    #: For measures with many keys (core.statistics.month_cells.HISTOGRAMS), key "*" and
    #: every key with its count, "3:12;4:7": one row per month however busy it was.
    histogram: Mapped[str | None] = mapped_column(Text)
