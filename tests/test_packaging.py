"""Packaging metadata that setuptools keeps accepting (no deprecation warnings at install)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())


def test_license_is_an_spdx_expression() -> None:
    """setuptools deprecates `license = { text = ... }` (refused after 2027-02-18)."""
    assert PYPROJECT["project"]["license"] == "AGPL-3.0-or-later"


def test_build_requires_a_setuptools_that_reads_spdx_licenses() -> None:
    requirement = next(r for r in PYPROJECT["build-system"]["requires"]
                       if r.startswith("setuptools"))
    match = re.fullmatch(r"setuptools>=(\d+)", requirement)
    assert match and int(match.group(1)) >= 77
