"""Candor's cryptography: the only place that touches keys, ciphertext and KDFs.

Layering rule: ``crypto`` depends only on PyNaCl, argon2-cffi and the standard library. It
never imports flask, sqlalchemy, ``core``, ``web``, ``portal`` or ``reviewer``; those layers
import it. That keeps it small enough to audit on its own and testable without an app.

Modules, one job each:

- :mod:`crypto.errors` - the exception hierarchy (one root, :class:`CryptoError`)
- :mod:`crypto.kdf` - Argon2id and the production cost profile
- :mod:`crypto.receipt` - receipt codes and the secrets derived from them
- :mod:`crypto.keys` - symmetric keys, X25519 key pairs, sealing and wrapping keys
- :mod:`crypto.reviewer_keys` - reviewer private keys wrapped under a passphrase
- :mod:`crypto.recovery` - the offline organisation recovery key and its text form
- :mod:`crypto.records` - padded AEAD for small records bound to their storage context
- :mod:`crypto.stream` - chunked secretstream encryption for attachments
- :mod:`crypto.signing` - Ed25519 signatures for audit checkpoints
- :mod:`crypto.audit_chain` - the audit log hash chain
"""

from crypto.audit_chain import (
    GENESIS,
    chain_hash,
    chain_head,
    leaf_hash,
    verify_chain,
)
from crypto.errors import (
    ChainError,
    CryptoError,
    DecryptionError,
    KeyFormatError,
    MalformedReceipt,
    MistypedReceipt,
    ReceiptError,
    SignatureError,
    StreamError,
)
from crypto.kdf import PRODUCTION, SALT_BYTES, KdfProfile, derive_key
from crypto.keys import (
    KEY_BYTES,
    KeyPair,
    generate_keypair,
    new_key,
    open_sealed,
    seal_to,
    unwrap,
    wrap,
)
from crypto.receipt import (
    RECEIPT_DIGITS,
    ReceiptSecrets,
    derive_receipt_secrets,
    format_receipt,
    generate_receipt,
    normalise_receipt,
)
from crypto.records import decrypt_record, encrypt_record, padded_length
from crypto.recovery import (
    export_private_key,
    generate_recovery_key,
    import_private_key,
    public_key_of,
)
from crypto.reviewer_keys import (
    create_reviewer_keys,
    rewrap_private_key,
    unwrap_private_key,
    wrap_private_key,
    wrapped_key_profile,
)
from crypto.signing import (
    SigningKeyPair,
    generate_signing_key,
    sign,
    signing_key_from_seed,
    verify,
)
from crypto.stream import (
    CHUNK_SIZE,
    CHUNK_SIZES,
    STREAM_VERSION,
    StreamDecryptor,
    StreamEncryptor,
    decrypt_stream,
    encrypt_stream,
    encrypted_size,
)

__all__ = [
    "CHUNK_SIZE",
    "CHUNK_SIZES",
    "GENESIS",
    "KEY_BYTES",
    "PRODUCTION",
    "RECEIPT_DIGITS",
    "SALT_BYTES",
    "ChainError",
    "CryptoError",
    "DecryptionError",
    "KdfProfile",
    "KeyFormatError",
    "KeyPair",
    "MalformedReceipt",
    "MistypedReceipt",
    "ReceiptError",
    "ReceiptSecrets",
    "SignatureError",
    "SigningKeyPair",
    "STREAM_VERSION",
    "StreamDecryptor",
    "StreamEncryptor",
    "StreamError",
    "chain_hash",
    "chain_head",
    "create_reviewer_keys",
    "decrypt_record",
    "decrypt_stream",
    "derive_key",
    "derive_receipt_secrets",
    "encrypt_record",
    "encrypt_stream",
    "encrypted_size",
    "export_private_key",
    "format_receipt",
    "generate_keypair",
    "generate_receipt",
    "generate_recovery_key",
    "generate_signing_key",
    "import_private_key",
    "leaf_hash",
    "new_key",
    "normalise_receipt",
    "open_sealed",
    "padded_length",
    "public_key_of",
    "rewrap_private_key",
    "seal_to",
    "sign",
    "signing_key_from_seed",
    "unwrap",
    "unwrap_private_key",
    "verify",
    "verify_chain",
    "wrap",
    "wrap_private_key",
    "wrapped_key_profile",
]
