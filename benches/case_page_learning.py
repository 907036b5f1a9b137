"""The case page's cost of learning category suggestions from confirmed cases.

    python benches/case_page_learning.py                          # SQLite and PostgreSQL
    python benches/case_page_learning.py --no-postgres            # SQLite only
    python benches/case_page_learning.py --examples 0 100 500 2000 --repeats 20

PostgreSQL runs at --postgres ADMIN_URL (default postgresql+psycopg://postgres@127.0.0.1/
postgres): a fresh database per size is created there and dropped at the end.

What is measured: the real path. The reviewer console's case page is fetched through the Flask
test client with a logged-in reviewer's session cookie, for a case whose category nobody has
confirmed: the page decrypts the report and, to suggest a category, reads the category
examples of every case the reviewer is on the team of (core.cases.category_examples: one
query, then for each example an X25519 unseal of the team key and a decryption), trains a
model in memory and suggests. The baseline is the same page with no example at all (keyword
rules only: nothing read, nothing audited). At most MAX_EXAMPLES examples are read, so sizes
beyond it should cost no more than MAX_EXAMPLES. Sizes and backends are interleaved (size A,
size B, ...) so that drift of the machine affects all alike; median and 90th percentile over
--repeats fetches after three warm-up fetches, the SQL statements one fetch ran, and the
ratio to the baseline. Nothing is asserted.

The data: the measured case, about a failing backup, is submitted through the real intake
path in the category "other" (the reviewer is its intake handler), so that the page suggests
another category. The example cases are bulk-inserted, each with the reviewer as a
member, real case and team keys sealed to the reviewer's public key and a real example: the token
counts of a report from the shipped labelled sample set (tests/core/categories/samples,
English and Chinese in turn), encrypted and bound exactly as core.cases.category_examples
keeps them, labelled with the sample's category.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benches._console import add_bench_reviewer, console_client, new_instance, private_key_of  # noqa: E402, E501
from benches._databases import scratch_postgres  # noqa: E402
from core.cases.category_examples import MAX_EXAMPLES, TOKENS_VERSION  # noqa: E402
from core.cases.content import ReportContent  # noqa: E402
from core.cases.contexts import category_example_context  # noqa: E402
from core.categories.intake_routes import set_intake  # noqa: E402
from core.categories.lookup import seed_default_categories  # noqa: E402
from core.categories.suggestions import tokenize  # noqa: E402
from core.db import transaction  # noqa: E402
from core.intake.submission import SubmissionDraft, submit_report  # noqa: E402
from core.models import (  # noqa: E402
    Case,
    CaseGrant,
    CaseMember,
    CasePriority,
    CaseStatus,
    Category,
    CategoryExample,
    Channel,
    Disclosure,
    KeyKind,
    MemberRole,
    Recipient,
)
from core.services import Services  # noqa: E402
from crypto.keys import new_key, seal_to  # noqa: E402
from crypto.records import encrypt_record  # noqa: E402

SAMPLES = ROOT / "tests" / "core" / "categories" / "samples"
MEASURED = ReportContent(summary="The backup server failed again and nobody was told",
                         description="服务器备份又失败了，没有人通知我们。The monitoring "
                                     "alerts go to a mailbox nobody reads.")


def samples() -> list[tuple[str, str]]:
    """(text, category) of the main sample sets, English and Chinese interleaved."""
    sets = []
    for name in ("en", "zh"):
        with (SAMPLES / f"{name}.jsonl").open(encoding="utf-8") as lines:
            sets.append([(row["text"], row["category"]) for row in map(json.loads, lines)
                         if row])
    mixed = [report for pair in zip(*sets, strict=False) for report in pair]
    return mixed


def populate(factory: Any, services: Services, examples: int) -> tuple[int, bytes, int]:
    """The reviewer, the measured case and `examples` confirmed cases; (reviewer id, private
    key, measured case id)."""
    with transaction(factory) as s:
        seed_default_categories(s)
        reviewer = add_bench_reviewer(s, services)
        set_intake(s, services.keyring, "other", [reviewer])
        reviewer_id, public_key = reviewer.id, reviewer.public_key
        assert public_key is not None
        private_key = private_key_of(reviewer)
    with transaction(factory) as s:
        measured = submit_report(s, services, SubmissionDraft(), category_code="other",
                                 report=MEASURED).case_id
        codes = {code: category_id for code, category_id in s.execute(
            select(Category.code, Category.id))}
    rng = random.Random(4711)
    texts = samples()
    today = date.today()
    cases, members, grants, kept = [], [], [], []
    for i in range(examples):
        text, code = texts[i % len(texts)]
        case_id = (1 << 62) | rng.getrandbits(62)
        reference = f"L-{i:08d}"
        received = today - timedelta(days=rng.randrange(30, 700))
        columns = {"status": CaseStatus.CLOSED, "category_id": codes[code],
                   "received_on": received, "acknowledge_due": received + timedelta(days=7),
                   "feedback_due": received + timedelta(days=97),
                   "priority": CasePriority.NORMAL, "review_requested": False,
                   "actions_due": None}
        cases.append({"id": case_id, "reference": reference, "lookup_id": os.urandom(32),
                      "channel": Channel.WEB, "disclosure": Disclosure.ANONYMOUS,
                      "report_ciphertext": os.urandom(64), "key_epoch": 1, **columns})
        members.append({"case_id": case_id, "reviewer_id": reviewer_id,
                        "role": MemberRole.LEAD, "excluded": False, **columns})
        # A member holds the case key too: without it the example is not read (a case the
        # reviewer could not open teaches them nothing).
        team_key = new_key()
        for kind, key in ((KeyKind.CASE, new_key()), (KeyKind.TEAM, team_key)):
            grants.append({"id": (1 << 62) | rng.getrandbits(62), "case_id": case_id,
                           "epoch": 1, "key_kind": kind, "recipient": Recipient.REVIEWER,
                           "reviewer_id": reviewer_id,
                           "sealed_key": seal_to(public_key, key)})
        counts = json.dumps(dict(sorted(Counter(tokenize(text)).items())),
                            ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        kept.append({"case_id": case_id, "category_id": codes[code], "key_epoch": 1,
                     "tokens_version": TOKENS_VERSION,
                     "confirmed_on": received + timedelta(days=10),
                     "counts_ciphertext": encrypt_record(
                         team_key, counts, category_example_context(
                             reference, codes[code], 1, TOKENS_VERSION))})
    if examples:
        with transaction(factory) as s:
            s.execute(insert(Case), cases)
            s.execute(insert(CaseMember), members)
            s.execute(insert(CaseGrant), grants)
            s.execute(insert(CategoryExample), kept)
    return reviewer_id, private_key, measured


@dataclass
class Setup:
    """One populated database with a logged-in console client."""

    label: str
    examples: int
    fetch: Callable[[], int]
    timings: list[float] = field(default_factory=list)
    queries: int = 0


def build(stack: ExitStack, label: str, database_url: str, data_dir: Path,
          examples: int) -> Setup:
    services, factory = new_instance(stack, database_url, data_dir)
    reviewer_id, private_key, case_id = populate(factory, services, examples)
    client, statements = console_client(stack, services, factory, reviewer_id, private_key)
    expected = "case of yours" if examples == 1 else f"{min(examples, MAX_EXAMPLES)} cases"

    def fetch() -> int:
        """SQL statements of one fetch of the case page (checked to show a suggestion that
        learned from the examples read)."""
        statements.clear()
        response = client.get(f"/cases/{case_id}")
        assert response.status_code == 200, response.status_code
        page = response.get_data(as_text=True)
        assert 'id="category-suggestion"' in page or examples == 0, "no suggestion shown"
        assert examples == 0 or expected in page, "the page did not say what it learned"
        return len(statements)

    return Setup(label, examples, fetch)


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--examples", type=int, nargs="+", default=[0, 100, MAX_EXAMPLES, 2000])
    parser.add_argument("--repeats", type=int, default=20, help="fetches per size")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1/postgres",
                        metavar="ADMIN_URL")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    sizes = sorted(set([0, *args.examples]))
    backends = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    print(f"case page learning bench: examples {sizes} (at most {MAX_EXAMPLES} read), "
          f"backends {backends}, {args.repeats} interleaved fetches per size")
    with ExitStack() as stack:
        setups: list[Setup] = []
        for backend in backends:
            for n in sizes:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                url = (scratch_postgres(stack, args.postgres, f"learn{n}")
                       if backend == "postgresql" else f"sqlite:///{folder / 'bench.sqlite3'}")
                started = time.perf_counter()
                setups.append(build(stack, backend, url, folder, n))
                print(f"  {backend}: {n} examples loaded in "
                      f"{time.perf_counter() - started:.1f} s", flush=True)
        for setup in setups:
            for _ in range(3):
                setup.queries = setup.fetch()
        for _ in range(args.repeats):
            for setup in setups:
                started = time.perf_counter()
                setup.queries = setup.fetch()
                setup.timings.append(time.perf_counter() - started)
        print(f"\n{'backend':<11}{'examples':>9}{'read':>6} {'median ms':>10} {'p90 ms':>8} "
              f"{'queries':>8} {'vs none':>8}")
        for backend in backends:
            mine = [s for s in setups if s.label == backend]
            base = statistics.median(mine[0].timings)
            for s in mine:
                median = statistics.median(s.timings)
                print(f"{backend:<11}{s.examples:>9}{min(s.examples, MAX_EXAMPLES):>6} "
                      f"{median * 1000:>10.1f} {p90(s.timings) * 1000:>8.1f} {s.queries:>8} "
                      f"{median / base:>7.2f}x")


if __name__ == "__main__":
    main()
