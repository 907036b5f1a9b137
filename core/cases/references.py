"""Case references as people type them: `C-7K3M9Q2A`, `c-7k3m9q2a`, ` 7K3M9Q2A `."""

from __future__ import annotations

PREFIX = "C-"


def normalised_reference(typed: str) -> str:
    """The reference as stored: upper case, without surrounding spaces, with its "C-" (a
    reference copied without it, or read out over the phone as eight characters, still finds
    its case)."""
    wanted = typed.strip().upper()
    if wanted and not wanted.startswith(PREFIX):
        wanted = PREFIX + wanted
    return wanted
