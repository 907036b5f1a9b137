"""Small records (report text, messages, identity, file metadata): padded AEAD.

Format: ``nonce (24 random bytes) || XChaCha20-Poly1305-IETF(pad(plaintext), ad=context)``.

The *context* names where the ciphertext is stored (e.g. ``b"case:42:report"``) and is
authenticated but not stored: someone who can write to the database cannot move a ciphertext
to another row or field without decryption failing. Random 192-bit nonces are safe to pick
at random for any realistic number of records under one key.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.utils
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_ABYTES,
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
)

from crypto._util import require_bytes
from crypto.errors import DecryptionError
from crypto.keys import KEY_BYTES
from crypto.padding import pad, padded_length, unpad

__all__ = ["decrypt_record", "encrypt_record", "padded_length"]

_NONCE_BYTES: int = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_TAG_BYTES: int = crypto_aead_xchacha20poly1305_ietf_ABYTES


def encrypt_record(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """Pad and encrypt *plaintext* under *key*, bound to *context*."""
    require_bytes("key", key, KEY_BYTES)
    require_bytes("plaintext", plaintext)
    require_bytes("context", context)
    nonce = bytes(nacl.utils.random(_NONCE_BYTES))
    sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(pad(plaintext), context, nonce, key)
    return nonce + bytes(sealed)


def decrypt_record(key: bytes, ciphertext: bytes, context: bytes) -> bytes:
    """Decrypt a record; raise :class:`DecryptionError` on a wrong key or context, tampering,
    or invalid padding."""
    require_bytes("key", key, KEY_BYTES)
    require_bytes("ciphertext", ciphertext)
    require_bytes("context", context)
    if len(ciphertext) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("record is too short")
    nonce, sealed = ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:]
    try:
        padded = bytes(crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, context, nonce, key))
    except nacl.exceptions.CryptoError:
        raise DecryptionError("record could not be decrypted") from None
    plaintext = unpad(padded)
    if plaintext is None:
        raise DecryptionError("record has invalid padding")
    return plaintext
