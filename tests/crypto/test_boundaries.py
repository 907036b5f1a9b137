"""Boundaries of the receipt, audit-chain and signature checks, each pinned on both sides
(mutation testing found them untested: a changed `>` or length would have survived)."""

from __future__ import annotations

import pytest

from crypto.audit_chain import (
    GENESIS,
    HASH_BYTES,
    chain_hash,
    chain_head,
    leaf_hash,
    verify_chain,
)
from crypto.damm import damm_check_digit, damm_valid
from crypto.errors import (
    ChainError,
    DecryptionError,
    KeyFormatError,
    MalformedReceipt,
    SignatureError,
)
from crypto.kdf import KdfProfile
from crypto.keys import new_key, unwrap
from crypto.receipt import (
    RECEIPT_DIGITS,
    ReceiptSecrets,
    derive_receipt_secrets,
    generate_receipt,
    normalise_receipt,
)
from crypto.records import decrypt_record
from crypto.recovery import PREFIX, import_private_key
from crypto.signing import generate_signing_key, sign, verify

CHEAP = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)
SALT = bytes(16)


def test_receipt_input_cap_is_sixteen_characters_a_digit() -> None:
    code = generate_receipt()
    cap = 16 * RECEIPT_DIGITS
    padded = code + " " * (cap - len(code))
    assert len(padded) == cap and normalise_receipt(padded) == code  # at the cap: read
    with pytest.raises(MalformedReceipt, match="too long"):
        normalise_receipt(padded + " ")  # one over: refused before any normalising


@pytest.mark.parametrize("length", [16, 32, 64])
def test_pepper_lengths_accepted(length: int) -> None:
    secrets = derive_receipt_secrets(generate_receipt(), instance_salt=SALT,
                                     pepper=bytes(length), profile=CHEAP)
    assert len(secrets.lookup_id) == 32 and len(secrets.receipt_key) == 32


@pytest.mark.parametrize("length", [0, 15, 65])
def test_pepper_lengths_refused(length: int) -> None:
    with pytest.raises(ValueError, match="16 to 64"):
        derive_receipt_secrets(generate_receipt(), instance_salt=SALT, pepper=bytes(length),
                               profile=CHEAP)


def test_the_pepper_changes_the_lookup_id_only() -> None:
    code = generate_receipt()
    one = derive_receipt_secrets(code, instance_salt=SALT, pepper=bytes(16), profile=CHEAP)
    two = derive_receipt_secrets(code, instance_salt=SALT, pepper=b"\x01" * 16, profile=CHEAP)
    assert one.lookup_id != two.lookup_id and one.receipt_key == two.receipt_key


@pytest.mark.parametrize("length", [HASH_BYTES - 1, HASH_BYTES + 1, 0])
def test_chain_hashes_must_be_32_bytes(length: int) -> None:
    good = leaf_hash(b"entry")
    with pytest.raises(ValueError, match="32 bytes"):
        chain_hash(bytes(length), good)
    with pytest.raises(ValueError, match="32 bytes"):
        chain_hash(GENESIS, bytes(length))
    assert len(chain_hash(GENESIS, good)) == HASH_BYTES


def test_the_empty_chain_is_the_genesis() -> None:
    assert chain_head([]) == GENESIS
    verify_chain([], GENESIS)  # an empty log verifies against the genesis head
    with pytest.raises(ChainError):
        verify_chain([b"one"], GENESIS)


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    import hashlib

    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert chain_hash(GENESIS, leaf_hash(b"x")) == hashlib.sha256(
        b"\x01" + GENESIS + leaf_hash(b"x")).digest()


def test_signature_and_key_lengths_are_checked() -> None:
    pair = generate_signing_key()
    signature = sign(pair.seed, b"message")
    verify(pair.verify_key, b"message", signature)
    with pytest.raises(SignatureError, match="malformed"):
        verify(pair.verify_key[:-1], b"message", signature)
    with pytest.raises(SignatureError, match="malformed"):
        verify(pair.verify_key, b"message", signature[:-1])
    with pytest.raises(SignatureError, match="does not verify"):
        verify(pair.verify_key, b"other message", signature)


@pytest.mark.parametrize("character", [":", "A", "a", "/"])
def test_damm_refuses_what_is_not_an_ascii_digit(character: str) -> None:
    """Refused as input, not looked up in the table (an IndexError, or a wrong digit)."""
    with pytest.raises(ValueError, match="ASCII digits"):
        damm_check_digit("12" + character)
    with pytest.raises(ValueError, match="ASCII digits"):
        damm_valid("12" + character)


def test_receipt_secrets_repr_is_fixed() -> None:
    secrets = ReceiptSecrets(lookup_id=b"\x01" * 32, receipt_key=b"\x02" * 32)
    assert repr(secrets) == "ReceiptSecrets(<redacted>)"


def test_wrapped_key_and_record_length_floors() -> None:
    """Nonce and tag, and nothing more, is the shortest input worth decrypting: one byte less
    is refused as too short before any decryption."""
    key = new_key()
    with pytest.raises(DecryptionError, match="too short"):
        unwrap(key, bytes(24 + 16 - 1))
    with pytest.raises(DecryptionError, match="could not be opened"):
        unwrap(key, bytes(24 + 16))
    with pytest.raises(DecryptionError, match="too short"):
        decrypt_record(key, bytes(24 + 16 - 1), b"context")
    with pytest.raises(DecryptionError, match="could not be decrypted"):
        decrypt_record(key, bytes(24 + 16), b"context")


def test_recovery_text_cap_and_type() -> None:
    """Text over 1024 characters, or not text at all, is refused before any parsing."""
    with pytest.raises(KeyFormatError, match="malformed"):
        import_private_key("A" * 1025)
    with pytest.raises(KeyFormatError, match="must start with CANDOR-RECOVERY-1-$"):
        import_private_key("A" * 1024)  # at the cap: parsed, and told the expected prefix
    with pytest.raises(KeyFormatError, match="malformed"):
        import_private_key(PREFIX.encode())  # type: ignore[arg-type]
