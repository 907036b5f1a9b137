"""A zip archive written while it is sent: each member's bytes go out as they are produced,
so an archive of large decrypted files never sits whole in memory, nor on disk.

zipfile writes to a stream it cannot seek (it then follows each member with a data
descriptor holding its CRC and sizes); `_Sink` is that stream, handing on what was written
since the last time it was asked.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ZipMember:
    """One file of the archive: its path inside it, how to produce its bytes (called when
    its turn comes), its size if known, and whether to deflate it (attachments are usually
    compressed already: stored as they are)."""

    name: str
    chunks: Callable[[], Iterable[bytes]]
    size: int | None = None
    compress: bool = False


class _Sink:
    """A write-only, unseekable file object that keeps what zipfile writes until taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the bytes wait for `take`."""

    def close(self) -> None:
        """Nothing to close: what is left is taken after the archive ends."""

    def take(self) -> bytes:
        """Everything written since the last call."""
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def zip_chunks(members: Iterable[ZipMember], *, day: date) -> Iterator[bytes]:
    """The archive's bytes, member after member, each dated `day` (no time of day). A
    member's producer that raises ends the archive there (the response is cut short: a
    broken download rather than a file that looks whole)."""
    sink = _Sink()
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as archive:
        for member in members:
            info = zipfile.ZipInfo(member.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED if member.compress else zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16  # a regular file, readable by its owner only
            if member.size is not None:
                info.file_size = member.size  # zipfile chooses ZIP64 from it
            with archive.open(info, mode="w", force_zip64=member.size is None) as target:
                for chunk in member.chunks():
                    target.write(chunk)
                    if (data := sink.take()):
                        yield data
            if (data := sink.take()):
                yield data
    yield sink.take()
