"""Leak scanning shared by the canary tests: the byte forms a string may take on disk, scans of
bytes and files, the receipt needles, and the raw database bytes (SQLite files or a pg_dump).

Needles are ``{label: value}``; a hit names the label and the form it was found in."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from crypto.receipt import format_receipt, normalise_receipt

#: Where pg_dump is expected when it is not on PATH.
PG_DUMP = "/usr/bin/pg_dump"


# --- scanning ---------------------------------------------------------------------------------


def byte_forms(value: str) -> dict[str, bytes]:
    """Byte patterns under which a string could sit in a file or a dump."""
    raw = value.encode("utf-8")
    return {
        "utf-8": raw,
        "utf-16-le": value.encode("utf-16-le"),
        "utf-16-be": value.encode("utf-16-be"),
        "hex": raw.hex().encode("ascii"),
        "HEX": raw.hex().upper().encode("ascii"),
    }


def scan_bytes(data: bytes, needles: dict[str, str]) -> set[tuple[str, str]]:
    """Every ``(label, form)`` of *needles* found in *data*."""
    return {
        (label, form)
        for label, value in needles.items()
        for form, pattern in byte_forms(value).items()
        if pattern in data
    }


def scan_files(paths: list[Path], needles: dict[str, str]) -> list[tuple[str, str, str]]:
    """Every ``(path, label, form)`` of *needles* found in the files at *paths*, sorted."""
    return sorted(
        (str(path), label, form)
        for path in paths
        for label, form in scan_bytes(path.read_bytes(), needles)
    )


def files_under(root: Path) -> list[Path]:
    """All regular files below *root*, recursively, sorted."""
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- what to look for -------------------------------------------------------------------------


def repeated(value: str, size: int) -> bytes:
    """At least *size* bytes: *value* and a newline, repeated (canary file contents)."""
    unit = (value + "\n").encode("utf-8")
    return unit * (size // len(unit) + 1)


def receipt_needles(codes: list[str]) -> dict[str, str]:
    """Needles for receipt codes (canonical or as shown): canonical, spaced and dashed forms."""
    needles = {}
    for i, code in enumerate(codes):
        canonical = normalise_receipt(code)
        spaced = format_receipt(canonical)
        needles[f"receipt{i}"] = canonical
        needles[f"receipt{i}-spaced"] = spaced
        needles[f"receipt{i}-dashed"] = spaced.replace(" ", "-")
        if code not in (canonical, spaced):
            needles[f"receipt{i}-as-given"] = code
    return needles


# --- the raw database -------------------------------------------------------------------------


def sqlite_files(database_url: str) -> list[Path]:
    """The SQLite database file and whichever of its WAL, SHM and journal files exist."""
    db = Path(make_url(database_url).database or "")
    suffixes = ("", "-wal", "-shm", "-journal")
    return [p for p in (Path(f"{db}{s}") for s in suffixes) if p.exists()]


def _major(version_text: str) -> int:
    """Major version from `pg_dump --version`, e.g. "pg_dump (PostgreSQL) 15.20 (Debian ...)"."""
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", version_text)
    if not match:
        pytest.fail(f"cannot read the pg_dump version from {version_text!r}")
    return int(match.group(1))


def pg_dump(database_url: str, out: Path, engine: Engine) -> bytes:
    """A full plain-text dump of the test database into *out*, returned as bytes.

    Fails the test (also outside CI) if pg_dump is missing, older than the server, or fails.
    """
    executable = shutil.which("pg_dump") or PG_DUMP
    if not Path(executable).exists():
        pytest.fail(f"pg_dump not found (expected {PG_DUMP})")
    client = subprocess.run([executable, "--version"], capture_output=True, text=True, check=False)
    with engine.connect() as conn:
        server_num = int(conn.exec_driver_sql("show server_version_num").scalar_one())
    client_major, server_major = _major(client.stdout), server_num // 10000
    if client_major < server_major:
        pytest.fail(
            f"pg_dump {client.stdout.strip()} is older than the server "
            f"(major {server_major}); install the matching client"
        )
    url = make_url(database_url)
    result = subprocess.run(
        [
            executable,
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            "-d",
            url.database or "",
            "--no-owner",
            "--no-sync",
            "--no-password",
            "-f",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"pg_dump failed ({result.returncode}): {result.stderr.strip()}")
    return out.read_bytes()


def database_bytes(database_url: str, engine: Engine, out: Path) -> bytes:
    """The raw database: SQLite file + WAL + SHM (+ journal), or a pg_dump of it into *out*.

    On PostgreSQL the engine's pooled connections are closed before the dump.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        parts = sqlite_files(database_url)
        assert Path(url.database or "") in parts
        return b"".join(p.read_bytes() for p in parts)
    engine.dispose()
    return pg_dump(database_url, out, engine)
