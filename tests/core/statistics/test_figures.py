"""core.statistics.figures: hand-checked figures on SQLite and PostgreSQL,
suppression of views that would single out a case, a constant number of queries from 100 to
100,000 cases, and no decryption anywhere."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import delete

from core.db import transaction
from core.models import (
    ActionStatus,
    CaseStatus,
    Channel,
    Finding,
    RootCause,
    Satisfaction,
    ScopeDecision,
)
from core.models import Case as CaseModel
from core.statistics.csv_export import figures_csv
from core.statistics.figures import (
    NO_CATEGORY,
    Figures,
    dashboard_figures,
    monthly_counts,
    percentile,
)
from core.statistics.periods import parse_period, recent_months
from core.statistics.suppression import HIDDEN, SMALL, TOO_FEW_P90, Cell
from tests.core.statistics.test_suppression import pinned

S = CaseStatus
TODAY = date(2027, 3, 1)
OCT, NOV, DEC = date(2026, 10, 5), date(2026, 11, 10), date(2026, 12, 15)

def test_percentile_nearest_rank() -> None:
    values = Counter({1: 2, 2: 1, 10: 1})  # 1, 1, 2, 10
    assert percentile(values, 50) == 1 and percentile(values, 90) == 10
    assert percentile(Counter({5: 10}), 90) == 5 and percentile(Counter(), 50) is None


# --- a hand-checked data set --------------------------------------------------------------

#: Kinds of case: (received, category, channel, days to acknowledge, days to feedback,
#: stage, scope decision, satisfaction). Each is inserted three times, so that every count
#: is a multiple of 3 and nothing is suppressed.
KINDS = [
    (OCT, "it_fault", Channel.WEB, 1, 30, S.CLOSED, ScopeDecision.ACCEPTED, Satisfaction.SATISFIED),
    (OCT, "it_fault", Channel.WEB, 2, 40, S.CLOSED, ScopeDecision.ACCEPTED, Satisfaction.SATISFIED),
    (OCT, "it_fault", Channel.WEB, 3, 50, S.CLOSED, ScopeDecision.ACCEPTED, Satisfaction.SATISFIED),
    (OCT, "it_fault", Channel.WEB, 4, 60, S.FOLLOW_UP, ScopeDecision.ACCEPTED,
     Satisfaction.NOT_SATISFIED),
    (OCT, "it_fault", Channel.WEB, 5, 95, S.FEEDBACK_GIVEN, ScopeDecision.ACCEPTED, None),
    (OCT, "it_fault", Channel.HOTLINE, 9, None, S.UNDER_INVESTIGATION, ScopeDecision.ACCEPTED,
     None),
    (NOV, "security", Channel.WEB, 2, None, S.REFERRED, ScopeDecision.REFERRED, None),
    (NOV, "security", Channel.WEB, 3, None, S.NOT_ADMISSIBLE, ScopeDecision.NOT_ADMISSIBLE, None),
    (NOV, "security", Channel.MAILBOX, 6, 20, S.CLOSED, ScopeDecision.ACCEPTED,
     Satisfaction.SATISFIED),
    (NOV, "it_fault", Channel.WEB, 1, None, S.DECIDED, ScopeDecision.ACCEPTED, None),
    (DEC, "misconduct", Channel.LETTER_BOX, None, None, S.RECEIVED, None, None),
    (DEC, "it_fault", Channel.WEB, 7, None, S.ACKNOWLEDGED, None, None),
    # Outside 2026-Q4:
    (date(2026, 9, 30), "it_fault", Channel.WEB, 1, None, S.ACKNOWLEDGED, None, None),
    (date(2027, 1, 1), "it_fault", Channel.WEB, 1, None, S.ACKNOWLEDGED, None, None),
]
F, R = Finding, RootCause
#: Decisions by kind: (version, finding, root cause, sanctions, recognitions).
DECISIONS = {
    0: [(1, F.NOT_SUBSTANTIATED, None, "", ""),  # amended: version 2 counts
        (2, F.SUBSTANTIATED, R.TECHNICAL_DEFECT, "warning,training", "thanks")],
    1: [(1, F.SUBSTANTIATED, R.TECHNICAL_DEFECT, "training", "")],
    2: [(1, F.PARTLY_SUBSTANTIATED, R.PROCESS_GAP, "", "thanks,reward")],
    3: [(1, F.SUBSTANTIATED, R.MANAGEMENT_GAP, "warning", "")],
    4: [(1, F.NOT_SUBSTANTIATED, None, "", "")],
    8: [(1, F.SUBSTANTIATED, R.HUMAN_ERROR, "disciplinary,warning", "")],
    9: [(1, F.UNDETERMINED, R.OTHER, "", "")],
    12: [(1, F.SUBSTANTIATED, R.HUMAN_ERROR, "", "")],  # September: outside the period
}
#: Corrective actions by kind: (due, status, done).
ACTIONS = {
    0: (date(2027, 1, 10), ActionStatus.DONE, date(2027, 1, 5)),     # on time
    1: (date(2027, 1, 10), ActionStatus.DONE, date(2027, 1, 20)),    # late
    3: (date(2027, 2, 1), ActionStatus.OPEN, None),                  # overdue
    8: (date(2027, 4, 1), ActionStatus.IN_PROGRESS, None),           # not yet due
    12: (date(2027, 1, 1), ActionStatus.OPEN, None),                 # September: outside
}


def insert_kinds(stats_db, copies: int = 3, kinds=tuple(range(len(KINDS)))) -> None:
    cases, decisions, actions = [], [], []
    for k in kinds:
        received, category, channel, ack, feedback, status, scope, satisfied = KINDS[k]
        for _ in range(copies):
            row = stats_db.case_row(received, category=category, channel=channel, status=status,
                                    acknowledged=ack, feedback=feedback, scope=scope,
                                    satisfaction=satisfied)
            cases.append(row)
            for version, finding, cause, sanctions, recognitions in DECISIONS.get(k, []):
                decisions.append(stats_db.decision_row(
                    row["id"], finding, version=version, root_cause=cause, sanctions=sanctions,
                    recognitions=recognitions))
            if k in ACTIONS:
                due, action_status, done = ACTIONS[k]
                actions.append(stats_db.action_row(row["id"], due, action_status, done))
    stats_db.insert(cases, decisions, actions)


def figures(stats_db, period: str = "2026-Q4") -> Figures:
    """The figures of a view, in a transaction that commits (the month cells it counts)."""
    with transaction(stats_db.session_factory) as s:
        return dashboard_figures(s, parse_period(period), today=TODAY)


def values(table) -> dict[str, int | None]:
    return {key: cell.value for key, cell in table.rows}


def test_figures_of_a_hand_checked_data_set(stats_db) -> None:
    insert_kinds(stats_db)
    result = figures(stats_db)
    assert result.total == Cell(36, "36") and result.today == TODAY
    d = result.details
    assert d is not None
    grid = d.by_category_month
    assert grid.column_keys == ("2026-10", "2026-11", "2026-12")
    assert grid.row_keys[:3] == ("it_fault", "security", "environment")
    assert [c.value for c in grid.cells[0]] == [18, 3, 3]
    assert grid.cell("security", "2026-11").value == 9
    assert grid.cell("misconduct", "2026-12").value == 3
    assert [c.value for c in grid.row_totals][:2] == [24, 9]
    assert [c.value for c in grid.column_totals] == [18, 12, 6] and grid.total.value == 36
    assert values(d.by_channel) == {"web": 27, "hotline": 3, "letter_box": 3, "in_person": 0,
                                    "mailbox": 3}
    assert d.by_channel.total == Cell(36, "36")
    assert values(d.by_scope) == {"accepted": 24, "referred": 3, "not_admissible": 3,
                                  "pending": 6}
    assert values(d.satisfaction) == {"satisfied": 12, "not_satisfied": 3, "no_answer": 21}
    assert d.share_satisfied == Cell(80, "80%")                       # 12 / 15
    # Latest decision versions only (kind 0 was amended to "substantiated").
    assert values(d.by_finding) == {"substantiated": 12, "partly_substantiated": 3,
                                    "not_substantiated": 3, "undetermined": 3,
                                    "no_decision": 15}
    assert values(d.by_root_cause) == {"management_gap": 3, "technical_defect": 6,
                                       "process_gap": 3, "human_error": 3, "other": 3,
                                       "unspecified": 3, "no_decision": 15}
    assert values(d.by_sanction) == {"warning": 9, "disciplinary": 3, "training": 6,
                                     "other": 0}
    assert values(d.by_recognition) == {"thanks": 6, "commendation": 0, "reward": 3}
    assert d.by_sanction.total is None
    # Acknowledgement: 10 kinds within 7 days, one after 9, one still unacknowledged.
    assert values(d.acknowledgement.table) == {"on_time": 30, "late": 3, "overdue": 3,
                                               "not_due": 0, "not_owed": 0}
    assert d.acknowledgement.share_met == Cell(83, "83%")            # 30 / (30 + 3 + 3)
    # Days 1,1,2,2,3,3,4,5,6,7,9 (x3): median rank 17 of 33 -> 3, p90 rank 30 -> 7.
    assert (d.time_to_acknowledge.median, d.time_to_acknowledge.p90) == (Cell(3, "3"),
                                                                         Cell(7, "7"))
    # Feedback: referred and not admissible owe none; two open cases past their deadline.
    assert values(d.feedback.table) == {"on_time": 15, "late": 3, "overdue": 6, "not_due": 6,
                                        "not_owed": 6}
    assert d.feedback.share_met == Cell(63, "63%")                   # 15 / 24 = 62.5
    # Days 20,30,40,50,60,95 (x3): median rank 9 of 18 -> 40, p90 rank 17 -> 95.
    assert (d.time_to_feedback.median.value, d.time_to_feedback.p90.value) == (40, 95)
    assert values(d.actions) == {"done_on_time": 3, "done_late": 3, "open_overdue": 3,
                                 "open_not_due": 3}
    assert d.actions.total == Cell(12, "12")
    assert d.actions_share_on_time == Cell(33, "33%")                # 3 / 9


def test_the_day_before_the_quarter_is_in_the_month_before(stats_db) -> None:
    insert_kinds(stats_db)
    assert figures(stats_db, "2026-09").total.value == 3


# --- suppression of real views ------------------------------------------------------------

@pytest.mark.parametrize("period", ["2026-09", "2026-Q3", "2027-01", "2027-Q1", "2027"])
def test_a_view_of_one_or_two_cases_shows_only_its_total(stats_db, period) -> None:
    insert_kinds(stats_db, copies=1)  # one case on 2026-09-30, one on 2027-01-01
    result = figures(stats_db, period)
    assert result.total == Cell(None, SMALL) and result.details is None


def test_an_empty_view(stats_db) -> None:
    insert_kinds(stats_db, copies=1)
    result = figures(stats_db, "2025")
    assert result.total == Cell(0, "0") and result.details is None


def test_no_block_gives_a_small_count_away(stats_db) -> None:
    # The 12 kinds of Q4 once each, and one case in September: most counts are 1 or 2.
    insert_kinds(stats_db, copies=1)
    # The quarter's 12 beside the year's 13 would give September's 1 away: the quarter's
    # number is hidden, and with it every other figure of its view.
    quarter = figures(stats_db)
    assert quarter.total == Cell(None, HIDDEN) and quarter.details is None
    assert figures(stats_db, "2026-Q3").total.shown == SMALL
    year = figures(stats_db, "2026")
    d = year.details
    assert year.total == Cell(13, "13") and d is not None
    tables = [d.by_channel, d.by_scope, d.by_finding, d.by_root_cause, d.satisfaction,
              d.acknowledgement.table, d.feedback.table]
    for table in tables:
        cells = [cell for _key, cell in table.rows]
        assert table.total == Cell(13, "13")
        assert pinned(cells, table.total, 13) == [], table
        for _key, cell in table.rows:
            assert cell.suppressed or cell.value == 0 or cell.value >= 3
    # By channel: web 10, hotline 1, letter box 1, mailbox 1: three "<3" beside a shown 10
    # would each be 1, so the 10 is hidden too.
    assert d.by_channel["web"].shown == HIDDEN
    assert d.share_satisfied.suppressed and d.acknowledgement.share_met.suppressed
    grid = d.by_category_month
    for row, line_total in zip(grid.cells, grid.row_totals, strict=True):
        assert pinned(list(row), line_total, 13) == []


def test_subtraction_attack_on_a_view(stats_db) -> None:
    # 1 web report beside 5 hotline and 6 mailbox reports: "<3" = 12 - 5 - 6 unless the
    # next smallest cell is hidden too.
    rows = [stats_db.case_row(NOV, channel=Channel.WEB)]
    rows += [stats_db.case_row(NOV, channel=Channel.HOTLINE) for _ in range(5)]
    rows += [stats_db.case_row(NOV, channel=Channel.MAILBOX) for _ in range(6)]
    stats_db.insert(rows)
    d = figures(stats_db).details
    assert d is not None
    assert {k: c.shown for k, c in d.by_channel.rows} == {
        "web": SMALL, "hotline": HIDDEN, "letter_box": "0", "in_person": "0", "mailbox": "6"}
    # The grid: it_fault's November is the whole view, so the single cells are safe.
    assert d.by_category_month.cell("it_fault", "2026-11") == Cell(12, "12")


# --- the CSV export -----------------------------------------------------------------------

def csv_blocks(text: str) -> dict[str, list[list[str]]]:
    """{title: rows after the title} of an exported CSV."""
    blocks: dict[str, list[list[str]]] = {}
    for chunk in text.split("\r\n\r\n"):
        rows = list(csv.reader(io.StringIO(chunk)))
        blocks[rows[0][0]] = rows[1:]
    return blocks


def test_csv_of_the_hand_checked_data_set(stats_db) -> None:
    insert_kinds(stats_db)
    # A category's code may be any word, a channel's too: each table is named from its own.
    blocks = csv_blocks(figures_csv(figures(stats_db), {"web": "Web form"},
                                    category_labels={"it_fault": "IT faults", "web": "Sites"}))
    assert blocks["candor dashboard"] == [["period", "2026-Q4"], ["cases", "36"]]
    grid = blocks["cases by category and month"]
    assert grid[0] == ["category", "2026-10", "2026-11", "2026-12", "total"]
    assert grid[1] == ["IT faults", "18", "3", "3", "24"]
    assert grid[-1] == ["total", "18", "12", "6", "36"]
    assert blocks["cases by channel"][1:3] == [["Web form", "27"], ["hotline", "3"]]
    assert blocks["acknowledgement deadline"][-3:] == [
        ["share_met", "83%"], ["median_days", "3"], ["p90_days", "7"]]
    assert blocks["corrective actions"][0] == ["outcome", "actions"]
    assert ["share_on_time", "33%"] in blocks["corrective actions"]
    assert ["share_satisfied", "80%"] in blocks["reporters' satisfaction"]


def test_csv_titles_and_headings_come_in_the_callers_language(stats_db) -> None:
    """Every fixed word of the CSV is one of CSV_WORDS and is written as the caller gives
    it: with each replaced, none of the English words is left; the figures are the same."""
    from core.statistics.csv_export import CSV_WORDS

    insert_kinds(stats_db)
    english = figures_csv(figures(stats_db))
    marked = figures_csv(figures(stats_db), words={w: f"<{w}>" for w in CSV_WORDS})
    fields = [field for row in csv.reader(io.StringIO(marked)) for field in row]
    assert not set(CSV_WORDS) & set(fields)
    assert {f"<{w}>" for w in CSV_WORDS} <= set(fields)  # and each is used
    numbers = [f for row in csv.reader(io.StringIO(english)) for f in row if f[:1].isdigit()]
    assert numbers == [f for f in fields if f[:1].isdigit()]


def test_csv_keeps_every_small_count_hidden(stats_db) -> None:
    insert_kinds(stats_db, copies=1)
    assert figures_csv(figures(stats_db)).splitlines()[-1] == "cases,x"  # the quarter: hidden
    blocks = csv_blocks(figures_csv(figures(stats_db, "2026")))
    assert len(blocks) == 12
    statistics = ("share_met", "median_days", "p90_days", "share_on_time", "share_satisfied")
    for title, rows in blocks.items():
        for row in rows[1:]:
            if row[0] not in statistics and title != "candor dashboard":
                assert not {"1", "2"} & set(row[1:]), (title, row)
    assert "<3" in blocks["cases by channel"][2] and "x" in {r[1] for r in blocks[
        "cases by channel"]}


# --- monthly series -----------------------------------------------------------------------

def test_monthly_counts(stats_db) -> None:
    insert_kinds(stats_db, copies=1)
    months = recent_months(date(2027, 1, 20), 5)  # 2026-09 .. 2027-01
    with stats_db.session_factory() as s:
        by_category = monthly_counts(s, months)
        by_cause = monthly_counts(s, months, key="root_cause")
    assert by_category["it_fault"] == [1, 6, 1, 1, 1]
    assert by_category["security"] == [0, 0, 3, 0, 0]
    assert by_category["misconduct"] == [0, 0, 0, 1, 0]
    assert by_category["environment"] == [0] * 5 and NO_CATEGORY not in by_category
    assert by_cause["technical_defect"] == [0, 2, 0, 0, 0]
    assert by_cause["human_error"] == [1, 0, 1, 0, 0]
    assert by_cause["other"] == [0, 0, 1, 0, 0]
    assert by_cause["process_gap"] == [0, 1, 0, 0, 0]
    with pytest.raises(ValueError):
        monthly_counts(s, [parse_period("2026-Q4")])


def test_cases_without_a_category(stats_db) -> None:
    stats_db.insert([stats_db.case_row(NOV, category=None) for _ in range(4)])
    d = figures(stats_db).details
    assert d is not None and d.by_category_month.row_keys[-1] == NO_CATEGORY
    assert d.by_category_month.cell(NO_CATEGORY, "2026-11").value == 4
    with stats_db.session_factory() as s:
        assert monthly_counts(s, [parse_period("2026-11")])[NO_CATEGORY] == [4]


def test_times_to_a_deadline_tell_no_hidden_late_count(stats_db) -> None:
    """Second reader: with 10 cases acknowledged on time (shown) and one late ("<3"), the 90th
    percentile was 2 days, and 9 with two late: it told the hidden count. Both times now
    show "x" when the on-time or late count is hidden."""
    shown = {}
    for late in (1, 2):
        stats_db.insert([stats_db.case_row(NOV, acknowledged=2) for _ in range(10)]
                        + [stats_db.case_row(NOV, acknowledged=9) for _ in range(late)])
        d = figures(stats_db).details
        assert d is not None and d.acknowledgement.table["late"].shown == SMALL
        shown[late] = (d.time_to_acknowledge.median.shown, d.time_to_acknowledge.p90.shown)
        with transaction(stats_db.session_factory) as s:
            s.execute(delete(CaseModel))
    assert shown == {1: (HIDDEN, HIDDEN), 2: (HIDDEN, HIDDEN)}


def test_a_90th_percentile_needs_ten_cases(stats_db) -> None:
    """Below 10 cases the nearest-rank 90th percentile is the slowest case's own figure."""
    days = [1, 1, 2, 2, 3, 3, 4, 5, 6]  # all within the 7 days: no hidden late count
    stats_db.insert([stats_db.case_row(NOV, acknowledged=d) for d in days])
    d = figures(stats_db).details
    assert d is not None
    assert d.time_to_acknowledge.median == Cell(3, "3")
    assert d.time_to_acknowledge.p90 == Cell(None, TOO_FEW_P90) and TOO_FEW_P90 == "n<10"
    stats_db.insert([stats_db.case_row(NOV, acknowledged=7)])
    d = figures(stats_db).details
    assert d is not None and d.time_to_acknowledge.p90 == Cell(6, "6")
