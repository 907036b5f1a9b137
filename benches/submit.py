"""Benchmark submissions and receipt logins through the portal against the Argon2id bound.

Usage: .venv/bin/python benches/submit.py [--clients N] [--seconds S] [--rounds R]
                                          [--postgres ADMIN_URL | --no-postgres]

Each submission and each receipt login costs one Argon2id derivation with the production
profile (crypto.kdf.PRODUCTION, the receipt's lookup id and key); everything else they do is
small beside it. On C cores nothing can do more than C / t of either a second, t being the
time of one derivation while every core derives at once (the cores share memory bandwidth and
caches: t in parallel is longer than t alone). That bound is measured in the same run, in
rounds interleaved with the HTTP phases, by C processes deriving back to back.

Per backend (a SQLite file; a scratch PostgreSQL database, default server below), an instance
from `candor init` served by `candor serve portal` (gunicorn, one worker per core, its default
threads and Argon2id slots), the submission budget raised out of the way, and N
client threads (urllib, default 4 per core) on this machine:

1. submissions: each client loads /report once (cookie and CSRF token), then posts reports
   (text only, no file) back to back for S seconds; those answered with a receipt count;
2. receipt logins: each client loads /follow-up once, then posts the receipts of phase 1
   back to back for S seconds; those answered 303 to /case count;
3. the bound, as above, for S seconds.

Per round and phase: operations a second, and the server's CPU seconds per operation (its
workers, from /proc) against one derivation alone. Medians over the rounds; ratios of medians.
Prints figures only; asserts nothing. Aim: both at >= 80 % of the bound.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benches._databases import scratch_postgres  # noqa: E402
from benches.servers import Server, cpu_seconds, free_port  # noqa: E402
from tests.portal.conftest import multipart_body  # noqa: E402
from tests.portal.live_http import HttpClient  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RECEIPT_RE = re.compile(r'id="receipt-code">([0-9 ]+)<')
SHOWN_RE = re.compile(r'name="shown" value="([^"]*)"')


# --- the Argon2id bound ------------------------------------------------------------------------


def derive_for(seconds: float) -> list[float]:
    """Derive with the production profile back to back for `seconds` (once at least); each
    call's time."""
    from crypto.kdf import PRODUCTION, derive_key

    times: list[float] = []
    end = time.perf_counter() + seconds
    secret, salt = os.urandom(28), os.urandom(16)
    while not times or time.perf_counter() < end:
        start = time.perf_counter()
        derive_key(secret, salt, PRODUCTION)
        times.append(time.perf_counter() - start)
    return times


def argon2_alone(repeat: int = 5) -> float:
    """Median time of one derivation with nothing else deriving (this process)."""
    return statistics.median(derive_for(1e-9)[0] for _ in range(repeat))


def argon2_bound(pool: ProcessPoolExecutor, cores: int, seconds: float) -> tuple[float, float]:
    """(derivations a second on all cores = cores / median time, that median time)."""
    times = [t for chunk in pool.map(derive_for, [seconds] * cores) for t in chunk]
    per_call = statistics.median(times)
    return cores / per_call, per_call


# --- the portal, driven over HTTP --------------------------------------------------------------


@dataclass
class Portal:
    backend: str
    server: Server
    receipts: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def worker_cpu(self) -> float:
        from benches.servers import children

        return sum(cpu_seconds(pid) for pid in children(self.server.process.pid))


def start_portal(work: Path, backend: str, database_url: str | None, cores: int) -> Portal:
    data_dir = work / f"instance-{backend}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CANDOR_")}
    env.update({"CANDOR_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT),
                "CANDOR_SUBMISSIONS_PER_MINUTE": "1000000",
                "CANDOR_INSECURE_DEV_COOKIES": "1"})
    if database_url:
        env["CANDOR_DATABASE_URL"] = database_url
    subprocess.run([sys.executable, "-m", "cli", "init"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    server = Server([sys.executable, "-m", "cli", "serve", "portal", "--port", str(port),
                     "--workers", str(cores)], env, port,
                    work / f"portal-{backend}.log")
    return Portal(backend, server)


def _report(form: str, n: int) -> tuple[bytes, str]:
    fields = [("csrf_token", CSRF_RE.search(form).group(1))]  # type: ignore[union-attr]
    shown = SHOWN_RE.search(form)
    if shown:
        fields.append(("shown", shown.group(1)))
    fields += [("category", "it_fault"), ("summary", f"Bench report {n}"),
               ("what_happened", "Measured."), ("disclosure", "anonymous")]
    return multipart_body(fields)


def drive(base: str, clients: int, seconds: float, prepare: Callable[[HttpClient], str],
          one: Callable[[HttpClient, str, int], bool]) -> tuple[int, int]:
    """In `clients` threads, each with its own cookies: `prepare` once (untimed: loads the
    page with the form), then `one` back to back for `seconds`; (how many returned True,
    how many did not)."""
    done = [0] * clients
    failed = [0] * clients
    ready = threading.Barrier(clients + 1)
    end = [0.0]

    def loop(index: int) -> None:
        client = HttpClient(base)
        try:
            state: str | None = prepare(client)
        except Exception:  # noqa: BLE001 - counted: this client then does nothing
            state = None
            failed[index] += 1
        ready.wait()
        n = index * 1_000_000
        while state is not None and time.monotonic() < end[0]:
            try:
                ok = one(client, state, n)
            except Exception:  # noqa: BLE001 - a failed connection or a timeout
                ok = False
            if ok:
                done[index] += 1
            else:
                failed[index] += 1
            n += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    end[0] = time.monotonic() + seconds
    ready.wait()
    for thread in threads:
        thread.join()
    return sum(done), sum(failed)


def submissions(portal: Portal, clients: int, seconds: float) -> tuple[int, int]:
    """Reports posted back to back; the receipts are kept for the login phase."""
    lock = threading.Lock()

    def one(client: HttpClient, form: str, n: int) -> bool:
        body, content_type = _report(form, n)
        answer = client.request("POST", "/report", body, {"Content-Type": content_type})
        match = RECEIPT_RE.search(answer.text) if answer.status == 200 else None
        if match:
            with lock:
                portal.receipts.append(match.group(1))
        return match is not None

    return drive(portal.base, clients, seconds, lambda client: client.get("/report").text, one)


def logins(portal: Portal, clients: int, seconds: float) -> tuple[int, int]:
    """Receipt logins back to back, with the receipts the portal gave."""
    receipts = list(portal.receipts)

    def token(client: HttpClient) -> str:
        return CSRF_RE.search(client.get("/follow-up").text).group(1)  # type: ignore[union-attr]

    def one(client: HttpClient, csrf: str, n: int) -> bool:
        receipt = receipts[n * 7919 % len(receipts)]
        answer = client.post_form("/follow-up", [("csrf_token", csrf), ("receipt", receipt)])
        return answer.status == 303 and answer.headers["Location"].endswith("/case")

    return drive(portal.base, clients, seconds, token, one)


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Figures:
    """Per round: operations a second and the workers' CPU seconds per operation."""

    rates: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    failed: int = 0

    def add(self, count: int, failed: int, seconds: float, cpu: float) -> str:
        self.rates.append(count / seconds)
        self.cpu.append(cpu / count if count else float("nan"))
        self.failed += failed
        refused = f", {failed} refused or failed" if failed else ""
        return f"{count / seconds:6.2f}/s ({self.cpu[-1] * 1000:.0f} ms CPU each{refused})"


def measure(portal: Portal, phase: str, clients: int, seconds: float, figures: Figures) -> str:
    before = portal.worker_cpu()
    count, failed = (submissions if phase == "submit" else logins)(portal, clients, seconds)
    return figures.add(count, failed, seconds, portal.worker_cpu() - before)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=0, help="client threads (4 per core)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, medians reported")
    parser.add_argument("--postgres", metavar="ADMIN_URL",
                        default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    # Stopped from outside (timeout, kill): still stop the servers and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    cores = len(os.sched_getaffinity(0))
    clients = args.clients or 4 * cores
    work = Path(tempfile.mkdtemp(prefix="candor-bench-submit-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        portals = []
        for backend in ["sqlite"] + ([] if args.no_postgres else ["postgresql"]):
            url = scratch_postgres(stack, args.postgres, "submit") if backend != "sqlite" else None
            portal = start_portal(work, backend, url, cores)
            stack.callback(portal.server.stop)
            portals.append(portal)
        pool = stack.enter_context(ProcessPoolExecutor(cores))
        list(pool.map(derive_for, [1e-9] * cores))  # the processes exist before timing
        alone = argon2_alone()
        print(f"{cores} cores, {clients} client threads, candor serve portal --workers {cores}, "
              f"{args.rounds} rounds of {args.seconds:.0f} s per phase; one Argon2id "
              f"derivation alone: {alone * 1000:.0f} ms", flush=True)
        for portal in portals:  # warm-up: first requests, receipts for the login phase
            submissions(portal, clients, 2.0)
        figures = {(p.backend, phase): Figures() for p in portals for phase in ("submit", "login")}
        bounds: list[float] = []
        per_call: list[float] = []
        for round_number in range(1, args.rounds + 1):
            line = [f"round {round_number}:"]
            for portal in portals:
                for phase in ("submit", "login"):
                    shown = measure(portal, phase, clients, args.seconds,
                                    figures[(portal.backend, phase)])
                    line.append(f"{portal.backend} {phase} {shown}")
            bound, t = argon2_bound(pool, cores, args.seconds)
            bounds.append(bound)
            per_call.append(t)
            line.append(f"bound {bound:.2f}/s ({t * 1000:.0f} ms a derivation on all cores)")
            print("\n  ".join(line), flush=True)
    bound = statistics.median(bounds)
    print(f"\nArgon2id bound (median): {bound:.2f}/s = {cores} cores / "
          f"{statistics.median(per_call) * 1000:.0f} ms (alone: {alone * 1000:.0f} ms)")
    print(f"{'backend':<12}{'phase':<8}{'ops/s':>8}{'of bound':>10}{'CPU ms/op':>11}"
          f"{'not ok':>8}")
    for (backend, phase), found in figures.items():
        rate = statistics.median(found.rates)
        print(f"{backend:<12}{phase:<8}{rate:>8.2f}{rate / bound:>10.0%}"
              f"{statistics.median(found.cpu) * 1000:>11.0f}{found.failed:>8}")
    print("aim: >= 80 % of the bound for submissions and logins")


if __name__ == "__main__":
    main()
