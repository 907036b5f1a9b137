"""Benchmark uploads to the portal over HTTP under gunicorn.

Usage: .venv/bin/python benches/upload.py [--quick] [--repeat N]

For a small and a large file (10 MiB and 1 GiB; --quick: 10 MiB and 200 MiB), all in one run,
each timed N times (default 5) with uploads and drains interleaved, medians reported (this
machine is shared: single runs of the drain vary by a third):

1. Encrypted upload: POST /report (multipart, valid CSRF token from a fetched form, cookie
   jar) to `candor serve portal --workers 1` (gthread) under gunicorn, the file streamed from a
   generator with a known Content-Length (never one big buffer). The portal encrypts it into
   the blob store while it arrives and creates the case.
2. The ceiling: the same body POSTed to a second gunicorn (same settings) running
   `benches.servers:drain_app`, a WSGI app that only reads wsgi.input, in the same pieces
   as the portal's upload views (web.streamed_forms.READ_SIZE).
3. Raw secretstream (nacl.bindings push, in the chunk size of crypto.stream) over the same
   number of bytes; and a third gunicorn, `benches.servers:encrypting_drain_app`, which reads
   like the drain and encrypts on a worker thread like the portal, without parsing or disk:
   the bound for any design with one secretstream per file.
4. Peak memory (VmHWM) of each gunicorn worker; the servers are restarted for every size,
   so each peak belongs to one size (the highest over its runs).

5. The disk: the real blob store (core.blobs, O_DIRECT blocks and fsync) writing as many
   bytes in-process, three times: the drain keeps nothing, an upload must.

6. CPU seconds per GiB of each transfer, for the client (this process) and the server's
   worker (all its threads, from /proc), and what they allow: an upload cannot do less work
   than the plain read, one secretstream and the blob store's writes, so on this machine's
   cores it cannot go faster than that work divided by the cores, however it is scheduled.
   Wall times swing with the machine's load; CPU per byte much less.

Also measured: the fixed cost of one report without a file (Argon2id for the receipt, the
database transaction), so the ratio can be read with and without it.

Prints figures only; asserts nothing. Aims: encrypted/plain >= 75 %, memory 1 GiB vs 10 MiB
within 20 %.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benches.servers import (  # noqa: E402
    Server,
    cpu_seconds,
    start_drain,
    start_portal,
    vm_hwm_kib,
)
from benches.upload_results import (  # noqa: E402
    GiB,
    MiB,
    Run,
    SizeResult,
    print_cpu_bound,
    print_throughput,
    wall,
)

PIECE = MiB
POOL = [os.urandom(PIECE) for _ in range(4)]
BOUNDARY = "candorBenchBoundary0123456789"

# --- helpers -----------------------------------------------------------------------------------


def file_bytes(size: int) -> Iterator[bytes]:
    """`size` bytes of random-looking data, in 1 MiB pieces cycled from a small pool."""
    full, rest = divmod(size, PIECE)
    for i in range(full):
        yield POOL[i & 3]
    if rest:
        yield POOL[0][:rest]


def fields_part(fields: list[tuple[str, str]]) -> bytes:
    """The text fields of a multipart body, each with its delimiter."""
    parts = []
    for name, value in fields:
        header = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{BOUNDARY}\r\n{header}\r\n\r\n{value}\r\n".encode())
    return b"".join(parts)


def multipart(
    fields: list[tuple[str, str]], filename: str, size: int
) -> tuple[int, Iterator[bytes]]:
    """(Content-Length, body pieces) of a multipart form whose file is streamed."""
    head = fields_part(fields)
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def pieces() -> Iterator[bytes]:
        yield head
        yield from file_bytes(size)
        yield tail

    return len(head) + size + len(tail), pieces()


def post_streamed(
    port: int,
    path: str,
    length: int,
    pieces: Iterator[bytes],
    cookie: str = "",
    server_pid: int | None = None,
) -> tuple[int, bytes, Run]:
    """POST the pieces with a known Content-Length; (status, body, run)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    server_before = cpu_seconds(server_pid) if server_pid else 0.0
    client_before = time.process_time()
    start = time.perf_counter()
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(length))
    if cookie:
        conn.putheader("Cookie", cookie)
    conn.endheaders()
    for piece in pieces:
        conn.send(piece)
    response = conn.getresponse()
    body = response.read()
    run = Run(
        wall=time.perf_counter() - start,
        client_cpu=time.process_time() - client_before,
        server_cpu=(cpu_seconds(server_pid) - server_before) if server_pid else 0.0,
    )
    conn.close()
    return response.status, body, run


def csrf_session(port: int) -> tuple[str, str]:
    """(CSRF token, Cookie header) from GET /report with a cookie jar."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"http://127.0.0.1:{port}/report", timeout=60) as response:
        page = response.read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on /report")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return match.group(1), cookie


def report_fields(token: str) -> list[tuple[str, str]]:
    return [
        ("csrf_token", token),
        ("category", "it_fault"),
        ("summary", "Benchmark upload"),
        ("what_happened", "A large file, streamed."),
        ("disclosure", "anonymous"),
    ]


def upload_report(server: Server, size: int | None) -> Run:
    """One POST /report with a file of `size` bytes (None: no file part)."""
    token, cookie = csrf_session(server.port)
    if size is None:
        head = fields_part(report_fields(token)) + f"--{BOUNDARY}--\r\n".encode()
        length, pieces = len(head), iter([head])
    else:
        length, pieces = multipart(report_fields(token), "bench.bin", size)
    status, body, run = post_streamed(server.port, "/report", length, pieces, cookie,
                                      server.worker)
    if status != 200 or b'id="receipt-code"' not in body:
        raise RuntimeError(f"upload failed: HTTP {status}: {body[:500]!r}")
    return run


def drain(server: Server, size: int) -> Run:
    length, pieces = multipart(report_fields("x" * 91), "bench.bin", size)
    status, body, run = post_streamed(server.port, "/drain", length, pieces,
                                      server_pid=server.worker)
    if status != 200 or int(body) != length:
        raise RuntimeError(f"drain failed: HTTP {status}: {body[:200]!r}")
    return run


def raw_secretstream(size: int) -> Run:
    from nacl.bindings import (
        crypto_secretstream_xchacha20poly1305_init_push,
        crypto_secretstream_xchacha20poly1305_push,
        crypto_secretstream_xchacha20poly1305_state,
        crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    )

    from crypto.stream import CHUNK_SIZE as chunk

    state = crypto_secretstream_xchacha20poly1305_state()
    crypto_secretstream_xchacha20poly1305_init_push(state, bytes(32))
    start, cpu = time.perf_counter(), time.process_time()
    for piece in file_bytes(size):
        view = memoryview(piece)
        for offset in range(0, len(view), chunk):
            crypto_secretstream_xchacha20poly1305_push(state, bytes(view[offset : offset + chunk]))
    crypto_secretstream_xchacha20poly1305_push(
        state, b"", tag=crypto_secretstream_xchacha20poly1305_TAG_FINAL
    )
    return Run(time.perf_counter() - start, time.process_time() - cpu)


def blob_write(root: Path, size: int) -> Run:
    """The real blob store (core.blobs: O_DIRECT blocks, fsync) storing `size` bytes: the
    bound the disk puts on any upload that keeps its file."""
    from datetime import date

    from core.blobs import FileSystemBlobStore

    store = FileSystemBlobStore(root)
    start, cpu = time.perf_counter(), time.process_time()
    blob_id, _ = store.write(file_bytes(size), day=date.today())
    run = Run(time.perf_counter() - start, time.process_time() - cpu)
    store.delete(blob_id)
    return run


def measure(size: int, env: dict[str, str], work: Path, repeat: int) -> SizeResult:
    """Every figure for one size. The servers run side by side (an idle one costs nothing)
    and are restarted for every size, so each peak belongs to one size."""
    data_dir = Path(env["CANDOR_DATA_DIR"])
    portal = start_portal(env, work / "portal.log")
    sink = start_drain(env, work / "drain.log")
    cipher_sink = start_drain(env, work / "drain.log", "encrypting_drain_app")
    try:
        fixed = min((upload_report(portal, None) for _ in range(2)), key=wall)
        encrypted, plain, read_encrypt = [], [], []
        for _ in range(repeat):
            encrypted.append(upload_report(portal, size))
            for blob in (data_dir / "blobs").rglob("*"):
                if blob.is_file():
                    blob.unlink()  # keep the disk free; the case rows stay
            plain.append(drain(sink, size))
            read_encrypt.append(drain(cipher_sink, size))
        portal_peak = vm_hwm_kib(portal.worker)
        drain_peak = vm_hwm_kib(sink.worker)
    finally:
        portal.stop()
        sink.stop()
        cipher_sink.stop()
    raw = [raw_secretstream(size) for _ in range(3)]
    disk = [blob_write(work / "disk", size) for _ in range(3)]
    return SizeResult(size, encrypted, plain, read_encrypt, raw, disk, fixed, portal_peak,
                      drain_peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 MiB and 200 MiB")
    parser.add_argument("--repeat", type=int, default=5,
                        help="uploads and drains per size, interleaved (median reported)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance")
    args = parser.parse_args()
    sizes = [10 * MiB, 200 * MiB] if args.quick else [10 * MiB, GiB]

    work = Path(tempfile.mkdtemp(prefix="candor-bench-"))
    data_dir = work / "instance"
    env = {**os.environ, "CANDOR_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    env.pop("CANDOR_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "cli", "init"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (data_dir / "candor.toml").write_text(
        f"max_submission_bytes = {2 * GiB}\nsubmissions_per_minute = 100000\n"
        "insecure_dev_cookies = true\n"
    )
    print(f"instance: {data_dir}  (SQLite, gunicorn, 1 gthread worker each); "
          f"{args.repeat} interleaved runs per size, medians")
    try:
        results = [measure(size, env, work, args.repeat) for size in sizes]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_throughput(results)
    print_cpu_bound(results[-1])
    small, large = results[0], results[-1]
    print(
        f"\nportal peak memory {large.size // MiB} MiB vs {small.size // MiB} MiB: "
        f"{large.portal_peak_kib / small.portal_peak_kib:.2f}x (aim within 20 %)"
    )


if __name__ == "__main__":
    main()
