"""Dashboard figures (core.statistics.figures.dashboard_figures) at 1k vs 100k cases.

    python benches/dashboard.py                        # SQLite and PostgreSQL
    python benches/dashboard.py --no-postgres          # SQLite only
    python benches/dashboard.py --sizes 1000 10000     # other sizes
    python benches/dashboard.py --repeats 10           # fewer calls per view

PostgreSQL runs at --postgres ADMIN_URL (default postgresql+psycopg://postgres@127.0.0.1/
postgres): a fresh database per size is created there and dropped at the end.

What is measured: one call of dashboard_figures (its queries, the grouping in Python and the
suppression of the seventeen views of the view's year together: core.statistics.year_views,
whose cache of suppressed years is cleared before each call, so that the whole work is
measured) in a fresh transaction, for several views of the last full year, and
monthly_counts over the twelve months of that year. The figures come from the month cells
(core.statistics.month_cells): the warm-up calls count them once, later calls read them. One
view is measured after its last month was marked stale by a change of the day before, as a
change to one of its cases would: that call recounts the month from its cases and stores its
cells. "first change of a day" is what a writer pays once per day and month for the figures
to stand as of the start of the day: the same recount, before its change is written
(core.statistics.recount.hold_for_change); later changes of the day pay one read. Calls are
interleaved across sizes and backends (view A at 1k, at 100k, view B ...) so that drift of
the machine affects all alike; median and 90th percentile over --repeats calls after three
warm-up calls, the SQL statements each call ran (a before_cursor_execute listener; SQLite's
BEGIN not counted) and the ratio of the largest size to the smallest. Nothing is asserted.

The data: cases received uniformly over the three years 2024-2026 (the same span at every
size: a larger size is a busier organisation), so the year 2026 holds a third of them; "today"
is 2027-01-15. Categories uniform over the default ones, channels web 70 %, mailbox 10 %,
hotline 10 %, letter box 5 %, in person 5 %. Acknowledged after 0-10 days (2 % never: still
received); 85 % accepted, 5 % referred, 5 % not admissible, 5 % pending; of the accepted,
feedback after 20-120 days for 80 %, a decision for 70 % (one in ten amended: two
versions), corrective actions for 20 % (done on time, late or open), a satisfaction answer
for 40 % of those with feedback. Rows are bulk-inserted (dummy bytes as ciphertext: the
dashboard never decrypts).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benches._databases import scratch_postgres  # noqa: E402
from core.categories.lookup import seed_default_categories  # noqa: E402
from core.db import create_schema, make_engine, make_session_factory, transaction  # noqa: E402
from core.models import (  # noqa: E402
    ActionStatus,
    Case,
    CasePriority,
    CaseStatus,
    Category,
    Channel,
    CorrectiveAction,
    Decision,
    Disclosure,
    Finding,
    Reviewer,
    Role,
    RootCause,
    Satisfaction,
    ScopeDecision,
    StatisticsMonth,
)
from core.statistics.figures import dashboard_figures, monthly_counts  # noqa: E402
from core.statistics.periods import months_in, parse_period  # noqa: E402
from core.statistics.recount import hold_for_change  # noqa: E402
from core.statistics.year_views import clear_cache  # noqa: E402

#: The view measured after a case of its last month changed (that month is recounted).
CHANGED = "year 2026, December changed"
#: A writer's extra cost: the first change of a day to a month whose cells miss an earlier
#: day's change counts the month before it is written (core.statistics.recount).
FIRST_CHANGE = "first change of a day"
DECEMBER = date(2026, 12, 1)

TODAY = date(2027, 1, 15)
START, SPAN_DAYS = date(2024, 1, 1), 3 * 365
BATCH = 10_000
DUMMY = b"\x00" * 32
CHANNELS = [(Channel.WEB, 70), (Channel.MAILBOX, 10), (Channel.HOTLINE, 10),
            (Channel.LETTER_BOX, 5), (Channel.IN_PERSON, 5)]
#: (label, period); the first is the headline. Every view computes its whole year's views
#: together (core.statistics.year_views), so a month costs about what the year does.
VIEWS: list[tuple[str, str]] = [
    ("year 2026, all cases", "2026"),
    ("2026-Q4", "2026-Q4"),
    ("2026-11", "2026-11"),
]


def case_rows(rng: random.Random, n: int, first: int, category_ids: list[int],
              reviewer_id: int) -> tuple[list[dict[str, Any]], ...]:
    """`n` cases with their decisions and corrective actions (see the docstring)."""
    cases, decisions, actions = [], [], []
    channels, weights = zip(*CHANNELS, strict=True)
    for i in range(first, first + n):
        received = START + timedelta(days=rng.randrange(SPAN_DAYS))
        case_id = (1 << 62) | i
        ack = None if rng.random() < 0.02 else received + timedelta(days=rng.randrange(11))
        draw = rng.random()
        scope = (None if ack is None or draw < 0.05 else ScopeDecision.REFERRED if draw < 0.10
                 else ScopeDecision.NOT_ADMISSIBLE if draw < 0.15 else ScopeDecision.ACCEPTED)
        feedback = (received + timedelta(days=rng.randrange(20, 121))
                    if scope is ScopeDecision.ACCEPTED and rng.random() < 0.8 else None)
        if feedback is not None and feedback > TODAY:
            feedback = None
        status = (CaseStatus.RECEIVED if ack is None else CaseStatus.ACKNOWLEDGED
                  if scope is None else CaseStatus.REFERRED if scope is ScopeDecision.REFERRED
                  else CaseStatus.NOT_ADMISSIBLE if scope is ScopeDecision.NOT_ADMISSIBLE
                  else CaseStatus.CLOSED if feedback is not None
                  else CaseStatus.UNDER_INVESTIGATION)
        cases.append({
            "id": case_id, "reference": f"D-{i:09d}", "lookup_id": i.to_bytes(32, "big"),
            "status": status, "category_id": rng.choice(category_ids),
            "channel": rng.choices(channels, weights)[0], "disclosure": Disclosure.ANONYMOUS,
            "received_on": received, "acknowledge_due": received + timedelta(days=7),
            "acknowledged_on": ack, "feedback_due": received + timedelta(days=97),
            "feedback_given_on": feedback, "scope_decision": scope,
            "satisfaction": (rng.choice(list(Satisfaction))
                             if feedback is not None and rng.random() < 0.4 else None),
            "report_ciphertext": DUMMY, "priority": CasePriority.NORMAL,
            "review_requested": False, "key_epoch": 1})
        if scope is not ScopeDecision.ACCEPTED:
            continue
        if rng.random() < 0.7:
            for version in range(1, 3 if rng.random() < 0.1 else 2):
                decisions.append({
                    "id": (1 << 62) | (i * 4 + version), "case_id": case_id,
                    "reviewer_id": reviewer_id, "created_on": received, "key_epoch": 1,
                    "ciphertext": DUMMY, "version": version,
                    "finding": rng.choice(list(Finding)),
                    "root_cause": rng.choice([*RootCause, None]),
                    "sanction_types": rng.choice(["", "warning", "warning,training"]),
                    "recognition_types": rng.choice(["", "", "thanks"])})
        if rng.random() < 0.2:
            due = received + timedelta(days=rng.randrange(30, 150))
            done = rng.random() < 0.6 and due - timedelta(days=20) < TODAY
            actions.append({
                "id": (1 << 62) | (i * 4 + 3), "case_id": case_id, "reviewer_id": reviewer_id,
                "created_on": received, "key_epoch": 1, "ciphertext": DUMMY, "position": 1,
                "owner_id": reviewer_id, "due_on": due,
                "status": ActionStatus.DONE if done else ActionStatus.OPEN,
                "done_on": due + timedelta(days=rng.randrange(-20, 15)) if done else None})
    return cases, decisions, actions


@dataclass
class Setup:
    backend: str
    n_cases: int
    call: Callable[[str, str], int]
    timings: dict[str, list[float]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)


def build(url: str, backend: str, n_cases: int) -> tuple[Setup, Callable[[], None]]:
    engine = make_engine(url)
    create_schema(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        seed_default_categories(s)
        s.execute(insert(Reviewer).values(username="bench", role=Role.REVIEWER,
                                          passphrase_hash="-", created_at=datetime.now(UTC)))
        reviewer_id = s.execute(select(Reviewer.id)).scalar_one()
        category_ids = list(s.execute(select(Category.id).order_by(Category.id)).scalars())
    rng = random.Random(4711)
    started = time.perf_counter()
    for first in range(0, n_cases, BATCH):
        tables = case_rows(rng, min(BATCH, n_cases - first), first, category_ids, reviewer_id)
        with engine.begin() as conn:
            for model, rows in zip((Case, Decision, CorrectiveAction), tables, strict=True):
                if rows:
                    conn.execute(insert(model.__table__), rows)
    print(f"  {backend} {n_cases:>7} cases inserted in {time.perf_counter() - started:.1f} s")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    months = months_in(parse_period("2026"))

    def call(label: str, period: str) -> int:
        if label in (CHANGED, FIRST_CHANGE):  # a case of December changed yesterday
            with transaction(factory) as session:
                session.execute(update(StatisticsMonth)
                                .where(StatisticsMonth.month == DECEMBER)
                                .values(stale=True, changed_on=TODAY - timedelta(days=1)))
        if label == FIRST_CHANGE:
            statements.clear()
            with transaction(factory) as session:
                hold_for_change(session, {DECEMBER}, TODAY)
            return len(statements)
        statements.clear()
        clear_cache()  # the whole work: a page's later calls for the same data reuse it
        with transaction(factory) as session:  # commits the cells a stale month recounts
            if label == "monthly_counts":
                monthly_counts(session, months, today=TODAY)
            else:
                dashboard_figures(session, parse_period(period), today=TODAY)
        return len(statements)

    return Setup(backend, n_cases, call), engine.dispose


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", metavar="ADMIN_URL",
                        default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--repeats", type=int, default=20, help="calls per view and size")
    args = parser.parse_args()
    backends = ["sqlite"] if args.no_postgres else ["sqlite", "postgresql"]
    views = [*VIEWS, (CHANGED, "2026"), (FIRST_CHANGE, "2026"),
             ("monthly_counts", "2026")]  # 12 months by category
    print(f"dashboard bench: backends {backends}, sizes {args.sizes}, {args.repeats} "
          f"interleaved calls per view; cases over 2024-2026, views of 2026, today {TODAY}")
    with ExitStack() as stack:
        setups: list[Setup] = []
        for backend in backends:
            for n in args.sizes:
                if backend == "sqlite":
                    folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                    url = f"sqlite:///{folder / 'bench.sqlite3'}"
                else:
                    url = scratch_postgres(stack, args.postgres, f"dashboard_{n}")
                setup, dispose = build(url, backend, n)
                stack.callback(dispose)
                setups.append(setup)
        for setup in setups:
            for view in views:
                for _ in range(3):
                    setup.call(*view)
        for _ in range(args.repeats):
            for label, period in views:
                for setup in setups:
                    started = time.perf_counter()
                    queries = setup.call(label, period)
                    setup.timings.setdefault(label, []).append(time.perf_counter() - started)
                    setup.queries[label] = queries
        print()
        print(f"{'view':<28}{'backend':>11}{'cases':>8} {'median ms':>10} {'p90 ms':>8} "
              f"{'queries':>8}")
        headline: list[str] = []
        for label, _period in views:
            for backend in backends:
                runs = [s for s in setups if s.backend == backend]
                for s in runs:
                    t = s.timings[label]
                    print(f"{label:<28}{backend:>11}{s.n_cases:>8} "
                          f"{statistics.median(t) * 1000:>10.1f} {p90(t) * 1000:>8.1f} "
                          f"{s.queries[label]:>8}")
                if len(runs) >= 2:
                    ratio = (statistics.median(runs[-1].timings[label])
                             / statistics.median(runs[0].timings[label]))
                    same = len({s.queries[label] for s in runs}) == 1
                    print(f"{'':<28}{'ratio':>19} {ratio:>10.2f}x {'':>8} "
                          f"{'same' if same else 'DIFFER':>8}")
                    if label == views[0][0]:
                        headline.append(f"{backend} {ratio:.2f}x")
        if headline:
            print()
            print(f"headline ({views[0][0]}), {args.sizes[-1]} vs {args.sizes[0]} cases: "
                  + ", ".join(headline))


if __name__ == "__main__":
    main()
