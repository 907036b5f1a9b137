"""The periodic review report over real HTTP requests to the console: the PDF's text (read
back with pypdf) carries the same figures as the statistics page, small cells hidden, in
English and Chinese; the HTML is self-contained; nothing is decrypted."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pypdf
import pytest
from sqlalchemy import update

from core.db import transaction
from core.models import Case
from tests.core.factories import audit_size
from tests.reviewer.conftest import World, login_client
from tests.reviewer.test_statistics_page import add_cases, current_quarter, in_chinese
from web.downloads import content_disposition

#: The reports the tests make are kept here for people to look at (like the e2e screenshots).
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "review"


def keep(name: str, data: bytes) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(data)


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, whitespace collapsed."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_the_pdf_has_the_dashboards_figures_and_hides_small_cells(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    add_cases(session_factory, services, "it_fault", 4)  # 5 with the world's case
    add_cases(session_factory, services, "security", 1)
    before = audit_size(session_factory)
    client = login_client(app, session_factory, services, world.admin)
    period = current_quarter(services)
    response = client.get(f"/statistics/review.pdf?period={period}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == content_disposition(
        f"candor-review-{period}-en.pdf")
    keep("review-en.pdf", response.data)
    text = pdf_text(response.data)
    assert f"Review of the reporting process, {period}" in text
    dashboard = client.get(f"/statistics?period={period}").get_data(as_text=True)
    total = re.search(r'id="statistics-total">(\d+)<', dashboard)
    assert total is not None and total.group(1) == "6"
    assert f"Cases received in {period} 6" in text
    assert "<3" in text  # the one security case, as on the dashboard
    for heading in ("1. Volumes", "2. Times and deadlines", "3. Scope, findings and root causes",
                    "4. Corrective actions", "5. Recurring themes", "6. Reporters' satisfaction",
                    "7. Questions for the review"):
        assert heading in text
    assert "Printer" not in text and "printer" not in text  # no report text
    assert audit_size(session_factory) == before  # nothing was decrypted


def stranded_headings(data: bytes, headings: list[str]) -> list[str]:
    """The headings and captions that end a page, with what they head on the next (the
    page's text in reading order, its footer line left out)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    stranded = []
    for page in reader.pages[:-1]:
        lines = [line.strip() for line in page.extract_text(extraction_mode="layout")
                 .splitlines() if line.strip()][:-1]
        tail = " ".join(" ".join(lines[-3:]).split())
        stranded += [h for h in headings if tail.endswith(h)]
    return stranded


def test_no_heading_is_left_at_the_foot_of_a_page(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """Outside tester: "4. Corrective actions" and its table's caption ended a page, the
    table on the next. A heading, a caption and what they head now stay together."""
    add_cases(session_factory, services, "it_fault", 4)
    add_cases(session_factory, services, "security", 1)
    client = login_client(app, session_factory, services, world.admin)
    data = client.get(f"/statistics/review.pdf?period={current_quarter(services)}").data
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) > 2  # pages to break between
    headings = ["1. Volumes", "2. Times and deadlines", "3. Scope, findings and root causes",
                "4. Corrective actions", "5. Recurring themes", "6. Reporters' satisfaction",
                "7. Questions for the review", "Cases by channel", "Cases by scope decision",
                "Cases by finding", "Cases by root cause", "Corrective actions of these cases",
                "Reporters' answers to the outcome", "Cases by category and month"]
    assert stranded_headings(data, headings) == []


def test_the_html_is_self_contained(app: Any, world: World, session_factory: Any,
                                    services: Any) -> None:
    add_cases(session_factory, services, "it_fault", 4)
    client = login_client(app, session_factory, services, world.on_case)
    response = client.get(f"/statistics/review.html?period={current_quarter(services)}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    html = response.get_data(as_text=True)
    assert html.startswith("<!DOCTYPE html>") or "<!DOCTYPE html>" in html[:200]
    assert "data:image/svg+xml;base64," in html  # the charts travel inside
    assert "<script" not in html
    today = services.clock.today().isoformat()
    assert f'id="review-as-of">The figures stand as of the start of {today}:' in html
    # Nothing to fetch: no link, no image or style from anywhere but a data: URL.
    assert re.findall(r'(?:src|href)="(?!data:)', html) == []


def test_the_report_reads_in_chinese(app: Any, world: World, session_factory: Any,
                                     services: Any) -> None:
    add_cases(session_factory, services, "it_fault", 4)
    client = in_chinese(login_client(app, session_factory, services, world.admin))
    period = current_quarter(services)
    response = client.get(f"/statistics/review.pdf?period={period}")
    assert response.headers["Content-Disposition"] == content_disposition(
        f"candor-review-{period}-zh.pdf")
    keep("review-zh.pdf", response.data)
    text = pdf_text(response.data)
    assert "举报处理流程定期检视" in text and "按类别和月份的案件" in text


def test_a_period_of_fewer_than_3_cases_shows_only_its_total(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    with transaction(session_factory) as s:  # the world's case, moved out of the period
        s.execute(update(Case).values(received_on=services.clock.today().replace(year=2020)))
    add_cases(session_factory, services, "it_fault", 2)
    client = login_client(app, session_factory, services, world.admin)
    text = pdf_text(client.get(f"/statistics/review.pdf?period={current_quarter(services)}").data)
    assert "Fewer than 3 cases were received in the period" in text
    assert "Cases by channel" not in text


def test_bad_periods_get_a_message(app: Any, world: World, session_factory: Any,
                                   services: Any) -> None:
    client = login_client(app, session_factory, services, world.admin)
    response = client.get("/statistics/review.pdf?period=2026-Q7")
    assert response.status_code == 400
    assert "a quarter (2026-Q4)" in response.get_data(as_text=True)
    assert client.get("/statistics/review.docx?period=2026").status_code == 404


@pytest.mark.parametrize("period", ["2000", "2000-Q1", "2000-01"])
def test_the_earliest_periods_have_a_review(app: Any, world: World, session_factory: Any,
                                            services: Any, period: str) -> None:
    """Their comparison period (1999) is before any a user may name: the report still
    renders, with nothing in either."""
    client = login_client(app, session_factory, services, world.admin)
    response = client.get(f"/statistics/review.html?period={period}")
    assert response.status_code == 200
    assert f"{period}" in response.get_data(as_text=True)


def test_without_pango_the_html_is_still_made_and_the_pdf_says_why(
        app: Any, world: World, session_factory: Any, services: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A console whose system lacks Pango (WeasyPrint cannot load) still serves the HTML
    report; the PDF is a 503 naming the operator, not a 500."""
    from reviewer import pdf

    def no_pango() -> Any:
        raise pdf.PdfUnavailable("PDF documents need Pango")

    monkeypatch.setattr(pdf, "_weasyprint", no_pango)
    add_cases(session_factory, services, "it_fault", 4)
    client = login_client(app, session_factory, services, world.on_case)
    period = current_quarter(services)
    html = client.get(f"/statistics/review.html?period={period}")
    assert html.status_code == 200  # the world's case and these four:
    assert 'id="review-total">5<' in html.get_data(as_text=True)
    refused = client.get(f"/statistics/review.pdf?period={period}")
    assert refused.status_code == 503
    assert "This cannot be done on this server" in refused.get_data(as_text=True)
