"""Inbox page time and SQL queries per page at 1k vs 100k cases.

    python benches/inbox.py                        # SQLite in a temporary folder
    python benches/inbox.py --postgres ADMIN_URL   # e.g. postgresql+psycopg://postgres@127.0.0.1/postgres
    python benches/inbox.py --sizes 1000 10000     # other sizes
    python benches/inbox.py --share 50             # the reviewer sees 1 case in 50

With --postgres, a fresh database is created per size on that server (and dropped at the end).

What is measured: the real path. Each page is fetched through the Flask test client of the
reviewer console with a logged-in reviewer's session cookie (session check, inbox queries,
template rendering). The databases of all sizes are built first, then the fetches are
interleaved (size A, size B, size A, ...) so that drift of the machine affects all sizes alike.
The page shows a one-line summary per row, decrypted for that page only (core.cases.summaries):
the measured reviewer's cases carry real report ciphertexts and grants sealed to their key, so
every fetch opens up to 50 grants and reports and writes one audit event, as in production.
Reported per page and size: median and 90th percentile over --repeats fetches, and the number
of SQL statements the request executed (counted with a `before_cursor_execute` listener on the
console's engine). The headline ratio is the default page (newest first, page 3).

The data: an archive that accumulated over ~3 years (the same span at every size, so a larger
size means a busier organisation). Rows are bulk-inserted (random bytes as ciphertext: the
inbox never decrypts; memberships with their inbox keys, the copies of their case's columns)
and then the inbox counters are rebuilt with core.cases.inbox_counts.rebuild_inbox_counts, the same
function that repairs them (and the inbox keys) in production; the app itself maintains them
incrementally. Distribution, with age = today - received_on:

* received_on uniform over the last 1095 days; acknowledge_due = received + 7 days,
  feedback_due = received + 97 days (acknowledgement + 3 months); categories uniform over the
  default categories;
* stage by age (percent):
  < 7 days: received 80, acknowledged 20;
  7-30 days: acknowledged 40, under investigation 30, info needed 13, not admissible 10,
  referred 5, still received (late acknowledgement, overdue) 2;
  30-85 days: under investigation 40, decided 15, feedback given 15, info needed 12, closed 5,
  not admissible 5, referred 5, follow-up 3;
  85-120 days (feedback due at 97): feedback given 45, closed 20, follow-up 10, under
  investigation 8, not admissible 5, referred 5, decided 4, info needed 3 (15 % still owe
  feedback: due soon or overdue);
  120-365 days: closed 68, not admissible 10, referred 10, feedback given 10, stragglers still
  under investigation 1.5 (overdue), follow-up 0.5;
  > 1 year: closed 79.7, not admissible 10, referred 10, under investigation 0.3 (overdue);
* priority: urgent 3 %, high 12 %, normal 75 %, low 10 %; 3 % of the cases past the outcome
  have a reporter who is not satisfied; 30 % of those with the outcome sent or in follow-up
  have corrective actions, due within -30..+60 days of today;
* teams: case i is routed to reviewer i mod --share (the measured reviewer is one of the
  --share reviewers, default 10); that membership is INTAKE, or LEAD for 30 % of the cases past
  "received" ("Assigned to me"); in 1 % of the other reviewers' cases the measured reviewer is
  an excluded member (conflict of interest), which must hide the case.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benches._console import (  # noqa: E402
    PASSPHRASE,
    add_bench_reviewer,
    console_client,
    new_instance,
    private_key_of,
)
from benches._databases import scratch_postgres  # noqa: E402
from core.cases.content import ReportContent  # noqa: E402
from core.cases.contexts import report_context  # noqa: E402
from core.cases.inbox_counts import rebuild_inbox_counts  # noqa: E402
from core.categories.lookup import seed_default_categories  # noqa: E402
from core.db import transaction  # noqa: E402
from core.models import (  # noqa: E402
    Case,
    CaseGrant,
    CaseMember,
    CasePriority,
    CaseStatus,
    Category,
    Channel,
    Disclosure,
    InboxCount,
    KeyKind,
    MemberRole,
    Recipient,
    Role,
)
from core.services import Services  # noqa: E402
from core.staff.accounts import add_reviewer  # noqa: E402
from crypto.keys import new_key, seal_to  # noqa: E402
from crypto.records import encrypt_record  # noqa: E402

BATCH = 10_000
SPAN_DAYS = 3 * 365

S = CaseStatus
#: (maximum age in days, [(stage, weight)]) - see the module docstring.
STAGES_BY_AGE: list[tuple[int, list[tuple[CaseStatus, float]]]] = [
    (7, [(S.RECEIVED, 80), (S.ACKNOWLEDGED, 20)]),
    (30, [(S.ACKNOWLEDGED, 40), (S.UNDER_INVESTIGATION, 30), (S.INFO_NEEDED, 13),
          (S.NOT_ADMISSIBLE, 10), (S.REFERRED, 5), (S.RECEIVED, 2)]),
    (85, [(S.UNDER_INVESTIGATION, 40), (S.DECIDED, 15), (S.FEEDBACK_GIVEN, 15),
          (S.INFO_NEEDED, 12), (S.CLOSED, 5), (S.NOT_ADMISSIBLE, 5), (S.REFERRED, 5),
          (S.FOLLOW_UP, 3)]),
    (120, [(S.FEEDBACK_GIVEN, 45), (S.CLOSED, 20), (S.FOLLOW_UP, 10), (S.UNDER_INVESTIGATION, 8),
           (S.NOT_ADMISSIBLE, 5), (S.REFERRED, 5), (S.DECIDED, 4), (S.INFO_NEEDED, 3)]),
    (365, [(S.CLOSED, 68), (S.NOT_ADMISSIBLE, 10), (S.REFERRED, 10), (S.FEEDBACK_GIVEN, 10),
           (S.UNDER_INVESTIGATION, 1.5), (S.FOLLOW_UP, 0.5)]),
    (SPAN_DAYS + 1, [(S.CLOSED, 79.7), (S.NOT_ADMISSIBLE, 10), (S.REFERRED, 10),
                     (S.UNDER_INVESTIGATION, 0.3)]),
]
LEAD_SHARE = 0.30
EXCLUDED_SHARE = 0.01
PRIORITIES = [(CasePriority.URGENT, 3), (CasePriority.HIGH, 12), (CasePriority.NORMAL, 75),
              (CasePriority.LOW, 10)]
AFTER_OUTCOME = (S.FEEDBACK_GIVEN, S.FOLLOW_UP, S.CLOSED)

#: Pages fetched: (label, path); the first is the headline.
#: The headline has 50 rows at every size (at 1k the reviewer is on ~100 cases), so that both
#: sizes decrypt as many summaries; the rows column says how many each page showed.
PAGES = [
    ("default (newest, page 2)", "/cases?page=2"),
    ("default (newest, page 1)", "/cases"),
    ("overdue", "/cases?due=overdue"),
    ("due soon, oldest first", "/cases?due=soon&sort=oldest"),
    ("assigned to me", "/cases?mine=1"),
    ("under investigation by feedback due", "/cases?status=under_investigation&sort=feedback_due"),
    ("one category", "/cases?category={category}"),
    ("urgent first (priority sort)", "/cases?sort=priority"),
    ("cases I lead", "/cases?lead=1"),
    ("corrective actions due", "/cases?actions=1"),
]


def stage_for(age: int, rng: random.Random) -> CaseStatus:
    for max_age, weights in STAGES_BY_AGE:
        if age < max_age:
            stages, w = zip(*weights, strict=True)
            return rng.choices(stages, weights=w)[0]
    raise AssertionError(age)


def populate(factory: Any, services: Services, n_cases: int,
             share: int) -> tuple[int, bytes, int]:
    with transaction(factory) as s:
        seed_default_categories(s)
        bench = add_bench_reviewer(s, services)
        reviewer_id = bench.id
        others = [add_reviewer(s, services, username=f"other{i}", role=Role.REVIEWER,
                               passphrase=PASSPHRASE).reviewer.id for i in range(share - 1)]
        private_key = private_key_of(bench)
        public_key = bench.public_key
        assert public_key is not None
        category_ids = list(s.execute(select(Category.id).order_by(Category.id)).scalars())
    team = [reviewer_id, *others]
    rng = random.Random(4711)
    today = date.today()
    done = 0
    while done < n_cases:
        size = min(BATCH, n_cases - done)
        cases, members, grants = [], [], []
        for i in range(done + 1, done + size + 1):
            age = rng.randrange(0, SPAN_DAYS)
            received = today - timedelta(days=age)
            status = stage_for(age, rng)
            # Random 63-bit ids, as core.models.base.random_row_id gives (from the seeded rng).
            case_id = (1 << 62) | rng.getrandbits(62)
            cases.append({
                "id": case_id, "reference": f"B-{i:08d}", "lookup_id": os.urandom(32),
                "status": status, "category_id": rng.choice(category_ids),
                "channel": Channel.WEB, "disclosure": Disclosure.ANONYMOUS,
                "received_on": received, "acknowledge_due": received + timedelta(days=7),
                "feedback_due": received + timedelta(days=97),
                "submitter_active_on": (received + timedelta(days=rng.randrange(0, 60))
                                        if rng.random() < 0.3 else None),
                "report_ciphertext": os.urandom(64), "identity_ciphertext": None,
                "priority": rng.choices(*zip(*PRIORITIES, strict=True))[0],
                "review_requested": status in AFTER_OUTCOME and rng.random() < 0.03,
                "actions_due": (today + timedelta(days=rng.randrange(-30, 60))
                                if status in (S.FEEDBACK_GIVEN, S.FOLLOW_UP)
                                and rng.random() < 0.3 else None),
            })
            # The memberships' inbox keys (copies of the case's columns, CaseMember).
            keys = {k: cases[-1][k] for k in ("status", "category_id", "received_on",
                                               "acknowledge_due", "feedback_due", "priority",
                                               "review_requested", "actions_due")}
            owner = team[i % share]
            if owner == reviewer_id:
                # A real report and grant: the page decrypts its summary.
                case_key = new_key()
                cases[-1]["report_ciphertext"] = encrypt_record(
                    case_key, ReportContent(summary=f"Bench report {i}").to_bytes(),
                    report_context(cases[-1]["reference"]))
                grants.append({"id": (1 << 62) | rng.getrandbits(62), "case_id": case_id,
                               "epoch": 1, "key_kind": KeyKind.CASE,
                               "recipient": Recipient.REVIEWER, "reviewer_id": reviewer_id,
                               "sealed_key": seal_to(public_key, case_key)})
            lead = status is not S.RECEIVED and rng.random() < LEAD_SHARE
            members.append({"case_id": case_id, "reviewer_id": owner,
                            "role": MemberRole.LEAD if lead else MemberRole.INTAKE,
                            "excluded": False, **keys})
            if owner != reviewer_id and rng.random() < EXCLUDED_SHARE:
                members.append({"case_id": case_id, "reviewer_id": reviewer_id,
                                "role": MemberRole.INVESTIGATOR, "excluded": True, **keys})
        with transaction(factory) as s:
            s.execute(insert(Case), cases)
            s.execute(insert(CaseMember), members)
            if grants:
                s.execute(insert(CaseGrant), grants)
        done += size
    with transaction(factory) as s:
        counter_rows = rebuild_inbox_counts(s)
    engine = factory.kw["bind"]
    if engine.dialect.name == "postgresql":  # autovacuum would; SQLite stays without statistics
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return reviewer_id, private_key, counter_rows


@dataclass
class Setup:
    """One populated database with a logged-in console client."""

    n_cases: int
    fetch: Callable[[str], tuple[int, int]]
    visible: int
    assigned: int
    counter_rows: int
    category_id: int
    timings: dict[str, list[float]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def build(stack: ExitStack, database_url: str, data_dir: Path, n_cases: int,
          share: int) -> Setup:
    services, factory = new_instance(stack, database_url, data_dir)
    started = time.perf_counter()
    reviewer_id, private_key, counter_rows = populate(factory, services, n_cases, share)
    print(f"  {n_cases} cases loaded in {time.perf_counter() - started:.1f} s", flush=True)
    client, statements = console_client(stack, services, factory, reviewer_id, private_key)

    def fetch(path: str) -> tuple[int, int]:
        """(SQL statements, rows shown) of one fetch."""
        statements.clear()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(statements), response.get_data(as_text=True).count('class="case-link"')

    with factory() as s:
        visible = s.execute(select(func.count()).select_from(CaseMember).where(
            CaseMember.reviewer_id == reviewer_id, CaseMember.excluded.is_(False))).scalar_one()
        assigned = s.execute(select(func.count()).select_from(CaseMember).where(
            CaseMember.reviewer_id == reviewer_id, CaseMember.excluded.is_(False),
            CaseMember.role != MemberRole.INTAKE)).scalar_one()
        category_id = s.execute(select(func.min(Category.id))).scalar_one()
        assert s.execute(select(func.count()).select_from(InboxCount)).scalar_one() \
            == counter_rows
    return Setup(n_cases, fetch, int(visible), int(assigned), counter_rows, int(category_id))


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="PostgreSQL server URL; a "
                        "fresh database per size is created (and dropped) there")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--share", type=int, default=10,
                        help="the reviewer is on 1 case in SHARE (default 10)")
    parser.add_argument("--repeats", type=int, default=30, help="fetches per page and size")
    args = parser.parse_args()
    backend = "postgresql" if args.postgres else "sqlite"
    print(f"inbox bench: backend {backend}, sizes {args.sizes}, reviewer on 1 case in "
          f"{args.share}, {args.repeats} interleaved fetches per page and size")
    print("data: received_on uniform over 3 years; stage by age (< 7 d mostly received, "
          "7-85 d open stages, 85-120 d mostly feedback given, older 98-99.7 % finished, the "
          "rest overdue stragglers; see the docstring); "
          f"{LEAD_SHARE:.0%} of progressed cases LEAD, {EXCLUDED_SHARE:.0%} excluded members")
    with ExitStack() as stack:
        setups = []
        for n in args.sizes:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            if args.postgres:
                url = scratch_postgres(stack, args.postgres, str(n))
            else:
                url = f"sqlite:///{folder / 'bench.sqlite3'}"
            setups.append(build(stack, url, folder, n, args.share))
        pages = [(label, path.format(category=setups[0].category_id)) for label, path in PAGES]
        for setup in setups:
            for _label, path in pages:
                for _ in range(3):  # warm up
                    setup.fetch(path)
        for _ in range(args.repeats):
            for setup in setups:
                for label, path in pages:
                    start = time.perf_counter()
                    queries, rows = setup.fetch(path)
                    setup.timings.setdefault(label, []).append(time.perf_counter() - start)
                    setup.queries[label] = queries
                    setup.rows[label] = rows
        print()
        print(f"{'cases':>8} {'visible':>8} {'assigned':>8} {'counter rows':>12}")
        for s in setups:
            print(f"{s.n_cases:>8} {s.visible:>8} {s.assigned:>8} {s.counter_rows:>12}")
        print()
        print(f"{'page':<38}{'cases':>8} {'median ms':>10} {'p90 ms':>8} {'queries':>8} "
              f"{'rows':>5}")
        for label, _path in pages:
            for s in setups:
                t = s.timings[label]
                print(f"{label:<38}{s.n_cases:>8} {statistics.median(t) * 1000:>10.1f} "
                      f"{p90(t) * 1000:>8.1f} {s.queries[label]:>8} {s.rows[label]:>5}")
            if len(setups) >= 2:
                ratio = (statistics.median(setups[-1].timings[label])
                         / statistics.median(setups[0].timings[label]))
                print(f"{'':<38}{'ratio':>8} {ratio:>10.2f}x")
        if len(setups) >= 2:
            headline = pages[0][0]
            ratio = (statistics.median(setups[-1].timings[headline])
                     / statistics.median(setups[0].timings[headline]))
            same = len({s.queries[headline] for s in setups}) == 1
            all_same = all(len({s.queries[label] for s in setups}) == 1 for label, _ in pages)
            print()
            print(f"headline ({headline}): {setups[-1].n_cases} vs {setups[0].n_cases} cases "
                  f"= {ratio:.2f}x (aim <= 1.5x); queries per page the same at every size: "
                  f"{'yes' if same else 'NO'} (all pages: {'yes' if all_same else 'NO'})")


if __name__ == "__main__":
    main()
