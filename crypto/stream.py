"""Attachments: libsodium secretstream (XChaCha20-Poly1305) in fixed-size chunks.

Format: a 24-byte header, then one ciphertext per chunk of plaintext, each
``chunk size + ABYTES`` long and tagged MESSAGE, then one final chunk (0 to chunk size - 1
plaintext bytes, so possibly empty) tagged FINAL. Secretstream chains chunk states, so
reordering, dropping or duplicating chunks fails authentication; a missing FINAL tag means the
stream was truncated.

The chunk size is set by the format version (:data:`CHUNK_SIZES`), which the caller stores
beside the ciphertext and passes back to decrypt. New streams use :data:`STREAM_VERSION`.

Memory stays constant: neither side holds more than about one chunk besides what the caller
passes in. Decrypted plaintext is released chunk by chunk *before* the end of the stream is
authenticated, so a consumer must discard its output if :class:`StreamError` is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import nacl.exceptions
from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_ABYTES,
    crypto_secretstream_xchacha20poly1305_HEADERBYTES,
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
)

from crypto._util import require_bytes
from crypto.errors import StreamError
from crypto.keys import KEY_BYTES

__all__ = [
    "ABYTES",
    "CHUNK_SIZE",
    "CHUNK_SIZES",
    "HEADER_BYTES",
    "STREAM_VERSION",
    "StreamDecryptor",
    "StreamEncryptor",
    "decrypt_stream",
    "encrypt_stream",
    "encrypted_size",
]

#: Plaintext bytes per chunk, by format version. Version 1 (64 KiB) came first. Version 2
#: (1 MiB) encrypts as fast per byte and needs 16 times fewer calls per megabyte; each call
#: returns to Python and so waits for the GIL when encryption runs beside the thread that
#: reads the upload (benches/upload.py: about 55 % -> 85 % of the plain read).
CHUNK_SIZES: dict[int, int] = {1: 64 * 1024, 2: 1024 * 1024}
#: The version of every stream written now.
STREAM_VERSION = 2
CHUNK_SIZE = CHUNK_SIZES[STREAM_VERSION]
ABYTES: int = crypto_secretstream_xchacha20poly1305_ABYTES
HEADER_BYTES: int = crypto_secretstream_xchacha20poly1305_HEADERBYTES
_TAG_MESSAGE: int = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL: int = crypto_secretstream_xchacha20poly1305_TAG_FINAL

_push = crypto_secretstream_xchacha20poly1305_push
_pull = crypto_secretstream_xchacha20poly1305_pull

BytesLike = bytes | bytearray | memoryview


def chunk_size(version: int) -> int:
    """Plaintext bytes per chunk in stream format `version`; StreamError if unknown."""
    try:
        return CHUNK_SIZES[version]
    except (KeyError, TypeError):
        raise StreamError("unknown stream format version") from None


def encrypted_size(plaintext_size: int, version: int = STREAM_VERSION) -> int:
    """Return the exact ciphertext size (header included) for *plaintext_size* bytes."""
    if plaintext_size < 0:
        raise ValueError("size must be non-negative")
    # Every full chunk plus the (possibly empty) final chunk carries ABYTES of overhead.
    return HEADER_BYTES + plaintext_size + (plaintext_size // chunk_size(version) + 1) * ABYTES


class _Rechunker:
    """Cut input of arbitrary piece sizes into fixed-size chunks, handing each to *process*
    as soon as it is complete.

    The partial chunk lives in one preallocated buffer (no reallocation, no concatenation);
    a chunk is copied once out of the caller's data, or twice for the part that had to wait
    in the buffer. An input that is exactly one aligned chunk of ``bytes`` is not copied.
    """

    __slots__ = ("_fill", "_size", "_view")

    def __init__(self, size: int) -> None:
        self._size = size
        self._view = memoryview(bytearray(size))
        self._fill = 0

    @property
    def pending(self) -> int:
        """Bytes waiting in the buffer for the rest of their chunk."""
        return self._fill

    def feed(self, data: BytesLike, process: Callable[[bytes], bytes]) -> list[bytes]:
        """Process every chunk completed by *data*; buffer the rest; return the results."""
        size, fill = self._size, self._fill
        if fill == 0 and type(data) is bytes and len(data) == size:
            return [process(data)]
        view = memoryview(data).cast("B")
        n = view.nbytes
        pos = 0
        out: list[bytes] = []
        if fill:
            pos = min(size - fill, n)
            if fill + pos < size:
                self._view[fill : fill + pos] = view[:pos]
                self._fill = fill + pos
                return out
            # join copies both parts straight into the new chunk: one copy, no temporary.
            self._fill = 0
            out.append(process(b"".join((self._view[:fill], view[:pos]))))
        # The bindings accept only bytes, so each chunk is copied once out of the view.
        while n - pos >= size:
            end = pos + size
            out.append(process(bytes(view[pos:end])))
            pos = end
        if pos < n:
            self._view[: n - pos] = view[pos:]
            self._fill = n - pos
        return out

    def take_rest(self) -> bytes:
        """Return and clear the buffered partial chunk."""
        rest = bytes(self._view[: self._fill])
        self._fill = 0
        return rest


class StreamEncryptor:
    """Incremental encryptor. Write :attr:`header` first, then every :meth:`update` result,
    then :meth:`finalize`. Store :attr:`version` to decrypt later."""

    def __init__(self, key: bytes, *, version: int = STREAM_VERSION) -> None:
        require_bytes("key", key, KEY_BYTES)
        self._chunks = _Rechunker(chunk_size(version))
        self.version = version
        self._state = crypto_secretstream_xchacha20poly1305_state()
        self.header: bytes = crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self._done = False

    def _push(self, chunk: bytes) -> bytes:
        return _push(self._state, chunk)

    def update_chunks(self, data: BytesLike) -> list[bytes]:
        """Buffer *data*; return the ciphertext of every chunk completed so far, one each."""
        if self._done:
            raise ValueError("stream already finalized")
        return self._chunks.feed(data, self._push)

    def update(self, data: BytesLike) -> bytes:
        """Buffer *data*; return the ciphertext of every chunk completed so far (maybe b"")."""
        return b"".join(self.update_chunks(data))  # a single chunk is returned without copying

    def finalize(self) -> bytes:
        """Return the final chunk (the buffered remainder, possibly empty) tagged FINAL."""
        if self._done:
            raise ValueError("stream already finalized")
        self._done = True
        return _push(self._state, self._chunks.take_rest(), None, _TAG_FINAL)


class StreamDecryptor:
    """Incremental decryptor accepting ciphertext split at arbitrary points, for a stream
    written in format `version`."""

    def __init__(self, key: bytes, *, version: int = STREAM_VERSION) -> None:
        require_bytes("key", key, KEY_BYTES)
        self._chunks = _Rechunker(chunk_size(version) + ABYTES)
        self._key = key
        self._state: crypto_secretstream_xchacha20poly1305_state | None = None
        self._header = bytearray()  # until the header is complete
        self._finished = False  # a FINAL chunk has been authenticated

    def _start(self, header: bytes) -> None:
        state = crypto_secretstream_xchacha20poly1305_state()
        # init_pull never fails on a bad header: it just derives a state that will not
        # authenticate the first chunk, which is where a bad header is detected.
        crypto_secretstream_xchacha20poly1305_init_pull(state, header, self._key)
        self._state = state

    def _open(self, chunk: bytes) -> bytes:
        if self._finished:
            raise StreamError("data after the final chunk")
        assert self._state is not None
        try:
            plaintext, tag = _pull(self._state, chunk)
        except nacl.exceptions.CryptoError:
            raise StreamError("stream chunk failed authentication") from None
        if tag == _TAG_FINAL:
            self._finished = True
        elif tag != _TAG_MESSAGE:  # we never write PUSH/REKEY tags
            raise StreamError("unexpected stream tag")
        return plaintext

    def update_chunks(self, data: BytesLike) -> list[bytes]:
        """Feed ciphertext; return the plaintext of every complete chunk, one item each."""
        if self._finished and len(data):
            raise StreamError("data after the final chunk")
        if self._state is None:
            view = memoryview(data).cast("B")
            take = min(HEADER_BYTES - len(self._header), view.nbytes)
            self._header += view[:take]
            if len(self._header) < HEADER_BYTES:
                return []
            self._start(bytes(self._header))
            data = view[take:]
        # A full-size chunk is never the last one we write, so it can be opened at once.
        out = self._chunks.feed(data, self._open)
        if self._finished and self._chunks.pending:
            raise StreamError("data after the final chunk")
        return out

    def update(self, data: BytesLike) -> bytes:
        """Feed ciphertext; return the plaintext of every complete chunk, concatenated."""
        return b"".join(self.update_chunks(data))

    def finalize(self) -> bytes:
        """Open the buffered last chunk; raise :class:`StreamError` unless it ends the stream."""
        if self._state is None:
            raise StreamError("stream header is missing or incomplete")
        last = b""
        if self._chunks.pending:
            last = self._open(self._chunks.take_rest())
        if not self._finished:
            raise StreamError("stream is truncated (no final chunk)")
        return last


def encrypt_stream(
    key: bytes, chunks: Iterable[bytes], *, version: int = STREAM_VERSION
) -> Iterator[bytes]:
    """Yield the header, then ciphertext chunks, for plaintext pieces of any size."""
    encryptor = StreamEncryptor(key, version=version)
    yield encryptor.header
    for piece in chunks:
        yield from encryptor.update_chunks(piece)
    yield encryptor.finalize()


def decrypt_stream(
    key: bytes, chunks: Iterable[bytes], *, version: int = STREAM_VERSION
) -> Iterator[bytes]:
    """Yield plaintext chunk by chunk from ciphertext split at arbitrary points, for a
    stream written in format `version`.

    Raises :class:`StreamError` on an unknown version, a bad header, a chunk failing
    authentication (tampering, reordering, wrong key, wrong version), a missing final chunk
    (truncation) or data after it. Output yielded before an error must be discarded.
    """
    decryptor = StreamDecryptor(key, version=version)
    for piece in chunks:
        yield from decryptor.update_chunks(piece)
    last = decryptor.finalize()
    if last:
        yield last
