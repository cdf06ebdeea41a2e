"""Where uploaded files (hazard photos) are kept: a file store, by the SHA-256 of their bytes.

The store is chosen by configuration (`FILE_STORE`, see api/config.py); `filesystem` is the default, a directory
with one file per content, written atomically (a temporary file renamed into place), so that a write cut short
leaves nothing half-written and the same bytes stored twice are one file. Another backend (an object store) gives
the same two methods. Records point to files by their digest; a file whose record was never committed is harmless
(nothing names it).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    def put(self, data: bytes) -> str:
        """Keep the bytes; answer their SHA-256 (hex), the key to read them by."""

    def get(self, digest: str) -> bytes:
        """The bytes kept under this digest (FileNotFoundError if none)."""


class FilesystemStore:
    """Files in a directory, as <digest[:2]>/<digest>."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise FileNotFoundError(digest)
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        return self._path(digest).read_bytes()


def file_store(setting: str) -> FileStore:
    """The store a setting names: `filesystem:<directory>`."""
    kind, _, where = setting.partition(":")
    if kind == "filesystem" and where:
        return FilesystemStore(where)
    raise ValueError(f"unknown file store {setting!r} (expected filesystem:<directory>)")
