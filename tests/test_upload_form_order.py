"""Every upload form puts its files last: web.streamed_forms builds and checks the form at
the first file and refuses a field sent after it (browsers send fields in page order)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(p for app in ("portal", "reviewer")
                   for p in (ROOT / app / "templates").rglob("*.html")
                   if 'type="file"' in p.read_text(encoding="utf-8"))
FORM = re.compile(r"<form\b.*?</form>", re.DOTALL)
FILE_INPUT = re.compile(r'<input[^>]*type="file"[^>]*>')
#: A field in the template source: a named element or one of the form macros.
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="|\{\{\s*forms\.\w+\(')


def test_the_upload_templates_are_found() -> None:
    names = {p.name for p in TEMPLATES}
    assert {"submit.html", "case.html", "casework.html"} <= names


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_field_comes_after_a_file_input(template: Path) -> None:
    for form in FORM.findall(template.read_text(encoding="utf-8")):
        file_input = FILE_INPUT.search(form)
        if file_input is None:
            continue
        after = form[file_input.end():]
        late = FIELD.search(after)
        assert late is None, (f"{template.name}: a field after the files: "
                              f"{after[late.start():][:80]!r}")
