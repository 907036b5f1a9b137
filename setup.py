"""Build hook: compile the message catalogs (.po -> .mo) whenever the package is built or
installed, so `pip install .` yields working Chinese and English pages. Everything else is
declared in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOG_ROOTS = ("portal/translations", "reviewer/translations", "web/translations")


def compile_catalogs(base: Path) -> None:
    """Write messages.mo next to every messages.po under the catalog roots."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for root in CATALOG_ROOTS:
        for po_path in (base / root).glob("*/LC_MESSAGES/messages.po"):
            with po_path.open("rb") as source:
                catalog = read_po(source)
            with po_path.with_suffix(".mo").open("wb") as target:
                write_mo(target, catalog, use_fuzzy=False)


class BuildWithCatalogs(build_py):
    """build_py that compiles the catalogs first, so they are packaged."""

    def run(self) -> None:
        compile_catalogs(Path(__file__).resolve().parent)
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
