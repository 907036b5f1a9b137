"""The statistics page over real HTTP requests to the console: filters, small-cell
suppression on the page, in the charts and in the CSV, the early warnings, and that nothing
is decrypted (core.statistics computes the figures; tests/core/statistics tests them)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from core.db import transaction
from core.models import Case
from core.statistics.alerts import last_complete_month
from core.statistics.periods import recent_months
from tests.core.factories import as_if_changed_yesterday, audit_size, submit
from tests.reviewer.conftest import World, accept_world_case, login_client


def add_cases(session_factory: Any, services: Any, category: str, count: int,
              received_on: date | None = None) -> None:
    """`count` reports of `category`, received on `received_on` (default today), and every
    change so far counted as made yesterday, so that the page shows them today."""
    ids = [submit(session_factory, services, category=category).case_id for _ in range(count)]
    if received_on is not None:
        with transaction(session_factory) as s:
            s.execute(update(Case).where(Case.id.in_(ids)).values(received_on=received_on))
    as_if_changed_yesterday(session_factory)


def in_chinese(client: Any) -> Any:
    """`client`, its console switched to Chinese (the language the footer's switch sets)."""
    client.get("/statistics")
    with client.session_transaction() as flask_session:
        flask_session["candor.language"] = "zh_CN"
    return client


def current_quarter(services: Any) -> str:
    today = services.clock.today()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def test_the_figures_of_a_period_are_shown_and_small_cells_hidden(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    add_cases(session_factory, services, "it_fault", 4)    # 5 with the world's case
    add_cases(session_factory, services, "security", 1)
    before = audit_size(session_factory)
    client = login_client(app, session_factory, services, world.on_case)
    page = client.get(f"/statistics?period={current_quarter(services)}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="statistics-total">6<' in text
    assert "&lt;3" in text  # the one security case
    # The sentence that explains "<3" escapes it as the cells do: no "<" that is not markup.
    assert "shown as “&lt;3”" in text and "<3" not in text
    assert "Printer" not in text and "printer" not in text  # no report text, nothing opened
    # Every decryption writes an audit event: an unchanged log shows nothing was opened.
    assert audit_size(session_factory) == before


def test_a_view_of_fewer_than_3_cases_shows_only_its_total(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    as_if_changed_yesterday(session_factory)  # the world's case shows
    client = login_client(app, session_factory, services, world.admin)
    page = client.get(f"/statistics?period={current_quarter(services)}&category=it_fault")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="statistics-total">&lt;3<' in text and 'id="statistics-too-few"' in text
    assert "<img" not in text
    assert client.get(f"/statistics/chart/by_channel.svg?period={current_quarter(services)}"
                      "&category=it_fault").status_code == 404


def test_charts_are_svg_without_script(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    add_cases(session_factory, services, "it_fault", 4)
    add_cases(session_factory, services, "security", 4)
    client = login_client(app, session_factory, services, world.on_case)
    period = current_quarter(services)
    page = client.get(f"/statistics?period={period}").get_data(as_text=True)
    assert page.count('<img class="chart"') == 5 and "by-month-no-chart" not in page
    for name in ("by_month", "by_channel", "by_scope", "by_finding", "by_root_cause"):
        chart = client.get(f"/statistics/chart/{name}.svg?period={period}")
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
        assert b"<svg" in chart.data and b"<script" not in chart.data
    assert client.get(f"/statistics/chart/nothing.svg?period={period}").status_code == 404


def test_a_month_grid_of_hidden_cells_gets_a_note_instead_of_a_chart(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    add_cases(session_factory, services, "it_fault", 4)  # 5 with the world's case
    add_cases(session_factory, services, "security", 1)  # "<3", and its complement hidden
    client = login_client(app, session_factory, services, world.on_case)
    page = client.get(f"/statistics?period={current_quarter(services)}").get_data(as_text=True)
    assert 'id="by-month-no-chart"' in page and "chart/by_month.svg" not in page
    # Nor does the chart's own address draw one (it drew every month as 0).
    assert client.get(f"/statistics/chart/by_month.svg?period={current_quarter(services)}"
                      ).status_code == 404


def test_the_csv_has_the_same_suppressed_figures(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    add_cases(session_factory, services, "it_fault", 4)
    add_cases(session_factory, services, "security", 1)
    client = login_client(app, session_factory, services, world.admin)
    csv = client.get(f"/statistics/export.csv?period={current_quarter(services)}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    text = csv.get_data(as_text=True)
    assert "<3" in text and "security" in text.lower()


def test_watching_the_page_does_not_date_a_report(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """A report made between two looks of one day leaves the page, the CSV and the charts
    as they were, and says so; the next day counts it (core.statistics.recount)."""
    add_cases(session_factory, services, "it_fault", 5)  # 6 with the world's case
    client = login_client(app, session_factory, services, world.admin)
    period = current_quarter(services)
    urls = [f"/statistics/export.csv?period={period}",
            f"/statistics/chart/by_month.svg?period={period}"]

    def seen() -> list[bytes]:
        page = client.get(f"/statistics?period={period}").get_data(as_text=True)
        total = page.split('id="statistics-total">')[1].split("<")[0]
        # pygal names each drawing with a random id: the rest must be the same
        return [total.encode()] + [re.sub(rb"chart-[0-9a-f-]{36}", b"chart", client.get(
            url).get_data()) for url in urls]

    before = seen()
    assert before[0] == b"6"
    page = client.get(f"/statistics?period={period}").get_data(as_text=True)
    today = services.clock.today().isoformat()
    assert f'id="statistics-as-of">As of the start of {today}' in page
    submit(session_factory, services, category="security")
    assert seen() == before
    as_if_changed_yesterday(session_factory)  # a day later
    after = seen()
    assert after[0] == b"7" and after[1] != before[1]


def test_the_csv_speaks_the_pages_language(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """In Chinese, the titles and headings are Chinese as the rows' names are; every word
    the export writes has a translation."""
    from core.statistics.csv_export import CSV_WORDS
    from reviewer.statistics_labels import CSV_WORDS as TRANSLATED

    assert tuple(TRANSLATED) == CSV_WORDS
    add_cases(session_factory, services, "it_fault", 4)
    client = in_chinese(login_client(app, session_factory, services, world.admin))
    text = client.get(f"/statistics/export.csv?period={current_quarter(services)}").get_data(
        as_text=True)
    assert "按渠道的案件" in text and "合计" in text and "期间" in text
    assert "total" not in text and "cases by channel" not in text


def test_a_category_whose_code_is_a_channels_names_only_its_own_rows(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """An organisation's category may have any code, "web" too (an outside tester,
    2026-12-07: the channel row was then labelled with the category's name on the page, in
    the CSV and in the chart). Each table is named from its own words."""
    from core.categories.admin import add_category

    with transaction(session_factory) as s:
        add_category(s, services, code="web", name_en="Websites and online tools",
                     name_zh="网站与在线工具")
    add_cases(session_factory, services, "web", 4)  # reports of it, through the web form
    client = login_client(app, session_factory, services, world.admin)
    period = f"period={current_quarter(services)}"
    page = client.get(f"/statistics?{period}").get_data(as_text=True)
    channels = page[page.index('id="by-channel"'):]
    assert "Web form" in channels[:channels.index("</table>")]
    assert "Websites and online tools" not in channels[:channels.index("</table>")]
    grid = page[page.index('id="by-category-month"'):]
    assert "Websites and online tools" in grid[:grid.index("</table>")]
    csv = client.get(f"/statistics/export.csv?{period}").get_data(as_text=True)
    assert "\r\nWeb form,5\r\n" in csv  # the channel's row
    assert "\r\nWebsites and online tools," in csv  # the category's, month by month
    chart = client.get(f"/statistics/chart/by_channel.svg?{period}").get_data(as_text=True)
    assert "Web form" in chart and "Websites" not in chart


def test_a_category_or_channel_in_the_address_changes_nothing(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """There is no filter by category or channel (core.statistics.year_views: one filtered
    view minus another gave a hidden count back); an old address that names them gets the
    period's figures, all categories and channels."""
    add_cases(session_factory, services, "security", 4)
    client = login_client(app, session_factory, services, world.admin)
    period = f"period={current_quarter(services)}"
    plain = client.get(f"/statistics/export.csv?{period}").get_data(as_text=True)
    filtered = client.get(f"/statistics/export.csv?{period}&category=it_fault&channel=web")
    assert filtered.status_code == 200 and filtered.get_data(as_text=True) == plain
    assert "cases,5\r\n" in plain  # the four and the world's case


@pytest.mark.parametrize(("query", "message"), [
    ("period=last+year", "Write the period as a year (2026)"),
    ("period=2026-Q5", "There is no quarter Q5: quarters are Q1 to Q4."),
    ("period=2026-13", "There is no month 13: months are 01 to 12."),
    ("period=1999", "The year 1999 is outside the years statistics cover, 2000 to 2999."),
    # Longer than any period: refused, not cut down to the "2026" it begins with (an outside
    # tester, 2026-12-07: it showed 2026's figures).
    ("period=2026" + "+" * 16 + "garbage", "Write the period as a year (2026)"),
    ("period=%20%20%20", None)])  # blank, as if not given: the current quarter
def test_bad_periods_get_a_message_not_an_error(
        app: Any, world: World, session_factory: Any, services: Any, query: str,
        message: str | None) -> None:
    """The page, the CSV, a chart and the review report all answer a bad period with the
    page and what is wrong with it (400)."""
    client = login_client(app, session_factory, services, world.on_case)
    for path in ("/statistics", "/statistics/export.csv", "/statistics/chart/by_channel.svg",
                 "/statistics/review.html"):
        page = client.get(f"{path}?{query}")
        if message is None:
            assert page.status_code in (200, 404), path  # 404: a chart of fewer than 3 cases
            continue
        assert page.status_code == 400, path
        assert 'id="statistics-error"' in page.text and message in page.text, path


def test_a_rise_in_the_last_complete_month_is_flagged(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    months = recent_months(last_complete_month(services.clock.today()), 8)
    add_cases(session_factory, services, "security", 3, months[0].start)  # the first reports
    for month in months[1:-1]:
        add_cases(session_factory, services, "security", 3, month.start + timedelta(days=3))
    add_cases(session_factory, services, "security", 15, months[-1].start + timedelta(days=3))
    add_cases(session_factory, services, "security", 2)  # this month: 3 with the world's
    client = login_client(app, session_factory, services, world.admin)
    text = client.get("/statistics").get_data(as_text=True)
    assert 'id="early-warnings"' in text
    # Three a month: each month shows its count, so the alert's figures give nothing away.
    # (A month of 1 or 2 would hide a neighbouring month's count: core.statistics.year_views.)
    assert f"15 cases in {months[-1].label}" in text


def test_the_page_reads_in_chinese(app: Any, world: World, session_factory: Any,
                                   services: Any) -> None:
    add_cases(session_factory, services, "it_fault", 4)
    client = in_chinese(login_client(app, session_factory, services, world.admin))
    text = client.get(f"/statistics?period={current_quarter(services)}").get_data(as_text=True)
    assert "统计" in text and "按类别和月份的案件" in text


def test_a_table_of_hidden_or_zero_cells_gets_a_note_instead_of_a_chart(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """Outside tester: an empty chart drew bare axes and pygal's English "No data", in
    Chinese too. One case of five has its scope decided: "accepted 1" is hidden, and so is
    "pending 4" (it would give the 1 away), so the scope chart has nothing to draw."""
    add_cases(session_factory, services, "it_fault", 4)
    accept_world_case(session_factory, services, world)
    as_if_changed_yesterday(session_factory)
    period = current_quarter(services)
    english = login_client(app, session_factory, services, world.on_case)
    chinese = in_chinese(login_client(app, session_factory, services, world.on_case))
    for client in (english, chinese):
        page = client.get(f"/statistics?period={period}").get_data(as_text=True)
        assert 'id="by-scope-no-chart"' in page and "chart/by_scope.svg" not in page
        assert client.get(f"/statistics/chart/by_scope.svg?period={period}").status_code == 404
        assert "chart/by_channel.svg" in page  # 5 web reports: drawn
        review = client.get(f"/statistics/review.html?period={period}").get_data(as_text=True)
        assert "No data" not in review and review.count('<img class="chart"') >= 1


def test_a_period_that_has_not_begun_gets_a_message(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    client = login_client(app, session_factory, services, world.on_case)
    for path in ("/statistics?period=2999", "/statistics/review.pdf?period=2999",
                 "/statistics?period=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96"):  # ２０２６
        page = client.get(path)
        assert page.status_code == 400, path
        assert 'id="statistics-error"' in page.text
    assert "has not begun yet" in client.get("/statistics?period=2999").text


def test_the_deadlines_are_named_as_the_instance_sets_them(
        config: Any, world: World, session_factory: Any, services: Any) -> None:
    """An organisation with 10 days to acknowledge and 2 months for the outcome reads those
    deadlines on the page and in the review report, not the defaults (7 days, 3 months)."""
    import dataclasses

    from reviewer import create_app

    add_cases(session_factory, services, "it_fault", 4)
    app = create_app(dataclasses.replace(config, acknowledge_days=10, feedback_months=2),
                     services=services)
    app.config["TESTING"] = True
    try:
        client = login_client(app, session_factory, services, world.on_case)
        period = current_quarter(services)
        page = client.get(f"/statistics?period={period}").get_data(as_text=True)
        assert "Acknowledgement (10 days)" in page and "Outcome (2 months)" in page
        assert "7 days" not in page and "3 months" not in page
        review = client.get(f"/statistics/review.html?period={period}").get_data(as_text=True)
        assert "acknowledged within 10 days and answered within 2 months" in review
        chinese = in_chinese(client).get(f"/statistics?period={period}").get_data(as_text=True)
        assert "确认收到（10 天）" in chinese and "处理结果（2 个月）" in chinese
    finally:
        app.extensions["candor.database"].engine.dispose()


def test_a_month_whose_number_is_hidden_says_so_and_shows_nothing_else(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """October 2025 has 1 case and November 10: the quarter's 11 minus November's 10 would
    give October's "<3" away, so November's number is hidden ("x") with every figure of its
    view, on the page, in the CSV and in the review report; the quarter shows them."""
    add_cases(session_factory, services, "security", 1, date(2025, 10, 6))
    add_cases(session_factory, services, "security", 10, date(2025, 11, 6))
    client = login_client(app, session_factory, services, world.admin)
    page = client.get("/statistics?period=2025-11").get_data(as_text=True)
    assert '<span id="statistics-total">x</span>' in page
    assert 'id="statistics-hidden"' in page and 'id="statistics-too-few"' not in page
    assert 'id="by-category-month"' not in page
    csv = client.get("/statistics/export.csv?period=2025-11").get_data(as_text=True)
    assert csv.rstrip().splitlines()[-1] == "cases,x"
    review = client.get("/statistics/review.html?period=2025-11").get_data(as_text=True)
    assert 'id="review-hidden"' in review
    quarter = client.get("/statistics?period=2025-Q4").get_data(as_text=True)
    assert '<span id="statistics-total">11</span>' in quarter
    assert 'id="by-category-month"' in quarter
