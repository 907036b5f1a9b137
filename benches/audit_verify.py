"""The auditors' proof at scale: verifying an export against reading it, and the auditor's
log page at a small and a large log.

1. An export of N entries (default 1,000,000; SQLite): the time to open it, read every line of
   events.jsonl and parse it as JSON (the baseline), against `verify_export` with the
   verifier key and a kept checkpoint (every hash, signature, proof and root). Aim: within 2x.
2. GET /audit (the console's real page, as a logged-in auditor) and four filtered pages
   (action, case, period, the second page) at 1,000 and N entries, on SQLite and PostgreSQL:
   time per page (median of repeats) and SQL statements per page. Aim: within 1.5x, the same
   statement count at both sizes.

    .venv/bin/python benches/audit_verify.py [--size N] [--quick] [--postgres URL|--no-postgres]

The log is written fast by benches/_audit_log.py (bulk inserts with the hashes the recorder
computes) and checkpointed with the real `sign_checkpoint`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benches._audit_log import LogFacts, build_log  # noqa: E402
from benches._databases import scratch_postgres  # noqa: E402
from core.audit.checkpoints import verifier_key  # noqa: E402
from core.audit.export import write_export  # noqa: E402
from core.audit.verifier import verify_export  # noqa: E402
from core.blobs import FileSystemBlobStore  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.config import load_config  # noqa: E402
from core.db import create_schema, make_engine, make_session_factory, transaction  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import Reviewer, Role  # noqa: E402
from core.services import Services  # noqa: E402
from core.staff import authentication as staff_auth  # noqa: E402
from core.staff.accounts import add_reviewer  # noqa: E402
from crypto.kdf import KdfProfile  # noqa: E402

BENCH_KDF = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)  # logins are not measured
SMALL = 1_000


def best(run: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` runs, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


class Instance:
    """A scratch instance: configuration, secrets, database, one case handler and one auditor."""

    def __init__(self, stack: ExitStack, database_url: str, data_dir: Path) -> None:
        config = load_config({}, data_dir=data_dir, database_url=database_url, kdf=BENCH_KDF)
        self.services = Services(config=config, keyring=Keyring.generate(),
                                 blobs=FileSystemBlobStore(config.blob_dir), clock=Clock())
        engine = make_engine(database_url)
        stack.callback(engine.dispose)
        create_schema(engine)
        self.factory = make_session_factory(engine)
        ids = []
        with transaction(self.factory) as s:
            for name, role in (("ivy", Role.REVIEWER), ("audrey", Role.AUDITOR)):
                created = add_reviewer(s, self.services, username=name, role=role,
                                       passphrase="bench passphrase " * 2)
                created.reviewer.must_change_passphrase = False
                created.reviewer.totp_confirmed = True
                created.reviewer.wrapped_private_key = b"bench: no key needed"
                ids.append(created.reviewer.id)
        self.staff, self.auditor = [ids[0]], ids[1]

    def fill(self, total: int, checkpoints: list[int]) -> LogFacts:
        started = time.perf_counter()
        facts = build_log(self.factory, self.services, total, self.staff, [self.auditor],
                          checkpoints, datetime.now(UTC), progress=lambda _line: None)
        print(f"  {total} entries written in {time.perf_counter() - started:.1f} s",
              flush=True)
        return facts


def verify_part(size: int, repeats: int) -> None:
    print(f"== verify an export of {size} entries (SQLite)")
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        instance = Instance(stack, f"sqlite:///{folder / 'bench.sqlite3'}", folder / "data")
        facts = instance.fill(size, [size // 4, size // 2, size])
        export = folder / "export.zip"
        started = time.perf_counter()
        with transaction(instance.factory) as s:
            write_export(s, instance.services, export)
        print(f"  export written in {time.perf_counter() - started:.1f} s "
              f"({export.stat().st_size / 1e6:.0f} MB)")
        key = verifier_key(instance.services)
        kept = [("kept", facts.checkpoints[1])]

        def read_and_parse() -> None:
            with zipfile.ZipFile(export) as archive, archive.open("events.jsonl") as lines:
                for line in lines:
                    json.loads(line)

        def verify() -> None:
            report = verify_export(export, key=key, kept=kept)
            assert report.ok, report.problems

        baseline = best(read_and_parse, repeats)
        verified = best(verify, repeats)
        print(f"  read + parse: {baseline:.2f} s   verify: {verified:.2f} s   "
              f"ratio {verified / baseline:.2f}x (aim <= 2x)")


def page_part(label: str, database_url: str, size: int, repeats: int) -> dict[str, tuple]:
    """{page: (median seconds, statements)} at one size."""
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        instance = Instance(stack, database_url, Path(scratch) / "data")
        facts = instance.fill(size, [size // 2])
        from reviewer import create_app
        app = create_app(instance.services.config, services=instance.services)
        engine = app.extensions["candor.database"].engine
        stack.callback(engine.dispose)
        with transaction(instance.factory) as s:
            auditor = s.get(Reviewer, instance.auditor)
            token = staff_auth.create_session(s, instance.services, auditor, None)
        client = app.test_client()
        client.set_cookie(app.extensions["candor.console"].cookie_name, token.encode())
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute",
                     lambda *args, **_kw: statements.append(args[2]))
        busiest = max(facts.case_entries, key=facts.case_entries.__getitem__)
        middle = (facts.start + facts.span / 2).date()
        pages = {
            "default": "/audit",
            "action": "/audit?action=case:status",
            "case": f"/audit?case={busiest}",
            "period": f"/audit?since={middle}&until={middle + timedelta(days=6)}",
            "second page": f"/audit?before={size // 2}",
        }
        results = {}
        for name, path in pages.items():
            times = []
            for _ in range(repeats):
                statements.clear()
                started = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)
            results[name] = (statistics.median(times), len(statements))
        print(f"  {label}: pages measured at {size} entries", flush=True)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 entries, fewer repeats")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    size = 100_000 if args.quick else args.size
    repeats = 2 if args.quick else 3
    verify_part(size, repeats)
    backends = [("SQLite", None)] + ([] if args.no_postgres else [("PostgreSQL", args.postgres)])
    for label, admin_url in backends:
        print(f"== the auditor's log page, {label}")
        figures = {}
        for n in (SMALL, size):
            with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
                url = (f"sqlite:///{Path(scratch) / 'pages.sqlite3'}" if admin_url is None
                       else scratch_postgres(stack, admin_url, f"audit{n}"))
                figures[n] = page_part(label, url, n, repeats * 5)
        for page in figures[SMALL]:
            (small_t, small_q), (large_t, large_q) = figures[SMALL][page], figures[size][page]
            print(f"  {page:12} {small_t * 1000:7.1f} ms @ {SMALL}   "
                  f"{large_t * 1000:7.1f} ms @ {size}   ratio {large_t / small_t:.2f}x   "
                  f"statements {small_q} / {large_q}")


if __name__ == "__main__":
    main()
