"""Streaming text access to an uploaded binary file without taking ownership of it."""

from __future__ import annotations

import io
from typing import BinaryIO

_BUFFER_SIZE = 1 << 16


class _BorrowedRaw(io.RawIOBase):
    """Raw reader over someone else's file object; closing it leaves that file open."""

    def __init__(self, fileobj: BinaryIO):
        super().__init__()
        self._fileobj = fileobj

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._fileobj.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_text(fileobj: BinaryIO, encoding: str) -> io.TextIOWrapper:
    """Text stream from the start of fileobj; newline='' keeps line ends for csv and line counting."""
    fileobj.seek(0)
    # The wrapper only closes our _BorrowedRaw, so the caller's file (e.g. a Django upload) stays usable.
    buffered = io.BufferedReader(_BorrowedRaw(fileobj), _BUFFER_SIZE)
    return io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")
