"""Benchmark crypto.stream against raw libsodium secretstream calls.

Usage: .venv/bin/python benches/crypto_stream.py [--quick]

1. Throughput (MB/s) of encrypting and decrypting a small and a large stream through
   crypto.stream, versus a tight loop of raw nacl.bindings push/pull over the same chunks.
   Variants are interleaved and repeated, and the best run of each is kept, because the
   machine is shared and noisy. Plaintext is produced chunk by chunk from a small pool (never
   one big buffer); output is discarded. Ciphertext for the decryption runs is produced on
   the fly by raw push calls whose time is measured and subtracted, so only decryption counts.
2. Peak RSS (VmHWM) of a child process that pipes the small and the large stream through
   encrypt_stream -> decrypt_stream: with constant memory the two should be about equal.

Prints figures only; asserts nothing. Aims: ratio >= 90 %, RSS ratio within 20 %.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nacl.bindings import (  # noqa: E402
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL,
)

from crypto.stream import CHUNK_SIZE, decrypt_stream, encrypt_stream  # noqa: E402

MiB = 1024 * 1024
KEY = bytes(range(32))
POOL = [os.urandom(CHUNK_SIZE) for _ in range(8)]
TAG_FINAL = crypto_secretstream_xchacha20poly1305_TAG_FINAL
push = crypto_secretstream_xchacha20poly1305_push
pull = crypto_secretstream_xchacha20poly1305_pull


def plaintext(size: int) -> Iterator[bytes]:
    """Yield *size* bytes of plaintext as CHUNK_SIZE pieces cycled from a small pool."""
    full, rest = divmod(size, CHUNK_SIZE)
    for i in range(full):
        yield POOL[i & 7]
    if rest:
        yield POOL[0][:rest]


UNALIGNED = 50_000  # piece size for the "unaligned" variants (not a divisor of the chunk size)
BIG_POOL = memoryview(os.urandom(4 * MiB))


def plaintext_unaligned(size: int) -> Iterator[memoryview]:
    """Yield *size* bytes as UNALIGNED-byte views into a pool (no copies), like form uploads."""
    pos = 0
    while pos < size:
        n = min(UNALIGNED, size - pos)
        start = pos % (len(BIG_POOL) - UNALIGNED)
        yield BIG_POOL[start : start + n]
        pos += n


class CipherSource:
    """Raw-push ciphertext producer that records the time it spends, to subtract later.

    With *split*, each ciphertext chunk is handed out as views of at most UNALIGNED bytes.
    """

    def __init__(self, size: int, split: bool = False) -> None:
        self.size = size
        self.split = split
        self.spent = 0.0

    def __iter__(self) -> Iterator[bytes]:
        clock = time.perf_counter
        t0 = clock()
        state = crypto_secretstream_xchacha20poly1305_state()
        header = crypto_secretstream_xchacha20poly1305_init_push(state, KEY)
        self.spent += clock() - t0
        yield header
        for chunk in plaintext(self.size):
            t0 = clock()
            out = push(state, chunk)
            self.spent += clock() - t0
            if self.split:
                view = memoryview(out)
                for i in range(0, len(view), UNALIGNED):
                    yield view[i : i + UNALIGNED]  # type: ignore[misc]
            else:
                yield out
        t0 = clock()
        out = push(state, b"", None, TAG_FINAL)
        self.spent += clock() - t0
        yield out


def raw_encrypt(size: int) -> float:
    t0 = time.perf_counter()
    state = crypto_secretstream_xchacha20poly1305_state()
    crypto_secretstream_xchacha20poly1305_init_push(state, KEY)
    for chunk in plaintext(size):
        push(state, chunk)
    push(state, b"", None, TAG_FINAL)
    return time.perf_counter() - t0


def ours_encrypt(size: int) -> float:
    t0 = time.perf_counter()
    for _ in encrypt_stream(KEY, plaintext(size)):
        pass
    return time.perf_counter() - t0


def ours_encrypt_unaligned(size: int) -> float:
    t0 = time.perf_counter()
    for _ in encrypt_stream(KEY, plaintext_unaligned(size)):  # type: ignore[arg-type]
        pass
    return time.perf_counter() - t0


def raw_decrypt(size: int) -> float:
    source = CipherSource(size)
    t0 = time.perf_counter()
    chunks = iter(source)
    state = crypto_secretstream_xchacha20poly1305_state()
    crypto_secretstream_xchacha20poly1305_init_pull(state, next(chunks), KEY)
    for chunk in chunks:
        pull(state, chunk)
    return time.perf_counter() - t0 - source.spent


def ours_decrypt(size: int) -> float:
    source = CipherSource(size)
    t0 = time.perf_counter()
    for _ in decrypt_stream(KEY, source):
        pass
    return time.perf_counter() - t0 - source.spent


def ours_decrypt_unaligned(size: int) -> float:
    source = CipherSource(size, split=True)
    t0 = time.perf_counter()
    for _ in decrypt_stream(KEY, source):
        pass
    return time.perf_counter() - t0 - source.spent


def throughput(size: int, rounds: int) -> None:
    variants: dict[str, Callable[[int], float]] = {
        "raw encrypt": raw_encrypt,
        "crypto.stream encrypt": ours_encrypt,
        "  unaligned input": ours_encrypt_unaligned,
        "raw decrypt": raw_decrypt,
        "crypto.stream decrypt": ours_decrypt,
        "  unaligned input ": ours_decrypt_unaligned,
    }
    best = dict.fromkeys(variants, float("inf"))
    names = list(variants)
    for r in range(rounds):
        # Alternate the order so neither side always runs on a warmer or quieter machine.
        for name in names if r % 2 == 0 else names[::-1]:
            best[name] = min(best[name], variants[name](size))
    mbps = {name: size / t / 1e6 for name, t in best.items()}
    print(f"\n{size // MiB} MiB stream, best of {rounds}:")
    for name in names:
        print(f"  {name:<24}{mbps[name]:9.0f} MB/s")
    for op, unaligned in (("encrypt", "  unaligned input"), ("decrypt", "  unaligned input ")):
        ratio = mbps[f"crypto.stream {op}"] / mbps[f"raw {op}"]
        ratio_u = mbps[unaligned] / mbps[f"raw {op}"]
        print(
            f"  {op} ratio crypto.stream / raw: {ratio:6.1%}"
            f"   (unaligned {UNALIGNED}-byte pieces: {ratio_u:6.1%})"
        )


def child_memory(size: int) -> None:
    """Run in a subprocess: pipe *size* bytes through encrypt -> decrypt, print peak RSS."""
    seen = 0
    for piece in decrypt_stream(KEY, encrypt_stream(KEY, plaintext(size))):
        seen += len(piece)
    assert seen == size
    print(peak_rss_kib())


def peak_rss_kib() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource  # fallback for systems without /proc (ru_maxrss is KiB on Linux)

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def memory(sizes: list[int]) -> None:
    print("\nPeak RSS of a child piping the stream through encrypt -> decrypt:")
    peaks = []
    for size in sizes:
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--child-memory", str(size)],
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - t0
        peaks.append(int(out.stdout.strip()))
        print(f"  {size // MiB:>5} MiB: {peaks[-1] / 1024:7.1f} MiB peak RSS  ({elapsed:.1f} s)")
    print(f"  ratio large / small: {peaks[-1] / peaks[0]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 MiB vs 200 MiB, fewer rounds")
    parser.add_argument("--child-memory", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory is not None:
        child_memory(args.child_memory)
        return
    small, large = 10 * MiB, (200 if args.quick else 1024) * MiB
    print(f"chunk size {CHUNK_SIZE // 1024} KiB; MB = 10^6 bytes")
    start = time.perf_counter()
    throughput(small, 10 if args.quick else 20)
    throughput(large, 2 if args.quick else 4)
    memory([small, large])
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
