"""Inbox page time and SQL queries per page at 1k vs 100k cases.

    python benches/inbox.py                      # SQLite in a temporary folder
    python benches/inbox.py --postgres URL       # e.g. postgresql+psycopg://postgres@127.0.0.1/x
    python benches/inbox.py --sizes 1000 10000   # other sizes

Cases are bulk-inserted with random bytes as ciphertext (the inbox never decrypts). The
measured reviewer is a member of one case in `--share` (default 10: ten intake teams). The page
is fetched through the Flask test client with a real logged-in session cookie.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import event, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.blobs import FileSystemBlobStore  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.config import load_config  # noqa: E402
from core.db import create_schema, make_engine, make_session_factory, transaction  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import (  # noqa: E402  # noqa: E402
    Case,
    CaseMember,
    CaseStatus,
    Category,
    Channel,
    Disclosure,
    MemberRole,
    Reviewer,
    Role,
)
from core.services import Services  # noqa: E402
from core.usecases import staff_auth  # noqa: E402
from core.usecases.categories import seed_default_categories  # noqa: E402
from core.usecases.reviewers import add_reviewer  # noqa: E402
from crypto.kdf import KdfProfile  # noqa: E402
from crypto.reviewer_keys import unwrap_private_key  # noqa: E402

BENCH_KDF = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)  # login speed is not measured
PASSPHRASE = "bench lantern orchard quartz 4711"
BATCH = 10_000


def populate(factory, services, n_cases: int, share: int) -> tuple[int, bytes]:
    with transaction(factory) as s:
        seed_default_categories(s)
        created = add_reviewer(s, services, username="bench", role=Role.REVIEWER,
                               passphrase=PASSPHRASE)
        created.reviewer.totp_confirmed = True
        created.reviewer.must_change_passphrase = False
        reviewer_id = created.reviewer.id
        others = [add_reviewer(s, services, username=f"other{i}", role=Role.REVIEWER,
                               passphrase=PASSPHRASE).reviewer.id for i in range(share - 1)]
        wrapped = created.reviewer.wrapped_private_key
        category_ids = list(s.execute(select(Category.id)).scalars())
    team = [reviewer_id, *others]
    rng = random.Random(4711)
    today = date.today()
    statuses = list(CaseStatus)
    done = 0
    while done < n_cases:
        size = min(BATCH, n_cases - done)
        with transaction(factory) as s:
            first_id = done + 1
            rows = []
            for i in range(first_id, first_id + size):
                received = today - timedelta(days=rng.randrange(0, 365))
                rows.append({
                    "id": i, "reference": f"B-{i:08d}", "lookup_id": os.urandom(32),
                    "status": rng.choice(statuses), "category_id": rng.choice(category_ids),
                    "channel": Channel.WEB, "disclosure": Disclosure.ANONYMOUS,
                    "received_on": received, "acknowledge_due": received + timedelta(days=7),
                    "feedback_due": received + timedelta(days=97),
                    "submitter_active_on": None, "report_ciphertext": os.urandom(64),
                    "identity_ciphertext": None,
                })
            s.execute(insert(Case), rows)
            s.execute(insert(CaseMember), [
                {"case_id": i, "reviewer_id": team[i % share], "role": MemberRole.INTAKE,
                 "excluded": False} for i in range(first_id, first_id + size)])
        done += size
    if factory.kw["bind"].dialect.name == "postgresql":
        with factory.kw["bind"].begin() as conn:
            conn.execute(text("ANALYZE"))
    return reviewer_id, unwrap_private_key(wrapped, PASSPHRASE)


def measure(database_url: str, data_dir: Path, n_cases: int, share: int,
            repeats: int) -> tuple[float, int, int]:
    from reviewer import create_app

    config = load_config({}, data_dir=data_dir, database_url=database_url, kdf=BENCH_KDF)
    services = Services(config=config, keyring=Keyring.generate(),
                        blobs=FileSystemBlobStore(config.blob_dir), clock=Clock())
    engine = make_engine(database_url)
    create_schema(engine)
    factory = make_session_factory(engine)
    reviewer_id, private_key = populate(factory, services, n_cases, share)
    app = create_app(config, services=services)
    with transaction(factory) as s:
        reviewer = s.get(Reviewer, reviewer_id)
        token = staff_auth.create_session(s, services, reviewer, private_key)
    client = app.test_client()
    client.set_cookie(app.extensions["candor.console"].cookie_name, token.encode())
    app_engine = app.extensions["candor.console"].engine
    statements: list[str] = []
    event.listen(app_engine, "before_cursor_execute",
                 lambda *args, **_kw: statements.append(args[2]))
    for _ in range(3):  # warm up
        assert client.get("/cases").status_code == 200
    timings = []
    queries = 0
    for _ in range(repeats):
        statements.clear()
        start = time.perf_counter()
        response = client.get("/cases?page=3")
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200
        queries = len(statements)
    with factory() as s:
        visible = s.execute(select(CaseMember).where(
            CaseMember.reviewer_id == reviewer_id).with_only_columns(
            text("count(*)"))).scalar_one()
    app_engine.dispose()
    engine.dispose()
    return statistics.median(timings), queries, int(visible)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="an EMPTY PostgreSQL database URL "
                        "per size is created from this admin URL's server")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--share", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    results = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            data_dir = Path(folder)
            if args.postgres:
                from sqlalchemy import create_engine
                from sqlalchemy.engine import make_url
                name = f"candor_bench_{n}_{os.getpid()}"
                admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                url = make_url(args.postgres).set(database=name).render_as_string(False)
                try:
                    results.append((n, *measure(url, data_dir, n, args.share, args.repeats)))
                finally:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
            else:
                url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
                results.append((n, *measure(url, data_dir, n, args.share, args.repeats)))
    backend = "postgresql" if args.postgres else "sqlite"
    print(f"inbox page (backend {backend}, reviewer on 1 case in {args.share}, page 3)")
    print(f"{'cases':>10} {'visible':>9} {'median ms':>10} {'queries':>8}")
    for n, seconds, queries, visible in results:
        print(f"{n:>10} {visible:>9} {seconds * 1000:>10.1f} {queries:>8}")
    if len(results) >= 2:
        ratio = results[-1][1] / results[0][1]
        same = len({r[2] for r in results}) == 1
        print(f"time ratio largest/smallest: {ratio:.2f}x (aim <= 1.5x); "
              f"queries per page constant: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
