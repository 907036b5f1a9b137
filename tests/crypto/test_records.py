import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt

from crypto.errors import DecryptionError
from crypto.keys import new_key
from crypto.padding import MIN_BUCKET, pad, unpad
from crypto.records import decrypt_record, encrypt_record, padded_length

VECTORS = json.loads((Path(__file__).parent / "vectors" / "records.json").read_text("utf-8"))
KEY = bytes(range(32))
CTX = b"case:42:report"


@pytest.mark.parametrize("v", VECTORS["decrypt_record"])
def test_decrypt_known_answers(v: dict) -> None:
    plaintext = decrypt_record(
        bytes.fromhex(v["key"]), bytes.fromhex(v["ciphertext"]), bytes.fromhex(v["context"])
    )
    assert plaintext.hex() == v["plaintext"]


@pytest.mark.parametrize("n,expected", sorted(VECTORS["padded_length"].items()))
def test_padded_length_known_answers(n: str, expected: int) -> None:
    assert padded_length(int(n)) == expected


def test_round_trip_and_fresh_nonce() -> None:
    a = encrypt_record(KEY, b"report", CTX)
    b = encrypt_record(KEY, b"report", CTX)
    assert a != b
    assert decrypt_record(KEY, a, CTX) == decrypt_record(KEY, b, CTX) == b"report"


def test_short_records_look_alike() -> None:
    lengths = {len(encrypt_record(KEY, b"x" * n, CTX)) for n in range(0, MIN_BUCKET)}
    assert lengths == {24 + MIN_BUCKET + 16}


def test_wrong_key_and_context() -> None:
    ct = encrypt_record(KEY, b"report", CTX)
    with pytest.raises(DecryptionError):
        decrypt_record(new_key(), ct, CTX)
    for ctx in (b"case:42:message", b"case:43:report", b"", CTX + b"\x00"):
        with pytest.raises(DecryptionError):
            decrypt_record(KEY, ct, ctx)


def test_tampering_each_region() -> None:
    ct = encrypt_record(KEY, b"a confidential report", CTX)
    # Nonce, first ciphertext byte, padding area, tag.
    for pos in (0, 12, 23, 24, 25, 100, len(ct) - 17, len(ct) - 16, len(ct) - 1):
        bad = bytearray(ct)
        bad[pos] ^= 0x01
        with pytest.raises(DecryptionError):
            decrypt_record(KEY, bytes(bad), CTX)
    for cut in (b"", ct[:24], ct[:39], ct[:-1], ct + b"\x00"):
        with pytest.raises(DecryptionError):
            decrypt_record(KEY, cut, CTX)


def _raw_encrypt(padded: bytes) -> bytes:
    nonce = bytes(24)
    return nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(padded, CTX, nonce, KEY)


@pytest.mark.parametrize(
    "padded",
    [
        b"hello" + b"\x80" + bytes(250),  # right bucket, correct padding: accepted
        b"hello",  # no padding at all
        b"hello" + bytes(251),  # no 0x80 marker
        b"hello" + b"\x80" + bytes(5000),  # too big a bucket for the content
        b"hello" + b"\x80" + bytes(100),  # not a bucket size
    ],
    ids=["ok", "unpadded", "no-marker", "oversized", "odd-size"],
)
def test_padding_is_checked_after_authentication(padded: bytes) -> None:
    ct = _raw_encrypt(padded)
    if len(padded) == 256 and padded[5] == 0x80:
        assert decrypt_record(KEY, ct, CTX) == b"hello"
    else:
        with pytest.raises(DecryptionError):
            decrypt_record(KEY, ct, CTX)


def test_padding_overhead_bounded() -> None:
    for n in list(range(0, 5000)) + [10**5, 10**6, 2**20 - 1, 2**20, 10**7]:
        p = padded_length(n)
        assert p > n
        assert p == MIN_BUCKET or p <= (n + 1) * 9 / 8 + 1
        assert len(pad(b"\x00" * n)) == p


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_padded_length_monotone(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert padded_length(lo) <= padded_length(hi)
    assert padded_length(lo) > lo


@settings(max_examples=200)
@given(st.binary(max_size=3000), st.binary(max_size=64))
def test_round_trip_property(plaintext: bytes, context: bytes) -> None:
    ct = encrypt_record(KEY, plaintext, context)
    assert len(ct) == 24 + padded_length(len(plaintext)) + 16
    assert decrypt_record(KEY, ct, context) == plaintext


@settings(max_examples=200)
@given(st.binary(max_size=3000))
def test_pad_unpad_property(data: bytes) -> None:
    assert unpad(pad(data)) == data


def test_negative_length_rejected() -> None:
    with pytest.raises(ValueError):
        padded_length(-1)
