"""`candor report`: the periodic review report written as PDF and HTML files, in English or
Chinese, with the figures of the period; bad input is one clear line, not a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.config import load_config
from core.db import make_engine, make_session_factory
from core.services import build_services
from tests.cli.conftest import run
from tests.core.factories import as_if_changed_yesterday, submit
from tests.reviewer.test_review_report import pdf_text


def _reports(env: dict[str, str], count: int) -> str:
    """`count` reports in the it_fault category, today, counted as made yesterday (the
    report counts a change from the day after it); the quarter they fall in."""
    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    try:
        for _ in range(count):
            submit(make_session_factory(engine), services, category="it_fault")
        as_if_changed_yesterday(make_session_factory(engine))
    finally:
        engine.dispose()
    today = services.clock.today()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def test_the_report_is_written_as_pdf_and_html(initialised_env: dict[str, str],
                                               tmp_path: Path) -> None:
    period = _reports(initialised_env, 4)
    out = tmp_path / "reports"
    result = run(initialised_env, "report", "--period", period, "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    pdf, html = out / f"candor-review-{period}-en.pdf", out / f"candor-review-{period}-en.html"
    assert f"Wrote {pdf}" in result.output and f"Wrote {html}" in result.output
    text = pdf_text(pdf.read_bytes())
    assert f"Review of the reporting process, {period}" in text
    assert f"Cases received in {period} 4" in text
    assert "printer" not in text.lower()  # the reports' text: never decrypted
    page = html.read_text("utf-8")
    assert 'id="review-total">4<' in page
    assert "shown as “&lt;3”" in page and "<3" not in page  # escaped as the cells are


def test_the_report_keeps_the_month_counts_it_made(initialised_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    """The counts the report refreshed are committed, as the statistics page's are: the next
    report or page reads them instead of counting the months again."""
    from sqlalchemy import select

    from core.models import StatisticsCell, StatisticsMonth

    period = _reports(initialised_env, 3)
    engine = make_engine(load_config(initialised_env).database_url)
    try:
        with make_session_factory(engine)() as s:
            assert not s.execute(select(StatisticsMonth).where(
                StatisticsMonth.stale.is_(False))).first()
        result = run(initialised_env, "report", "--period", period, "--format", "html",
                     "--output-dir", str(tmp_path))
        assert result.exit_code == 0, result.output
        with make_session_factory(engine)() as s:
            months = s.execute(select(StatisticsMonth)).scalars().all()
            # The quarter's months, and the earlier ones its early warnings compare against.
            assert len(months) >= 3 and not any(m.stale for m in months)
            assert s.execute(select(StatisticsCell)).first() is not None
    finally:
        engine.dispose()


def test_the_report_in_chinese_and_one_format(initialised_env: dict[str, str],
                                              tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = run(initialised_env, "report", "--period", "2026-11", "--language", "zh",
                 "--format", "pdf", "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["candor-review-2026-11-zh.pdf"]
    text = pdf_text((out / "candor-review-2026-11-zh.pdf").read_bytes())
    assert "举报处理流程定期检视，2026-11" in text and "本期收到的案件少于 3 件" in text
    assert "显示为“<3”" in text  # the explanation names the cells' own "<3"


def test_the_earliest_year_has_its_report(initialised_env: dict[str, str],
                                          tmp_path: Path) -> None:
    """2000 is the first year a period may name; its comparison year, 1999, holds no case."""
    result = run(initialised_env, "report", "--period", "2000", "--format", "html",
                 "--output-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_a_place_that_cannot_be_written_is_one_clear_line(initialised_env: dict[str, str],
                                                          tmp_path: Path) -> None:
    """A file where the directory should be, or a directory that cannot be made: one line
    naming the place, status 1, nothing written (was a traceback)."""
    blocker = tmp_path / "afile"
    blocker.write_text("not a directory")
    # Neither exists as a directory; writing in /proc fails even for root.
    for out, named in ((blocker / "sub", str(blocker)), (Path("/proc"), "/proc/candor-review")):
        result = run(initialised_env, "report", "--period", "2026", "--format", "html",
                     "--output-dir", str(out))
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert result.output.startswith("Error: cannot write the report to "), result.output
        assert named in result.output
    # A file given as the directory: click refuses it (newer versions) or the write does.
    result = run(initialised_env, "report", "--period", "2026", "--format", "html",
                 "--output-dir", str(blocker))
    assert result.exit_code in (1, 2) and "Traceback" not in result.output, result.output
    assert blocker.read_text() == "not a directory"


def test_a_bad_period_is_one_clear_line(initialised_env: dict[str, str],
                                        tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = run(initialised_env, "report", "--period", "2026-Q5", "--output-dir", str(out))
    assert result.exit_code == 2
    assert "quarters are Q1 to Q4" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_a_period_that_has_not_begun_is_refused(initialised_env: dict[str, str],
                                                tmp_path: Path) -> None:
    """Outside tester: `--period 2999` wrote a report of nothing, as if the period were
    quiet."""
    out = tmp_path / "reports"
    result = run(initialised_env, "report", "--period", "2999", "--output-dir", str(out))
    assert result.exit_code == 2
    assert "has not begun yet" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_the_html_report_needs_no_pango(initialised_env: dict[str, str], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where WeasyPrint cannot load, `--format html` still writes the report; a PDF is
    refused in one line saying what to install."""
    from reviewer import pdf

    def no_pango() -> Any:
        raise pdf.PdfUnavailable("PDF documents need Pango (Debian: apt-get install ...)")

    monkeypatch.setattr(pdf, "_weasyprint", no_pango)
    period = _reports(initialised_env, 4)
    out = tmp_path / "reports"
    result = run(initialised_env, "report", "--period", period, "--format", "html",
                 "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == [f"candor-review-{period}-en.html"]
    assert 'id="review-total">4<' in (out / f"candor-review-{period}-en.html").read_text()
    refused = run(initialised_env, "report", "--period", period, "--output-dir",
                  str(tmp_path / "both"))
    assert refused.exit_code == 1 and "PDF documents need Pango" in refused.output
    assert not (tmp_path / "both").exists()
