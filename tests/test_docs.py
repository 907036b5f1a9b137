"""The repository stands on its own: every document the code and the docs point to is in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("ARCHITECTURE.md", "CRYPTO.md", "PROCESS.md", "GLOSSARY.md")
MENTION = re.compile(r"(?<![\w/.])(docs/)?(" + "|".join(re.escape(d) for d in DOCS) + r")")


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    return [ROOT / n for n in names
            if n.endswith((".py", ".md", ".html", ".toml", ".cfg")) and (ROOT / n).is_file()]


def test_the_design_documents_are_in_docs() -> None:
    for name in ("README.md", *DOCS):
        assert (ROOT / "docs" / name).is_file(), name


def test_documents_are_named_by_their_path_in_the_repository() -> None:
    """A bare "CRYPTO.md" outside docs/ sends readers to a file that is not beside it."""
    stray = []
    for path in _tracked_text_files():
        if path.parent == ROOT / "docs" or path == Path(__file__).resolve():
            continue
        for line_no, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            for match in MENTION.finditer(line):
                linked = line[match.end():].startswith("](docs/")  # [CRYPTO.md](docs/...)
                if match.group(1) is None and not linked:
                    stray.append(f"{path.relative_to(ROOT)}:{line_no}: {match.group(2)}")
            if "shared/design" in line or "shared/seed" in line:
                stray.append(f"{path.relative_to(ROOT)}:{line_no}: outside the repository")
    assert stray == []


def test_relative_links_in_the_docs_resolve() -> None:
    for path in [ROOT / "README.md", ROOT / "SECURITY.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text("utf-8")):
            assert (path.parent / target).exists(), f"{path.name} links to {target}"
