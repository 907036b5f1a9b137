"""What the offline verifier found: problems (each with the first position it concerns, when
there is one), warnings and counts."""

from __future__ import annotations

from dataclasses import dataclass, field

#: A report lists at most this many problems: after the first, the rest mostly follow from it.
MAX_PROBLEMS = 50


class Unreadable(Exception):
    """The file is not an export or proof at all (not a ZIP, a member missing, bad JSON)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong; `position` is the entry it concerns, None for signatures and files."""

    position: int | None
    message: str

    def __str__(self) -> str:
        where = f"position {self.position}: " if self.position is not None else ""
        return where + self.message


@dataclass
class Report:
    """The outcome of a verification."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entries: int = 0
    checkpoints: int = 0
    kept: int = 0
    #: The first entry that differs from its recorded leaf hash, if any.
    first_leaf_mismatch: int | None = None

    def add(self, position: int | None, message: str) -> None:
        """Record a problem (beyond MAX_PROBLEMS, only the count grows)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(position, message))

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    @property
    def first_bad_position(self) -> int | None:
        """The lowest position named by any problem."""
        positions = [p.position for p in self.problems if p.position is not None]
        return min(positions) if positions else None

    def ordered(self) -> list[Problem]:
        """Problems without a position first (keys, signatures, files), then by position."""
        return sorted(self.problems, key=lambda p: (p.position is not None, p.position or 0))
