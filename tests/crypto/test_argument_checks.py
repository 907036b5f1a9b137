"""Every crypto function refuses an argument of the wrong type or length itself, with an
error that names the argument, before any libsodium call.

Pins the argument checks mutation testing found unpinned: a dropped length, a renamed
argument or an `or` turned into `and` would otherwise pass, since libsodium often refuses the
same input with another message (or, for the KDF's secret, with another TypeError).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crypto._util import require_bytes
from crypto.kdf import KdfProfile, derive_key
from crypto.keys import generate_keypair, new_key, open_sealed, seal_to, unwrap, wrap
from crypto.receipt import derive_receipt_secrets, generate_receipt
from crypto.records import decrypt_record, encrypt_record
from crypto.recovery import export_private_key, public_key_of
from crypto.reviewer_keys import wrap_private_key
from crypto.signing import generate_signing_key, sign, signing_key_from_seed, verify

CHEAP = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)
KEY = bytes(32)
SHORT = bytes(31)
PAIR = generate_keypair()
SIGNER = generate_signing_key()

#: (call, exception, the start of its message)
CASES: dict[str, tuple[Callable[[], object], type[Exception], str]] = {
    "seed-from": (lambda: signing_key_from_seed(SHORT), ValueError,
                  "seed must be exactly 32 bytes, got 31"),
    "sign-seed": (lambda: sign(SHORT, b"m"), ValueError, "seed must be exactly 32 bytes"),
    "sign-message": (lambda: sign(SIGNER.seed, "m"), TypeError, "message must be bytes"),
    "verify-message": (lambda: verify(SIGNER.verify_key, "m", bytes(64)), TypeError,
                       "message must be bytes"),
    "seal-public-key": (lambda: seal_to(SHORT, KEY), ValueError,
                        "public_key must be exactly 32 bytes"),
    "seal-key": (lambda: seal_to(PAIR.public_key, "k"), TypeError, "key must be bytes"),
    "open-private-key": (lambda: open_sealed(SHORT, bytes(80)), ValueError,
                         "private_key must be exactly 32 bytes"),
    "open-sealed": (lambda: open_sealed(PAIR.private_key, "s"), TypeError,
                    "sealed must be bytes"),
    "wrap-wrapping-key": (lambda: wrap(SHORT, KEY), ValueError,
                          "wrapping_key must be exactly 32 bytes"),
    "wrap-key": (lambda: wrap(KEY, "k"), TypeError, "key must be bytes"),
    "unwrap-wrapping-key": (lambda: unwrap(SHORT, bytes(72)), ValueError,
                            "wrapping_key must be exactly 32 bytes"),
    "unwrap-wrapped": (lambda: unwrap(KEY, "w"), TypeError, "wrapped must be bytes"),
    "encrypt-key": (lambda: encrypt_record(SHORT, b"p", b"c"), ValueError,
                    "key must be exactly 32 bytes"),
    "encrypt-plaintext": (lambda: encrypt_record(KEY, "p", b"c"), TypeError,
                          "plaintext must be bytes"),
    "encrypt-context": (lambda: encrypt_record(KEY, b"p", "c"), TypeError,
                        "context must be bytes"),
    "decrypt-key": (lambda: decrypt_record(SHORT, bytes(300), b"c"), ValueError,
                    "key must be exactly 32 bytes"),
    "decrypt-ciphertext": (lambda: decrypt_record(KEY, "x", b"c"), TypeError,
                           "ciphertext must be bytes"),
    "decrypt-context": (lambda: decrypt_record(KEY, bytes(300), "c"), TypeError,
                        "context must be bytes"),
    "export-private-key": (lambda: export_private_key(SHORT), ValueError,
                           "private_key must be exactly 32 bytes"),
    "public-key-of": (lambda: public_key_of(SHORT), ValueError,
                      "private_key must be exactly 32 bytes"),
    "wrap-private-key": (lambda: wrap_private_key(SHORT, "passphrase", CHEAP), ValueError,
                         "private_key must be exactly 32 bytes"),
    "receipt-salt": (lambda: derive_receipt_secrets(generate_receipt(), instance_salt="s",
                                                    pepper=KEY, profile=CHEAP),
                     TypeError, "instance_salt must be bytes"),
    "receipt-pepper": (lambda: derive_receipt_secrets(generate_receipt(), instance_salt=KEY,
                                                      pepper="p", profile=CHEAP),
                       TypeError, "pepper must be bytes"),
    "kdf-secret": (lambda: derive_key("secret", bytes(16), CHEAP), TypeError,
                   "secret and salt must be bytes"),
    "kdf-salt": (lambda: derive_key(b"secret", "salt" * 4, CHEAP), TypeError,
                 "secret and salt must be bytes"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_wrong_arguments_are_refused_by_name(case: str) -> None:
    call, error, message = CASES[case]
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value).startswith(message), str(raised.value)


def test_require_bytes_names_the_type_it_got() -> None:
    with pytest.raises(TypeError) as raised:
        require_bytes("thing", "text")
    assert str(raised.value) == "thing must be bytes, not str"
    with pytest.raises(ValueError) as too_long:
        require_bytes("thing", b"abc", 2)
    assert str(too_long.value) == "thing must be exactly 2 bytes, got 3"
    assert require_bytes("thing", b"ab", 2) == b"ab"


def test_kdf_salt_and_output_length_boundaries() -> None:
    """The minimum salt (8 bytes) and output (4 bytes) are accepted; one less is refused."""
    assert len(derive_key(b"secret", bytes(8), CHEAP)) == 32
    with pytest.raises(ValueError, match="salt must be at least 8 bytes"):
        derive_key(b"secret", bytes(7), CHEAP)
    assert len(derive_key(b"secret", bytes(16), CHEAP, length=4)) == 4
    with pytest.raises(ValueError, match="length must be at least 4 bytes"):
        derive_key(b"secret", bytes(16), CHEAP, length=3)


def test_new_keys_pass_every_check() -> None:
    """The checks refuse only what is wrong: a fresh key of the right size goes through."""
    key = new_key()
    assert unwrap(key, wrap(key, b"k")) == b"k"
    assert decrypt_record(key, encrypt_record(key, b"p", b"c"), b"c") == b"p"
