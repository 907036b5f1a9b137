"""File streams refuse a wrong key, tampering, truncation, reordering, splicing and trailing
data."""

import os

import pytest
from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_TAG_PUSH,
)

from crypto.errors import DecryptionError, StreamError
from crypto.keys import new_key
from crypto.stream import (
    ABYTES,
    CHUNK_SIZE,
    HEADER_BYTES,
    StreamEncryptor,
    decrypt_stream,
)
from tests.crypto.stream_formats import Fmt
from tests.crypto.test_stream import (
    _peak_traced,
    _raw_stream,
    decrypt,
    encrypt,
)


def test_wrong_key() -> None:
    ct = encrypt(b"secret file")
    with pytest.raises(StreamError):
        decrypt(ct, new_key())


@pytest.mark.parametrize("chunks", [0, 0.001, 2.001])
def test_tampering_each_position(fmt: Fmt, chunks: float) -> None:
    size = int(chunks * fmt.chunk)
    ct = fmt.encrypt(os.urandom(size))
    positions = {0, HEADER_BYTES - 1, HEADER_BYTES, HEADER_BYTES + 1, len(ct) - 1, len(ct) - 17}
    if size > fmt.chunk:
        positions |= {HEADER_BYTES + fmt.ct_chunk - 1, HEADER_BYTES + fmt.ct_chunk + 100}
    for pos in sorted(positions):
        bad = bytearray(ct)
        bad[pos] ^= 0x01
        with pytest.raises(StreamError):
            fmt.decrypt(bytes(bad))


def test_stream_error_is_a_decryption_error() -> None:
    with pytest.raises(DecryptionError):
        decrypt(b"")


def test_truncation_drop_final_chunk(fmt: Fmt) -> None:
    for size in (0, 10, fmt.chunk, 2 * fmt.chunk + 10):
        chunks = fmt.ct_chunks(fmt.encrypt(os.urandom(size)))
        with pytest.raises(StreamError, match="truncated"):
            fmt.decrypt(chunks[:-1])


def test_truncation_mid_chunk(fmt: Fmt) -> None:
    ct = fmt.encrypt(os.urandom(2 * fmt.chunk + 10))
    for cut in (
        HEADER_BYTES + 1,
        HEADER_BYTES + fmt.ct_chunk // 2,
        HEADER_BYTES + fmt.ct_chunk - 1,
        HEADER_BYTES + fmt.ct_chunk + 5,
        len(ct) - 1,
        len(ct) - 17,
    ):
        with pytest.raises(StreamError):
            fmt.decrypt(ct[:cut])


@pytest.mark.parametrize("cut", [0, 1, HEADER_BYTES - 1], ids=["empty", "1", "23"])
def test_bad_or_missing_header(cut: int) -> None:
    ct = encrypt(b"data")
    with pytest.raises(StreamError):
        decrypt(ct[:cut])


def test_header_only_is_truncated() -> None:
    ct = encrypt(b"data")
    with pytest.raises(StreamError, match="truncated"):
        decrypt(ct[:HEADER_BYTES])


def test_foreign_header() -> None:
    ct = encrypt(b"data")
    other = encrypt(b"data")
    with pytest.raises(StreamError):
        decrypt(other[:HEADER_BYTES] + ct[HEADER_BYTES:])


def test_reordered_chunks(fmt: Fmt) -> None:
    chunks = fmt.ct_chunks(fmt.encrypt(os.urandom(3 * fmt.chunk + 5)))
    header, body = chunks[0], chunks[1:]
    for order in ([1, 0, 2, 3], [0, 2, 1, 3], [0, 1, 3, 2], [0, 0, 1, 2, 3], [0, 1, 2, 2, 3]):
        with pytest.raises(StreamError):
            fmt.decrypt([header] + [body[i] for i in order])


def test_chunks_from_another_stream(fmt: Fmt) -> None:
    a = fmt.ct_chunks(fmt.encrypt(os.urandom(2 * fmt.chunk)))
    b = fmt.ct_chunks(fmt.encrypt(os.urandom(2 * fmt.chunk)))
    with pytest.raises(StreamError):
        fmt.decrypt([a[0], a[1], b[2], a[3]])


@pytest.mark.parametrize("garbage", ["nul", "tag", "chunk", "chunk+1"])
def test_trailing_garbage(fmt: Fmt, garbage: str) -> None:
    junk = {
        "nul": b"\x00",
        "tag": b"x" * ABYTES,
        "chunk": b"y" * fmt.ct_chunk,
        "chunk+1": b"z" * (fmt.ct_chunk + 1),
    }[garbage]
    for size in (0, 5, fmt.chunk):
        ct = fmt.encrypt(os.urandom(size))
        with pytest.raises(StreamError):
            fmt.decrypt(ct + junk)
        with pytest.raises(StreamError):
            fmt.decrypt(fmt.ct_chunks(ct) + [junk])


def test_trailing_second_stream() -> None:
    with pytest.raises(StreamError):
        decrypt(encrypt(b"one") + encrypt(b"two"))


def test_full_size_final_chunk_then_data_rejected(fmt: Fmt) -> None:
    final = crypto_secretstream_xchacha20poly1305_TAG_FINAL
    full = bytes(fmt.chunk)
    assert fmt.decrypt(_raw_stream([(full, final)])) == full  # authentic, if unusual
    with pytest.raises(StreamError):
        fmt.decrypt(_raw_stream([(full, final), (b"x", final)]))


def test_unexpected_tags_rejected() -> None:
    with pytest.raises(StreamError):
        decrypt(_raw_stream([(b"x", crypto_secretstream_xchacha20poly1305_TAG_PUSH)]))


def test_bad_key_length() -> None:
    with pytest.raises(ValueError):
        StreamEncryptor(bytes(16))
    with pytest.raises(ValueError):
        list(decrypt_stream(bytes(16), [b""]))


def test_memory_stays_constant() -> None:
    small = _peak_traced(2 * 1024 * 1024)
    large = _peak_traced(32 * 1024 * 1024)
    # The whole encrypt -> re-split -> decrypt pipeline, test source included, holds a handful
    # of chunks (source block, encryptor buffer and output, decryptor buffer and output)...
    assert large < 8 * CHUNK_SIZE, large
    # ...and that does not grow with the size of the stream.
    assert large < small + CHUNK_SIZE, (small, large)

