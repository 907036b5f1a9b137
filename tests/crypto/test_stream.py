import json
import os
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
)

from crypto.errors import StreamError
from crypto.stream import (
    ABYTES,
    CHUNK_SIZE,
    CHUNK_SIZES,
    HEADER_BYTES,
    STREAM_VERSION,
    StreamDecryptor,
    StreamEncryptor,
    chunk_size,
    decrypt_stream,
    encrypt_stream,
    encrypted_size,
)
from tests.crypto.stream_formats import KEY, Fmt

VECTORS = json.loads((Path(__file__).parent / "vectors" / "stream.json").read_text("utf-8"))


CURRENT = Fmt(STREAM_VERSION)
CT_CHUNK = CHUNK_SIZE + ABYTES


def pattern(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


def random_splits(data: bytes, rng: random.Random, max_piece: int) -> list[bytes]:
    pieces, pos = [], 0
    while pos < len(data):
        step = rng.randint(1, max_piece)
        pieces.append(data[pos : pos + step])
        pos += step
    return pieces


def encrypt(data: bytes, key: bytes = KEY) -> bytes:
    return CURRENT.encrypt(data, key)


def decrypt(ct: bytes | list[bytes], key: bytes = KEY) -> bytes:
    return CURRENT.decrypt(ct, key)


# ---- known answers


# These vectors were written in format 1 (64 KiB chunks), before format 2 existed.
V1 = Fmt(1)


@pytest.mark.parametrize(
    "v", VECTORS["decrypt_stream"], ids=lambda v: str(v["plaintext_pattern_length"])
)
def test_known_answers_format_1(v: dict) -> None:
    ct = bytes.fromhex(v["ciphertext"])
    n = v["plaintext_pattern_length"]
    key = bytes.fromhex(v["key"])
    assert len(ct) == encrypted_size(n, version=1)
    assert V1.decrypt(ct, key) == pattern(n)
    rng = random.Random(n)
    assert V1.decrypt(random_splits(ct, rng, 5000), key) == pattern(n)


def test_format_1_vector_spanning_two_chunks_fails_as_format_2() -> None:
    """The version matters: read with the wrong chunk size, a stream fails authentication."""
    v = next(v for v in VECTORS["decrypt_stream"] if v["plaintext_pattern_length"] > 65536)
    with pytest.raises(StreamError):
        Fmt(2).decrypt(bytes.fromhex(v["ciphertext"]), bytes.fromhex(v["key"]))


def test_current_format_layout_matches_raw_libsodium() -> None:
    """Format 2 pinned against the primitive: a 24-byte header, then MESSAGE chunks of
    exactly 1 MiB + 17 bytes, then a FINAL chunk, opened with the raw bindings."""
    assert STREAM_VERSION == 2
    assert CHUNK_SIZE == chunk_size(2) == 1024 * 1024
    data = os.urandom(2 * CHUNK_SIZE + 5)
    ct = encrypt(data)
    state = crypto_secretstream_xchacha20poly1305_state()
    crypto_secretstream_xchacha20poly1305_init_pull(state, ct[:HEADER_BYTES], KEY)
    pos, out, tags = HEADER_BYTES, [], []
    for length in (CT_CHUNK, CT_CHUNK, 5 + ABYTES):
        plain, tag = crypto_secretstream_xchacha20poly1305_pull(state, ct[pos : pos + length])
        out.append(plain)
        tags.append(tag)
        pos += length
    assert pos == len(ct)
    assert b"".join(out) == data
    message = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
    assert tags == [message, message, crypto_secretstream_xchacha20poly1305_TAG_FINAL]


@pytest.mark.parametrize("version", [0, 3, -1, None, "2"])
def test_unknown_versions_are_refused(version: object) -> None:
    with pytest.raises(StreamError, match="version"):
        StreamEncryptor(KEY, version=version)  # type: ignore[arg-type]
    with pytest.raises(StreamError, match="version"):
        list(decrypt_stream(KEY, [encrypt(b"x")], version=version))  # type: ignore[arg-type]
    with pytest.raises(StreamError, match="version"):
        encrypted_size(1, version=version)  # type: ignore[arg-type]


# ---- round trips


def test_round_trip_random_splits(fmt: Fmt) -> None:
    for size in fmt.sizes:
        rng = random.Random(size)
        data = os.urandom(size)
        c = fmt.chunk
        for max_piece in (1 if size < 300 else 9973, 65_536, c + 7, 3 * c):
            pieces = random_splits(data, rng, max_piece)
            ct_out = list(encrypt_stream(KEY, pieces, version=fmt.version))
            ct = b"".join(ct_out)
            assert len(ct) == encrypted_size(size, version=fmt.version)
            assert len(ct_out[0]) == HEADER_BYTES
            # Every chunk but the last is full-size; the last is short (possibly just a tag).
            chunks = fmt.ct_chunks(ct)[1:]
            assert len(chunks) == size // c + 1
            assert all(len(ch) == fmt.ct_chunk for ch in chunks[:-1])
            assert len(chunks[-1]) == size % c + ABYTES
            for dec_max in (1 if size < 300 else 10_007, 17, fmt.ct_chunk, 2 * fmt.ct_chunk + 3):
                assert fmt.decrypt(random_splits(ct, rng, dec_max)) == data


def test_encrypted_size(fmt: Fmt) -> None:
    for size in fmt.sizes:
        assert encrypted_size(size, version=fmt.version) == len(fmt.encrypt(bytes(size)))


def test_encrypted_size_formula(fmt: Fmt) -> None:
    assert encrypted_size(0, version=fmt.version) == HEADER_BYTES + ABYTES
    assert encrypted_size(fmt.chunk, version=fmt.version) == (
        HEADER_BYTES + fmt.chunk + 2 * ABYTES
    )
    assert encrypted_size(CHUNK_SIZE) == HEADER_BYTES + CHUNK_SIZE + 2 * ABYTES
    with pytest.raises(ValueError):
        encrypted_size(-1)


def test_encryptor_update_outputs_only_complete_chunks(fmt: Fmt) -> None:
    enc = StreamEncryptor(KEY, version=fmt.version)
    assert enc.version == fmt.version
    c = fmt.chunk
    assert len(enc.header) == HEADER_BYTES
    assert enc.update(b"a" * (c - 1)) == b""
    assert len(enc.update(b"a")) == fmt.ct_chunk
    assert len(enc.update(bytearray(2 * c + 3))) == 2 * fmt.ct_chunk
    assert len(enc.update(memoryview(b"b" * 10))) == 0
    assert len(enc.finalize()) == 13 + ABYTES
    with pytest.raises(ValueError):
        enc.update(b"x")
    with pytest.raises(ValueError):
        enc.finalize()


def test_accepts_bytearray_and_memoryview(fmt: Fmt) -> None:
    data = os.urandom(2 * fmt.chunk + 100)
    enc = StreamEncryptor(KEY, version=fmt.version)
    parts = [enc.header, enc.update(bytearray(data[:1000])), enc.update(memoryview(data)[1000:])]
    ct = b"".join(parts) + enc.finalize()
    dec = StreamDecryptor(KEY, version=fmt.version)
    out = dec.update(memoryview(ct)[:5000]) + dec.update(bytearray(ct[5000:])) + dec.finalize()
    assert out == data


def test_decrypt_yields_chunk_by_chunk(fmt: Fmt) -> None:
    data = os.urandom(3 * fmt.chunk + 5)
    out = list(decrypt_stream(KEY, fmt.ct_chunks(fmt.encrypt(data)), version=fmt.version))
    assert [len(p) for p in out] == [fmt.chunk] * 3 + [5]


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3 * CHUNK_SIZES[1]), st.randoms(use_true_random=False))
def test_round_trip_property(data: bytes, rng: random.Random) -> None:
    for version in CHUNK_SIZES:
        c = CHUNK_SIZES[version]
        pieces = random_splits(data, rng, rng.choice([1000, c, 4 * c]))
        ct = b"".join(encrypt_stream(KEY, pieces, version=version))
        split = random_splits(ct, rng, rng.choice([50, 10000, 200000]))
        assert b"".join(decrypt_stream(KEY, split, version=version)) == data


# ---- negative cases


def _raw_stream(messages: list[tuple[bytes, int]]) -> bytes:
    state = crypto_secretstream_xchacha20poly1305_state()
    out = [crypto_secretstream_xchacha20poly1305_init_push(state, KEY)]
    out += [crypto_secretstream_xchacha20poly1305_push(state, m, None, t) for m, t in messages]
    return b"".join(out)


# ---- constant memory


def _plaintext_source(total: int) -> Iterator[bytes]:
    block = os.urandom(CHUNK_SIZE)
    # Odd piece sizes so the encryptor has to re-chunk.
    piece = 10_000
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        yield block[:n]
        sent += n


def _rechunk(source: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Split a ciphertext stream into odd-sized pieces without holding more than one."""
    for piece in source:
        view = memoryview(piece)
        for i in range(0, len(view), size):
            yield bytes(view[i : i + size])


def _peak_traced(total: int) -> int:
    tracemalloc.start()
    try:
        ciphertext = _rechunk(encrypt_stream(KEY, _plaintext_source(total)), 50_001)
        seen = 0
        for plain in decrypt_stream(KEY, ciphertext):
            seen += len(plain)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == total
    return peak
