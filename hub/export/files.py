"""Write export rows to CSV or XLSX by streaming, then optionally into an AES-256 ZIP.

Rows arrive as an iterator (straight from a server-side cursor), so memory
stays flat however many leads an export holds. A zipped CSV is zipped while it
is written (``hub.export.zipstream``).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

import pyzipper
import xlsxwriter

FORMATS = ("csv", "xlsx")
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def cell_text(value: Any) -> str:
    """A value as spreadsheet-safe text: formulas neutralised with a leading apostrophe."""
    kind = value.__class__
    if kind is int or kind is float:
        return str(value)  # never formula-like: a leading sign here starts a number
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def row_cells(values: Iterable[Any]) -> list[str]:
    """``cell_text`` of each value; plain text, by far the most common cell, is checked inline."""
    return [v if v.__class__ is str and v[:1] not in _FORMULA_FIRST else cell_text(v) for v in values]


def plain_csv_line(cells: Sequence[str], delimiter: str) -> str | None:
    """The CSV line for cells none of which needs quoting (what ``csv.writer`` writes then), else None.

    Scanning the joined line for a delimiter too many, a quote or a line break
    is much faster than the csv module's character-by-character loop.
    """
    line = delimiter.join(cells)
    if line and line.count(delimiter) == len(cells) - 1 and '"' not in line and "\r" not in line \
            and "\n" not in line:
        return line + "\r\n"
    return None  # [] and [""] too: csv.writer writes those specially


def csv_liner(delimiter: str) -> Callable[[Sequence[str]], str]:
    """A function from cells to their CSV line (RFC 4180, CRLF), byte for byte what ``csv.writer`` writes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def line(cells: Sequence[str]) -> str:
        plain = plain_csv_line(cells, delimiter)
        if plain is not None:
            return plain
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    return line


def write_csv(fh: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, delimiter: str = ",",
              header: bool = True) -> int:
    """Stream rows as CSV into a text file opened with ``newline=""``; returns the row count."""
    line = csv_liner(delimiter)
    if header:
        fh.write(line(row_cells(columns)))
    count = 0
    rows = iter(rows)
    # A thousand lines per write: one call into the file object instead of one per row.
    while batch := [line(row_cells(row)) for row in islice(rows, 1000)]:
        fh.write("".join(batch))
        count += len(batch)
    return count


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    rows: int
    size: int
    sha256: str


def write_rows(path: Path, fmt: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
               delimiter: str = ",", header: bool = True) -> int:
    """Stream ``rows`` into ``path`` as CSV (RFC 4180, UTF-8) or XLSX; returns the row count."""
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            return write_csv(fh, columns, rows, delimiter=delimiter, header=header)
    if fmt == "xlsx":
        count = 0
        # constant_memory writes each row to disk as it goes.
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False})
        sheet = book.add_worksheet("leads")
        line = 0
        if header:
            sheet.write_row(line, 0, row_cells(columns))
            line += 1
        for row in rows:
            sheet.write_row(line, 0, row_cells(row))
            line += 1
            count += 1
        book.close()
        return count
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not '{fmt}'")


def open_aes_zip(target: Path, password: str) -> pyzipper.AESZipFile:
    """A new AES-256 ZIP (opened by 7-Zip, WinZip, macOS Archive Utility; not by plain ``unzip``)."""
    zf = pyzipper.AESZipFile(target, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES)
    zf.setpassword(password.encode())
    zf.setencryption(pyzipper.WZ_AES, nbits=256)
    return zf


def zip_with_password(source: Path, target: Path, password: str, inner_name: str) -> None:
    """Put the file ``source`` into a new AES-256 ZIP as ``inner_name``."""
    with open_aes_zip(target, password) as zf:
        zf.write(source, arcname=inner_name)


def describe_file(path: Path, rows: int) -> WrittenFile:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return WrittenFile(path=path, rows=rows, size=path.stat().st_size, sha256=digest.hexdigest())
