"""Starting a key epoch: its cost on a case with 1,000 messages and 100 files vs a small case.

    python benches/rotate.py [--quick] [--rounds N] [--postgres ADMIN_URL]

With --postgres (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres) a fresh database is
created on that server for the run and dropped at the end; by default SQLite in a temporary
folder.

What is measured: the real path. `core.cases.epochs.start_epoch`, the function an exclusion
calls (core.cases.team_changes.exclude_member), run in its own committed transaction on a case
loaded from the database: it seals a new case key and team key to every remaining member, the
recovery key and the reporter, and writes its audit event. The big case (1,000 internal notes
and replies, 100 files) and the small one (10 messages, 1 file) have the same team of three;
rounds alternate between them so that drift of the machine affects both alike. Printed: median
and 90th percentile per case and the ratio big / small. The aim is a ratio near 1: old records
keep the keys of their epoch, so nothing is re-encrypted. As a contrast, the same is printed
for reading each case (core.cases.casework.read_case_for_reviewer), which decrypts every
record and so grows with the case.

The cases are built through the use cases (tests/core/factories.py), with the cheap KDF of the
tests: Argon2id is not what is measured here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benches._databases import scratch_postgres  # noqa: E402
from core.audit.log import Actor  # noqa: E402
from core.blobs import FileSystemBlobStore  # noqa: E402
from core.cases.casework import (  # noqa: E402
    post_reviewer_message,
    read_case_for_reviewer,
    store_reviewer_file,
)
from core.cases.epochs import start_epoch  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.config import load_config  # noqa: E402
from core.db import create_schema, make_engine, make_session_factory, transaction  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import Case, KeyKind, MessageKind  # noqa: E402
from core.services import Services  # noqa: E402
from crypto.kdf import KdfProfile  # noqa: E402
from crypto.recovery import generate_recovery_key  # noqa: E402
from tests.core.factories import (  # noqa: E402
    ReviewerHandle,
    add_reviewer,
    seed_categories,
    submit,
)

CHEAP_KDF = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)


def _fill(factory, services: Services, lead: ReviewerHandle, case_id: int, messages: int,
          files: int) -> None:
    """`messages` messages (a tenth of them replies to the reporter), `files` of them with a
    small file, committed in batches of 100."""
    for start in range(0, messages, 100):
        with transaction(factory) as s:
            for i in range(start, min(start + 100, messages)):
                kind = MessageKind.INFORMATION if i % 10 == 0 else MessageKind.INTERNAL_NOTE
                key_kind = KeyKind.CASE if kind is MessageKind.INFORMATION else KeyKind.TEAM
                attached = []
                if i < files:
                    attached.append(store_reviewer_file(
                        services, lead.unlocked, s, case_id, key_kind, f"evidence-{i}.txt",
                        "text/plain", iter([b"evidence %d\n" % i * 50])))
                post_reviewer_message(s, services, lead.unlocked, case_id, kind,
                                      f"Note {i}: checked the access logs again.", attached)


def _time(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _summary(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.9) - 1)]


def run(url: str, data_dir: Path, rounds: int, big: tuple[int, int]) -> None:
    engine = make_engine(url)
    create_schema(engine)
    factory = make_session_factory(engine)
    config = load_config({}, data_dir=data_dir, database_url=url, kdf=CHEAP_KDF)
    services = Services(config=config,
                        keyring=Keyring.generate(generate_recovery_key().public_key),
                        blobs=FileSystemBlobStore(config.blob_dir), clock=Clock())
    team = [add_reviewer(factory, services, name) for name in ("lena", "max", "noor")]
    seed_categories(factory, {"it_fault": [h.id for h in team]}, services=services)
    cases = {"small (10 messages, 1 file)": submit(factory, services).case_id,
             f"big ({big[0]} messages, {big[1]} files)": submit(factory, services).case_id}
    print("building the cases ...", flush=True)
    for case_id, (messages, files) in zip(cases.values(), [(10, 1), big], strict=True):
        _fill(factory, services, team[0], case_id, messages, files)

    def rotate(case_id: int) -> None:
        with transaction(factory) as s:
            case = s.get(Case, case_id)
            assert case is not None
            start_epoch(s, services, Actor.system(), case)

    def read(case_id: int) -> None:
        with transaction(factory) as s:
            view = read_case_for_reviewer(s, services, team[0].unlocked, case_id)
            assert not view.tampered

    for label, action in (("start a key epoch", rotate), ("read the whole case", read)):
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, case_id in cases.items():
                times[name].append(_time(lambda a=action, c=case_id: a(c)))
        medians = []
        print(f"\n{label} ({rounds} rounds, interleaved):")
        for name, seconds in times.items():
            median, p90 = _summary(seconds)
            medians.append(median)
            print(f"  {name:<32} median {median * 1000:8.1f} ms   p90 {p90 * 1000:8.1f} ms")
        print(f"  ratio big / small: {medians[1] / medians[0]:.2f}"
              + ("   (aim: about 1, independent of the records)" if action is rotate else ""))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="5 rounds and a case of 200 messages and 20 files")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgres", metavar="ADMIN_URL",
                        help="run on PostgreSQL: a database is created there and dropped")
    args = parser.parse_args()
    rounds = 5 if args.quick else args.rounds
    big = (200, 20) if args.quick else (1000, 100)
    with ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.postgres:
            url = scratch_postgres(stack, args.postgres, "rotate")
        else:
            url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
        run(url, data_dir, rounds, big)


if __name__ == "__main__":
    main()
