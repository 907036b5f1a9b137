"""Declarative base with a naming convention, so constraint names are stable across databases
and Alembic can drop or alter them later."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The type of the random row ids below, and of every column that holds one: 64-bit; on
#: SQLite an INTEGER, so that the primary key stays the table's rowid.
RowId = BigInteger().with_variant(Integer(), "sqlite")


def random_row_id() -> int:
    """A random id for a row that reporters write or that sits beside theirs (cases, grants,
    messages, attachments).

    Sequential ids would number those rows in the order they were written, shared by reporters
    and staff; staff rows can be matched to audit events with exact times, so a reporter's row
    between two staff rows would be dated between their times. Always 63 bits long (top bit
    set), so no new id can equal one given out sequentially before revision 0008; a collision
    between two is as likely as guessing a 62-bit secret.
    """
    return (1 << 62) | secrets.randbits(62)


class Base(DeclarativeBase):
    """Base class of every Candor model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint holding the values."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )
