"""Stream format versions for the file-stream tests (a helper module, not a test module)."""

from __future__ import annotations

from dataclasses import dataclass

from crypto.stream import ABYTES, CHUNK_SIZES, HEADER_BYTES, decrypt_stream, encrypt_stream

KEY = bytes(range(32))


@dataclass(frozen=True)
class Fmt:
    """One stream format version, with helpers that encrypt and decrypt in it."""

    version: int

    @property
    def chunk(self) -> int:
        return CHUNK_SIZES[self.version]

    @property
    def ct_chunk(self) -> int:
        return self.chunk + ABYTES

    @property
    def sizes(self) -> list[int]:
        c = self.chunk
        return [0, 1, c - 1, c, c + 1, 3 * c + 5]

    def encrypt(self, data: bytes, key: bytes = KEY) -> bytes:
        return b"".join(encrypt_stream(key, [data], version=self.version))

    def decrypt(self, ct: bytes | list[bytes], key: bytes = KEY) -> bytes:
        pieces = [ct] if isinstance(ct, bytes) else ct
        return b"".join(decrypt_stream(key, pieces, version=self.version))

    def ct_chunks(self, ct: bytes) -> list[bytes]:
        """Split a ciphertext into header and chunk ciphertexts."""
        body = ct[HEADER_BYTES:]
        step = self.ct_chunk
        return [ct[:HEADER_BYTES]] + [body[i : i + step] for i in range(0, len(body), step)]
