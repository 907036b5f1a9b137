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
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_TAG_PUSH,
)

from crypto.errors import DecryptionError, StreamError
from crypto.keys import new_key
from crypto.stream import (
    ABYTES,
    CHUNK_SIZE,
    HEADER_BYTES,
    StreamDecryptor,
    StreamEncryptor,
    decrypt_stream,
    encrypt_stream,
    encrypted_size,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "stream.json").read_text("utf-8"))
KEY = bytes(range(32))
CT_CHUNK = CHUNK_SIZE + ABYTES
SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5]


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
    return b"".join(encrypt_stream(key, [data]))


def decrypt(ct: bytes | list[bytes], key: bytes = KEY) -> bytes:
    return b"".join(decrypt_stream(key, [ct] if isinstance(ct, bytes) else ct))


def ct_chunks(ct: bytes) -> list[bytes]:
    """Split a ciphertext into header and chunk ciphertexts."""
    body = ct[HEADER_BYTES:]
    return [ct[:HEADER_BYTES]] + [body[i : i + CT_CHUNK] for i in range(0, len(body), CT_CHUNK)]


# ---- known answers


@pytest.mark.parametrize(
    "v", VECTORS["decrypt_stream"], ids=lambda v: str(v["plaintext_pattern_length"])
)
def test_known_answers(v: dict) -> None:
    ct = bytes.fromhex(v["ciphertext"])
    n = v["plaintext_pattern_length"]
    assert len(ct) == encrypted_size(n)
    assert decrypt(ct, bytes.fromhex(v["key"])) == pattern(n)
    rng = random.Random(n)
    assert decrypt(random_splits(ct, rng, 5000), bytes.fromhex(v["key"])) == pattern(n)


# ---- round trips


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_random_splits(size: int) -> None:
    rng = random.Random(size)
    data = os.urandom(size)
    for max_piece in (1 if size < 300 else 997, 4096, CHUNK_SIZE + 7, 3 * CHUNK_SIZE):
        pieces = random_splits(data, rng, max_piece)
        ct_out = list(encrypt_stream(KEY, pieces))
        ct = b"".join(ct_out)
        assert len(ct) == encrypted_size(size)
        assert len(ct_out[0]) == HEADER_BYTES
        # Every chunk but the last is full-size; the last is short (possibly just a tag).
        chunks = ct_chunks(ct)[1:]
        assert len(chunks) == size // CHUNK_SIZE + 1
        assert all(len(c) == CT_CHUNK for c in chunks[:-1])
        assert len(chunks[-1]) == size % CHUNK_SIZE + ABYTES
        for dec_max in (1 if size < 300 else 1013, 17, CT_CHUNK, 2 * CT_CHUNK + 3):
            assert decrypt(random_splits(ct, rng, dec_max)) == data


@pytest.mark.parametrize("size", SIZES)
def test_encrypted_size(size: int) -> None:
    assert encrypted_size(size) == len(encrypt(bytes(size)))


def test_encrypted_size_formula() -> None:
    assert encrypted_size(0) == HEADER_BYTES + ABYTES
    assert encrypted_size(CHUNK_SIZE) == HEADER_BYTES + CHUNK_SIZE + 2 * ABYTES
    with pytest.raises(ValueError):
        encrypted_size(-1)


def test_encryptor_update_outputs_only_complete_chunks() -> None:
    enc = StreamEncryptor(KEY)
    assert len(enc.header) == HEADER_BYTES
    assert enc.update(b"a" * (CHUNK_SIZE - 1)) == b""
    assert len(enc.update(b"a")) == CT_CHUNK
    assert len(enc.update(bytearray(2 * CHUNK_SIZE + 3))) == 2 * CT_CHUNK
    assert len(enc.update(memoryview(b"b" * 10))) == 0
    assert len(enc.finalize()) == 13 + ABYTES
    with pytest.raises(ValueError):
        enc.update(b"x")
    with pytest.raises(ValueError):
        enc.finalize()


def test_accepts_bytearray_and_memoryview() -> None:
    data = os.urandom(2 * CHUNK_SIZE + 100)
    enc = StreamEncryptor(KEY)
    parts = [enc.header, enc.update(bytearray(data[:1000])), enc.update(memoryview(data)[1000:])]
    ct = b"".join(parts) + enc.finalize()
    dec = StreamDecryptor(KEY)
    out = dec.update(memoryview(ct)[:5000]) + dec.update(bytearray(ct[5000:])) + dec.finalize()
    assert out == data


def test_decrypt_yields_chunk_by_chunk() -> None:
    data = os.urandom(3 * CHUNK_SIZE + 5)
    out = list(decrypt_stream(KEY, ct_chunks(encrypt(data))))
    assert [len(p) for p in out] == [CHUNK_SIZE] * 3 + [5]


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3 * CHUNK_SIZE), st.randoms(use_true_random=False))
def test_round_trip_property(data: bytes, rng: random.Random) -> None:
    pieces = random_splits(data, rng, rng.choice([1000, CHUNK_SIZE, 4 * CHUNK_SIZE]))
    ct = b"".join(encrypt_stream(KEY, pieces))
    assert decrypt(random_splits(ct, rng, rng.choice([50, 10000, 200000]))) == data


# ---- negative cases


def test_wrong_key() -> None:
    ct = encrypt(b"secret file")
    with pytest.raises(StreamError):
        decrypt(ct, new_key())


@pytest.mark.parametrize("size", [0, 100, 2 * CHUNK_SIZE + 100])
def test_tampering_each_position(size: int) -> None:
    ct = encrypt(os.urandom(size))
    positions = {0, HEADER_BYTES - 1, HEADER_BYTES, HEADER_BYTES + 1, len(ct) - 1, len(ct) - 17}
    if size > CHUNK_SIZE:
        positions |= {HEADER_BYTES + CT_CHUNK - 1, HEADER_BYTES + CT_CHUNK + 100}
    for pos in sorted(positions):
        bad = bytearray(ct)
        bad[pos] ^= 0x01
        with pytest.raises(StreamError):
            decrypt(bytes(bad))


def test_stream_error_is_a_decryption_error() -> None:
    with pytest.raises(DecryptionError):
        decrypt(b"")


@pytest.mark.parametrize("size", [0, 10, CHUNK_SIZE, 2 * CHUNK_SIZE + 10])
def test_truncation_drop_final_chunk(size: int) -> None:
    chunks = ct_chunks(encrypt(os.urandom(size)))
    with pytest.raises(StreamError, match="truncated"):
        decrypt(chunks[:-1])


def test_truncation_mid_chunk() -> None:
    ct = encrypt(os.urandom(2 * CHUNK_SIZE + 10))
    for cut in (
        HEADER_BYTES + 1,
        HEADER_BYTES + CT_CHUNK // 2,
        HEADER_BYTES + CT_CHUNK - 1,
        HEADER_BYTES + CT_CHUNK + 5,
        len(ct) - 1,
        len(ct) - 17,
    ):
        with pytest.raises(StreamError):
            decrypt(ct[:cut])


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


def test_reordered_chunks() -> None:
    chunks = ct_chunks(encrypt(os.urandom(3 * CHUNK_SIZE + 5)))
    header, body = chunks[0], chunks[1:]
    for order in ([1, 0, 2, 3], [0, 2, 1, 3], [0, 1, 3, 2], [0, 0, 1, 2, 3], [0, 1, 2, 2, 3]):
        with pytest.raises(StreamError):
            decrypt([header] + [body[i] for i in order])


def test_chunks_from_another_stream() -> None:
    a = ct_chunks(encrypt(os.urandom(2 * CHUNK_SIZE)))
    b = ct_chunks(encrypt(os.urandom(2 * CHUNK_SIZE)))
    with pytest.raises(StreamError):
        decrypt([a[0], a[1], b[2], a[3]])


@pytest.mark.parametrize("garbage", [b"\x00", b"x" * 17, b"y" * CT_CHUNK, b"z" * (CT_CHUNK + 1)])
@pytest.mark.parametrize("size", [0, 5, CHUNK_SIZE])
def test_trailing_garbage(size: int, garbage: bytes) -> None:
    ct = encrypt(os.urandom(size))
    with pytest.raises(StreamError):
        decrypt(ct + garbage)
    with pytest.raises(StreamError):
        decrypt(ct_chunks(ct) + [garbage])


def test_trailing_second_stream() -> None:
    with pytest.raises(StreamError):
        decrypt(encrypt(b"one") + encrypt(b"two"))


def _raw_stream(messages: list[tuple[bytes, int]]) -> bytes:
    state = crypto_secretstream_xchacha20poly1305_state()
    out = [crypto_secretstream_xchacha20poly1305_init_push(state, KEY)]
    out += [crypto_secretstream_xchacha20poly1305_push(state, m, None, t) for m, t in messages]
    return b"".join(out)


def test_full_size_final_chunk_then_data_rejected() -> None:
    final = crypto_secretstream_xchacha20poly1305_TAG_FINAL
    full = bytes(CHUNK_SIZE)
    assert decrypt(_raw_stream([(full, final)])) == full  # authentic, if unusual
    with pytest.raises(StreamError):
        decrypt(_raw_stream([(full, final), (b"x", final)]))


def test_unexpected_tags_rejected() -> None:
    with pytest.raises(StreamError):
        decrypt(_raw_stream([(b"x", crypto_secretstream_xchacha20poly1305_TAG_PUSH)]))


def test_bad_key_length() -> None:
    with pytest.raises(ValueError):
        StreamEncryptor(bytes(16))
    with pytest.raises(ValueError):
        list(decrypt_stream(bytes(16), [b""]))


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


def test_memory_stays_constant() -> None:
    small = _peak_traced(2 * 1024 * 1024)
    large = _peak_traced(32 * 1024 * 1024)
    # The whole encrypt -> re-split -> decrypt pipeline, test source included, holds a handful
    # of chunks (source block, encryptor buffer and output, decryptor buffer and output)...
    assert large < 8 * CHUNK_SIZE, large
    # ...and that does not grow with the size of the stream.
    assert large < small + CHUNK_SIZE, (small, large)
