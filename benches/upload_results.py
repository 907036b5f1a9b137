"""The figures benches/upload.py measures, and how it prints them."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class Run:
    """One timed transfer: wall seconds, and the CPU seconds it cost the sending client (this
    process) and the receiving server's worker (all its threads)."""

    wall: float
    client_cpu: float
    server_cpu: float = 0.0

    @property
    def cpu(self) -> float:
        return self.client_cpu + self.server_cpu


@dataclass
class SizeResult:
    """Everything measured for one file size."""

    size: int
    encrypted: list[Run]
    plain: list[Run]
    read_encrypt: list[Run]
    raw: list[Run]
    disk: list[Run]
    fixed: Run
    portal_peak_kib: int
    drain_peak_kib: int


def wall(run: Run) -> float:
    return run.wall


def mb_s(size: int, seconds: float) -> float:
    return size / 1e6 / seconds


def median(runs: list[Run], field: str = "wall") -> float:
    """The median of one field over runs ("wall", "cpu", "client_cpu", "server_cpu")."""
    return statistics.median(getattr(run, field) for run in runs)


def print_throughput(results: list[SizeResult]) -> None:
    """The table per size, then every run of the largest size and the ratios between them."""
    print()
    print(
        f"{'size':>9} | {'encrypted upload':>16} | {'plain drain':>12} | "
        f"{'raw secretstream':>16} | {'enc/plain':>9} | {'enc/plain*':>10} | "
        f"{'portal VmHWM':>12} | {'drain VmHWM':>11}"
    )
    for r in results:
        enc, pln, raw = median(r.encrypted), median(r.plain), min(map(wall, r.raw))
        net = enc - r.fixed.wall  # meaningless where the file takes less than the report
        net_ratio = f"{pln / net:>9.1%}" if net > enc / 2 else f"{'-':>9}"
        print(
            f"{r.size // MiB:>5} MiB | {mb_s(r.size, enc):>11.1f} MB/s | "
            f"{mb_s(r.size, pln):>7.1f} MB/s | {mb_s(r.size, raw):>11.1f} MB/s | "
            f"{pln / enc:>8.1%} | {net_ratio} | {r.portal_peak_kib / 1024:>8.1f} MiB | "
            f"{r.drain_peak_kib / 1024:>7.1f} MiB"
        )
    print(
        f"\nfixed cost of one report without a file (Argon2id receipt, database): "
        f"{min(r.fixed.wall for r in results) * 1000:.0f} ms"
    )
    print("enc/plain* = the same ratio with that fixed cost subtracted from the upload time")
    r = results[-1]
    size = r.size
    print(f"\n{size // MiB} MiB, every run (MB/s):")
    for label, runs in (
        ("encrypted upload", r.encrypted),
        ("plain read", r.plain),
        ("read + encrypt only", r.read_encrypt),
        ("blob store write only", r.disk),
    ):
        print(f"  {label + ':':<23} " + ", ".join(f"{mb_s(size, run.wall):.0f}" for run in runs))
    print(
        "  (read + encrypt only: the drain handing its reads to crypto.stream on a worker\n"
        "   thread, no parsing, no disk: the bound for one secretstream per file here;\n"
        "   blob store write only: core.blobs storing as many bytes, O_DIRECT + fsync, no\n"
        "   network, no crypto: the bound the disk puts on an upload that keeps its file)"
    )
    enc, pln = median(r.encrypted), median(r.plain)
    print(f"encrypted upload / blob store write only: {median(r.disk) / enc:.1%} of medians")
    print(
        f"read + encrypt only / plain read: {pln / median(r.read_encrypt):.1%} of medians; "
        f"encrypted upload / read + encrypt only: {median(r.read_encrypt) / enc:.1%}"
    )
    ratios = sorted(p.wall / e.wall for e, p in zip(r.encrypted, r.plain, strict=True))
    print(
        f"encrypted/plain throughput, {size // MiB} MiB: {pln / enc:.1%} of medians; "
        f"pairwise {ratios[0]:.0%}..{ratios[-1]:.0%} (aim >= 75 %)"
    )


def print_cpu_bound(r: SizeResult) -> None:
    """CPU seconds per GiB of each path, and what they allow on this machine's cores.

    Wall times swing with the machine's load; CPU seconds per byte much less. An upload
    cannot do less work than the plain read (client and server), one secretstream over the
    file and the blob store's writes; on `cores` cores, even with every core busy all the
    time, it cannot go faster than that work divided by the cores. If that ceiling is below
    75 % of the plain read, no scheduling of the same work reaches the aim here."""
    cores = len(os.sched_getaffinity(0))
    per_gib = GiB / r.size
    print(f"\n{r.size // MiB} MiB, CPU seconds per GiB (medians; client = this process, "
          f"server = the gunicorn worker, all threads):")
    rows = (
        ("plain read", r.plain),
        ("encrypted upload", r.encrypted),
        ("read + encrypt only", r.read_encrypt),
    )
    for label, runs in rows:
        print(
            f"  {label + ':':<23} client {median(runs, 'client_cpu') * per_gib:5.2f} + server "
            f"{median(runs, 'server_cpu') * per_gib:5.2f} = {median(runs, 'cpu') * per_gib:5.2f}"
        )
    print(
        f"  {'one report, no file:':<23} client {r.fixed.client_cpu:5.2f} + server "
        f"{r.fixed.server_cpu:5.2f} = {r.fixed.cpu:5.2f} (per report, not per GiB)"
    )
    encrypt_cpu, disk_cpu = median(r.raw, "cpu"), median(r.disk, "cpu")
    print(f"  {'secretstream alone:':<23} {encrypt_cpu * per_gib:5.2f}")
    print(f"  {'blob store write alone:':<23} {disk_cpu * per_gib:5.2f}")
    plain_rate = mb_s(r.size, median(r.plain))
    floor = median(r.plain, "cpu") + encrypt_cpu + disk_cpu
    for label, cpu in (("the portal's own work", median(r.encrypted, "cpu")),
                       ("only the work no upload can skip", floor)):
        ceiling = mb_s(r.size, cpu / cores)
        print(
            f"  on {cores} cores, {label} allows at most {ceiling:.0f} MB/s: "
            f"{ceiling / plain_rate:.0%} of the plain read's median (aim >= 75 %)"
        )
