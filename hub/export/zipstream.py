"""CSV into an AES-256 ZIP while the rows are still coming, as the baseline's ``| 7z`` pipe does.

Deflate, AES, CRC and file writes are C calls that release the GIL, so a second
thread does them beside the row loop instead of in a second pass over the file.
The archive is the one ``write_rows`` then ``zip_with_password`` would make.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pyzipper
from pyzipper.zipfile import ZIP64_LIMIT

from hub.export.files import open_aes_zip, write_csv, zip_with_password

CHUNK = 4 << 20  # bytes per hand-over: few GIL round trips for the zip thread, little memory
QUEUED = 4  # chunks waiting at most, so memory stays flat if the zip thread falls behind


def write_csv_zip(path: Path, target: Path, password: str, inner_name: str, columns: Sequence[str],
                  rows: Iterable[Sequence[Any]], *, delimiter: str = ",", header: bool = True) -> int:
    """Write rows as CSV to ``path`` and at the same time into ``target`` as AES ZIP entry ``inner_name``.

    Returns the row count. A CSV too big for an entry without Zip64 is zipped
    again from ``path`` once written, where ZipFile knows its size and uses Zip64.
    """
    with open(path, "wb") as raw:
        worker = _ChunkWorker(lambda chunks: _tee_into_zip(chunks, raw, path, target, password, inner_name))
        worker.start()
        try:
            with io.TextIOWrapper(io.BufferedWriter(_QueueWriter(worker.chunks), CHUNK),
                                  encoding="utf-8", newline="") as fh:
                count = write_csv(fh, columns, rows, delimiter=delimiter, header=header)
        finally:
            zipped = worker.finish()
    if not zipped:
        zip_with_password(path, target, password, inner_name)
    return count


def _tee_into_zip(chunks: Iterator[bytes], raw: BinaryIO, path: Path, target: Path, password: str,
                  inner_name: str) -> bool:
    """Append each chunk to ``raw`` and to the ZIP entry; False once the CSV outgrows an entry without Zip64."""
    size = 0
    with open_aes_zip(target, password) as zf:
        # As ZipFile.write builds it: the CSV file's mode and time, the archive's compression.
        entry = zf.zipinfo_cls.from_file(path, inner_name)
        entry.compress_type, entry._compresslevel = zf.compression, zf.compresslevel
        with zf.open(entry, "w") as out:
            for chunk in chunks:
                raw.write(chunk)
                size += len(chunk)
                if size * 1.05 > ZIP64_LIMIT:  # ZipFile's own test for needing Zip64
                    for rest in chunks:
                        raw.write(rest)
                    return False
                out.write(chunk)
    return True


class _QueueWriter(io.RawIOBase):
    """A write-only raw stream that hands each buffer-full to a queue."""

    def __init__(self, chunks: queue.Queue[bytes | None]) -> None:
        self.chunks = chunks

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.put(bytes(data))  # the buffer is reused: copy it
        return len(data)


class _ChunkWorker(threading.Thread):
    """Runs ``consume`` over the chunks put in its queue; ``finish`` returns its result or raises its error."""

    def __init__(self, consume: Callable[[Iterator[bytes]], bool]) -> None:
        super().__init__(name="leadhub-export-zip", daemon=True)
        self.chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED)
        self.consume = consume
        self.result = False
        self.error: BaseException | None = None

    def run(self) -> None:
        chunks = iter(self.chunks.get, None)
        try:
            self.result = self.consume(chunks)
        except BaseException as exc:  # noqa: BLE001 - handed to the writing thread by finish()
            self.error = exc
        for _ in chunks:  # after an error keep taking chunks, so the writer never blocks on a full queue
            pass

    def finish(self) -> bool:
        self.chunks.put(None)
        self.join()
        if self.error is not None:
            raise self.error
        return self.result
