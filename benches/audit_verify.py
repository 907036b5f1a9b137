"""The auditor's proof of the access log: verifying a 1M-entry export, and the console's log
page at 1k vs 1M entries.

    python benches/audit_verify.py                          # SQLite and PostgreSQL
    python benches/audit_verify.py --no-postgres            # SQLite only
    python benches/audit_verify.py --quick                  # 100k entries, fewer repeats
    python benches/audit_verify.py --size 200000 --profile  # another size; cProfile the verify
    python benches/audit_verify.py --skip-pages             # only the verify (or --skip-verify)

The pages are measured on PostgreSQL too, at --postgres ADMIN_URL (default
postgresql+psycopg://postgres@127.0.0.1/postgres): a fresh database per size is created there
and dropped at the end. The default run takes about six minutes on 2 cores.

The log (benches/_audit_log.py): SIZE entries over the three years before now, bulk-inserted
with the canonical bytes, leaf and chain hashes core.audit.log computes, staff accounts and
the auditor created through the use cases first. On the SQLite database of SIZE entries,
checkpoints are signed with the real sign_checkpoint at SIZE/4, SIZE/2 and SIZE - 1 (the last
one's own entry makes SIZE), and core.audit.export.write_export writes the export.

1. Verify vs read + parse (SQLite only; the verify is offline). The baseline opens the ZIP,
   reads events.jsonl line by line and json.loads each line, nothing else. The measured path
   is core.audit.verifier.verify_export with the verifier key and the newest checkpoint kept
   by the auditor (it must report no problem). Best of --verify-repeats each, alternating.
   Aim: the verify within 2x of the baseline. For reference, the baseline again reading the
   member in 1 MiB blocks split into lines, as the verifier does (no per-line readline).
2. The console's access-log page (GET /audit through the reviewer app's test client, with a
   logged-in auditor's session cookie): the default page, the second page (?before=), an
   action filter, a case filter, one staff member's entries and a period of three months in
   the middle of the span, at 1k and SIZE entries. Fetches interleaved across sizes (and
   backends); median and 90th percentile, SQL statements per request (a
   before_cursor_execute listener on the console's engine) and rows shown. Every fetch
   appends an audit:read entry, as in production. Aim: within 1.5x, the same query count.

Nothing is asserted about the times.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benches._audit_log import SPAN_DAYS, LogFacts, build_log  # noqa: E402
from benches._console import console_client, new_instance  # noqa: E402
from benches._databases import scratch_postgres  # noqa: E402
from core.audit.checkpoints import verifier_key  # noqa: E402
from core.audit.export import write_export  # noqa: E402
from core.audit.verifier import verify_export  # noqa: E402
from core.db import transaction  # noqa: E402
from core.models import Role  # noqa: E402
from core.services import Services  # noqa: E402
from tests.core.factories import ReviewerHandle, add_reviewer  # noqa: E402

STAFF = 20
SMALL = 1_000


@dataclass
class Built:
    """One populated database."""

    backend: str
    size: int
    factory: Any
    services: Services
    auditor: ReviewerHandle
    staff: list[int]
    facts: LogFacts
    timings: dict[str, list[float]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def build(stack: ExitStack, backend: str, url: str, data_dir: Path, size: int,
          checkpoints: list[int]) -> Built:
    services, factory = new_instance(stack, url, data_dir)
    engine = factory.kw["bind"]
    started = time.perf_counter()
    end = datetime.now(UTC) - timedelta(hours=1)
    real_now = services.clock.now
    services.clock.now = lambda: end - timedelta(days=SPAN_DAYS + 1)  # accounts come first
    try:
        staff = [add_reviewer(factory, services, f"staff{i:02d}").id for i in range(STAFF)]
        auditors = [add_reviewer(factory, services, name, Role.AUDITOR)
                    for name in ("audrey", "august")]
    finally:
        services.clock.now = real_now
    facts = build_log(factory, services, size, staff, [a.id for a in auditors], checkpoints,
                      end, progress=lambda line: print(line, flush=True))
    if backend == "postgresql":  # autovacuum would; SQLite stays without statistics
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    print(f"  {backend}, {size} entries: built in {time.perf_counter() - started:.1f} s",
          flush=True)
    return Built(backend, size, factory, services, auditors[0], staff, facts)


# -- 1. verify vs read + parse ------------------------------------------------------------


def read_parse(path: Path) -> int:
    """The baseline: every line of events.jsonl through json.loads, nothing else."""
    count = 0
    with zipfile.ZipFile(path) as archive, archive.open("events.jsonl") as member:
        for line in member:
            json.loads(line)
            count += 1
    return count


def read_parse_blocks(path: Path) -> int:
    """The same, reading the member in 1 MiB blocks and splitting them into lines, as the
    verifier does (ZipExtFile.readline costs about a microsecond a line)."""
    count = 0
    with zipfile.ZipFile(path) as archive, archive.open("events.jsonl") as member:
        tail = b""
        while block := member.read(1 << 20):
            lines = (tail + block).split(b"\n")
            tail = lines.pop()
            for line in lines:
                json.loads(line)
            count += len(lines)
    return count


def bench_verify(built: Built, folder: Path, repeats: int, profile: bool) -> None:
    path = folder / "export.zip"
    started = time.perf_counter()
    with transaction(built.factory) as s:
        summary = write_export(s, built.services, path)
    print(f"  export written in {time.perf_counter() - started:.1f} s: {summary.size} entries, "
          f"{summary.checkpoints} checkpoints, {path.stat().st_size / 2**20:.1f} MiB", flush=True)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("events.jsonl")
    key = verifier_key(built.services)
    kept = [("latest.txt", built.facts.checkpoints[-1])]

    def verify() -> int:
        report = verify_export(path, key=key, kept=kept)
        assert report.ok and report.kept == 1, report.problems
        return report.entries

    runs: dict[str, Callable[[], int]] = {
        "read + parse": lambda: read_parse(path),
        "verify_export": verify,
        "(read + parse in blocks)": lambda: read_parse_blocks(path),
    }
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeats):
        for label, action in runs.items():
            begun = time.perf_counter()
            entries = action()
            times[label].append(time.perf_counter() - begun)
            assert entries == summary.size, (label, entries)
    base, measured = min(times["read + parse"]), min(times["verify_export"])
    print(f"\n1. verify vs read + parse, {summary.size} entries (events.jsonl "
          f"{info.file_size / 2**20:.1f} MiB, {info.compress_size / 2**20:.1f} MiB deflated, "
          f"{info.file_size / summary.size:.0f} bytes a line), best of {repeats}:")
    for label, values in times.items():
        print(f"  {label:<26} best {min(values):7.2f} s   all "
              + " ".join(f"{v:.2f}" for v in values))
    blocks = min(times["(read + parse in blocks)"])
    print(f"  ratio verify / read + parse: {measured / base:.2f}x (aim <= 2x); against the "
          f"reading in blocks {measured / blocks:.2f}x; "
          f"{summary.size / measured / 1000:.0f}k entries/s verified")
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(verify)
        print("\n  cProfile of one verify_export (by own time):")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(18)


# -- 2. the console's access-log page ------------------------------------------------------


def pages_for(built: Built) -> list[tuple[str, str]]:
    facts = built.facts
    middle = facts.start + facts.span / 2
    # The case opened nearest the middle of the span that collected the most entries among
    # the ten nearest (a case with a full life at both sizes).
    nearest = sorted(facts.cases, key=lambda c: abs(c[0] - middle))[:10]
    case_id = max(nearest, key=lambda c: facts.case_entries[c[1]])[1]
    since = (facts.start + timedelta(days=500)).date()
    until = since + timedelta(days=90)
    with built.factory() as s:
        size = s.execute(text("SELECT size FROM audit_head")).scalar_one()
    return [
        ("newest (default page)", "/audit"),
        ("second page (?before=)", f"/audit?before={size - 50}"),
        ("action: case:status", "/audit?action=case:status"),
        (f"one case ({facts.case_entries[case_id]} entries)", f"/audit?case={case_id}"),
        ("one staff member", f"/audit?actor={built.staff[3]}"),
        ("period of 3 months", f"/audit?since={since}&until={until}"),
    ]


def client_for(stack: ExitStack, built: Built) -> Callable[[str], tuple[int, int]]:
    client, statements = console_client(stack, built.services, built.factory, built.auditor.id,
                                        built.auditor.private_key)

    def fetch(path: str) -> tuple[int, int]:
        """(SQL statements, rows shown) of one fetch."""
        statements.clear()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(statements), response.get_data(as_text=True).count('class="log-row"')

    return fetch


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def bench_pages(stack: ExitStack, setups: list[Built], repeats: int) -> None:
    fetchers = [client_for(stack, b) for b in setups]
    pages = [pages_for(b) for b in setups]
    labels = [label.split(" (")[0] if label.startswith("one case") else label
              for label, _path in pages[0]]
    for fetch, own in zip(fetchers, pages, strict=True):
        for _label, path in own:
            for _ in range(3):  # warm up
                fetch(path)
    for _ in range(repeats):
        for built, fetch, own in zip(setups, fetchers, pages, strict=True):
            for label, (_own_label, path) in zip(labels, own, strict=True):
                begun = time.perf_counter()
                queries, rows = fetch(path)
                built.timings.setdefault(label, []).append(time.perf_counter() - begun)
                built.queries[label], built.rows[label] = queries, rows
    print(f"\n2. GET /audit, {repeats} interleaved fetches per page and size "
          "(the auditor's session; each fetch appends an audit:read entry)")
    for built, own in zip(setups, pages, strict=True):
        case_label = next(label for label, _ in own if label.startswith("one case"))
        print(f"  {built.backend} {built.size}: {case_label}")
    print(f"\n  {'page':<26}{'backend':>11}{'entries':>9} {'median ms':>10} {'p90 ms':>8} "
          f"{'queries':>8} {'rows':>5}")
    backends = sorted({b.backend for b in setups}, key=lambda name: name != "sqlite")
    for label in labels:
        for backend in backends:
            group = sorted((b for b in setups if b.backend == backend), key=lambda b: b.size)
            for b in group:
                t = b.timings[label]
                print(f"  {label:<26}{backend:>11}{b.size:>9} "
                      f"{statistics.median(t) * 1000:>10.1f} {p90(t) * 1000:>8.1f} "
                      f"{b.queries[label]:>8} {b.rows[label]:>5}")
            ratio = (statistics.median(group[-1].timings[label])
                     / statistics.median(group[0].timings[label]))
            same = "same" if len({b.queries[label] for b in group}) == 1 else "DIFFERENT"
            print(f"  {'':<26}{'':>11}{'ratio':>9} {ratio:>10.2f}x   queries {same}")
    print("\n  (read_log looks the account names up only when the page shows a staff entry: "
          "a page of reporters' entries runs one query fewer)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="entries of the large log")
    parser.add_argument("--postgres", metavar="ADMIN_URL",
                        default="postgresql+psycopg://postgres@127.0.0.1/postgres",
                        help="the PostgreSQL server for the pages (default: %(default)s)")
    parser.add_argument("--no-postgres", action="store_true", help="the pages on SQLite only")
    parser.add_argument("--quick", action="store_true",
                        help="100k entries, 2 verify repeats, 8 page fetches")
    parser.add_argument("--verify-repeats", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20, help="fetches per page and size")
    parser.add_argument("--profile", action="store_true", help="cProfile one verify_export")
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    args = parser.parse_args()
    if args.no_postgres:
        args.postgres = None
    if args.quick:
        args.size, args.verify_repeats, args.repeats = 100_000, 2, 8
    size = args.size
    print(f"audit bench: {size} entries (and {SMALL} for the pages), staff {STAFF}, "
          f"backends sqlite{' + postgresql (pages)' if args.postgres else ''}", flush=True)
    started = time.perf_counter()
    with ExitStack() as stack:

        def folder() -> Path:
            return Path(stack.enter_context(tempfile.TemporaryDirectory()))

        big_dir = folder()
        big = build(stack, "sqlite", f"sqlite:///{big_dir / 'bench.sqlite3'}", big_dir, size,
                    [size // 4, size // 2, size - 1])
        if not args.skip_verify:
            bench_verify(big, big_dir, args.verify_repeats, args.profile)
        if not args.skip_pages:
            small_dir = folder()
            setups = [build(stack, "sqlite", f"sqlite:///{small_dir / 'bench.sqlite3'}",
                            small_dir, SMALL, []), big]
            if args.postgres:
                for n in (SMALL, size):
                    url = scratch_postgres(stack, args.postgres, f"audit{n}")
                    setups.append(build(stack, "postgresql", url, folder(), n, []))
            bench_pages(stack, setups, args.repeats)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
