"""The console makes PDFs (review report, case file export) with WeasyPrint, Pango and
cffi: they must work under the console unit's seccomp rules (SystemCallFilter,
MemoryDenyWriteExecute, RestrictAddressFamilies), applied by libseccomp as in
test_deploy_live.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.harness import sandboxed

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import io, sys
import pypdf
from reviewer.pdf import FONT_STACK, html_to_pdf
pdf = html_to_pdf('<html><head><style>body { font-family: %s }</style></head><body>'
                  '<h1>定期检视 review</h1></body></html>' % FONT_STACK)
text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
sys.stdout.write(text)
"""


def test_pdfs_are_made_under_the_console_units_seccomp_rules() -> None:
    argv = sandboxed([sys.executable, "-c", SCRIPT], ROOT / "deploy" / "candor-console.service")
    if argv is None:
        message = "python3-seccomp is not installed (apt-get install -y python3-seccomp)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must have it")
        pytest.skip(message)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "定期检视 review" in done.stdout
