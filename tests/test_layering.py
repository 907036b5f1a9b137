"""The import layering of docs/ARCHITECTURE.md, enforced: portal, reviewer -> web -> core -> crypto.

Reads every module's imports with `ast` (including imports inside functions), so a lazy import
cannot sneak past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: package -> top-level modules it must never import
FORBIDDEN = {
    "crypto": {"flask", "sqlalchemy", "core", "web", "portal", "reviewer", "cli", "alembic",
               "migrations", "werkzeug"},
    "core": {"flask", "werkzeug", "flask_wtf", "flask_babel", "web", "portal", "reviewer",
             "cli"},
    # The apps reach crypto only through core, and the database only through core's use
    # cases (web.database holds the request's unit of work for both).
    "web": {"portal", "reviewer", "cli", "crypto"},
    "portal": {"reviewer", "cli", "crypto", "sqlalchemy"},
    "reviewer": {"portal", "cli", "crypto", "sqlalchemy"},
    "migrations": {"flask", "web", "portal", "reviewer", "cli"},
}


def imported_top_levels(path: Path) -> set[str]:
    """Top-level module names imported anywhere in a Python file (relative imports skipped)."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value.split(".")[0])
    return names


def violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_top_levels(path) & FORBIDDEN[package]
        if bad:
            found.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_layering(package: str) -> None:
    assert (ROOT / package).is_dir(), f"{package}/ is missing"
    assert violations(package) == []


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import flask\n    from sqlalchemy.orm import Session\n")
    assert imported_top_levels(sample) >= {"flask", "sqlalchemy"}


def test_the_offline_verifier_needs_no_database_or_server_code() -> None:
    """`candor audit verify` runs on an auditor's computer: its modules import only the
    standard library, crypto/ and each other (never the database, the apps or the instance's
    configuration), checked by really importing them in a fresh interpreter."""
    import subprocess
    import sys

    modules = ["core.audit.verifier", "core.audit.verifier_entries",
               "core.audit.verifier_proofs", "core.audit.verifier_report"]
    for name in modules:
        path = ROOT / (name.replace(".", "/") + ".py")
        top = imported_top_levels(path)
        assert top <= {"__future__", "base64", "binascii", "collections", "dataclasses",
                       "hashlib", "hmac", "json", "pathlib", "typing", "zipfile", "core",
                       "crypto"}, name
    probe = ("import sys; import " + ", ".join(modules) + "; "
             "bad = [m for m in ('sqlalchemy', 'flask', 'core.db', 'core.config', "
             "'core.services', 'core.models') if m in sys.modules]; print(bad)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"
