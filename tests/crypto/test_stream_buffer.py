"""The stream's chunk buffer and the wrapped-key parameter caps, at their edges.

Mutation testing found these unpinned: the buffer's no-copy path could have taken a piece
while a byte was waiting (only when exactly one byte was), its reset after the last chunk
could have left a count behind, and the caps on stored KDF parameters could have refused
the largest accepted values.
"""

from __future__ import annotations

import struct

import pytest

from crypto.errors import KeyFormatError
from crypto.kdf import KdfProfile
from crypto.reviewer_keys import wrapped_key_profile
from crypto.stream import StreamDecryptor, StreamEncryptor, _Rechunker

SIZE = 8


def test_an_aligned_bytes_piece_is_passed_on_uncopied() -> None:
    data = bytes(range(SIZE))
    seen: list[bytes] = []
    _Rechunker(SIZE).feed(data, lambda chunk: seen.append(chunk) or chunk)
    assert seen == [data] and seen[0] is data  # 1 MiB chunks are not copied for nothing


@pytest.mark.parametrize("waiting", [1, 2, SIZE - 1])
def test_a_full_piece_after_waiting_bytes_completes_their_chunk_first(waiting: int) -> None:
    buffer = _Rechunker(SIZE)
    head = b"w" * waiting
    piece = bytes(range(SIZE))
    assert buffer.feed(head, bytes) == []
    chunks = buffer.feed(piece, bytes)
    assert chunks == [head + piece[: SIZE - waiting]]
    assert buffer.pending == waiting and buffer.take_rest() == piece[SIZE - waiting :]


def test_take_rest_empties_the_buffer() -> None:
    buffer = _Rechunker(SIZE)
    buffer.feed(b"abc", bytes)
    assert buffer.take_rest() == b"abc"
    assert buffer.pending == 0 and buffer.take_rest() == b""


@pytest.mark.parametrize("stream_class", [StreamEncryptor, StreamDecryptor])
def test_stream_keys_must_be_32_bytes(stream_class: type) -> None:
    with pytest.raises(ValueError) as raised:
        stream_class(bytes(31))
    assert str(raised.value) == "key must be exactly 32 bytes, got 31"


def _blob(time_cost: int, memory_kib: int, parallelism: int) -> bytes:
    header = struct.pack(">BIII", 1, time_cost, memory_kib, parallelism)
    return header + bytes(16) + bytes(24 + 16 + 32)


def test_the_largest_stored_kdf_parameters_are_accepted() -> None:
    """64 passes, 64 lanes and 4 GiB are the caps: a blob at them parses, one over does not."""
    top = 4 * 1024 * 1024
    assert wrapped_key_profile(_blob(64, top, 64)) == KdfProfile(64, top, 64)
    for over in (_blob(65, top, 1), _blob(1, top + 1, 1), _blob(1, top, 65)):
        with pytest.raises(KeyFormatError, match="unacceptable"):
            wrapped_key_profile(over)
