"""Write export rows to CSV or XLSX by streaming, then optionally into an AES-256 ZIP.

Rows arrive as an iterator (straight from a server-side cursor), so memory
stays flat however many leads an export holds.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyzipper
import xlsxwriter

FORMATS = ("csv", "xlsx")
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: Any) -> str:
    """A value as spreadsheet-safe text: formulas neutralised with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


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
    count = 0
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            if header:
                writer.writerow([cell_text(c) for c in columns])
            for row in rows:
                writer.writerow([cell_text(v) for v in row])
                count += 1
        return count
    if fmt == "xlsx":
        # constant_memory writes each row to disk as it goes.
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False})
        sheet = book.add_worksheet("leads")
        line = 0
        if header:
            sheet.write_row(line, 0, [cell_text(c) for c in columns])
            line += 1
        for row in rows:
            sheet.write_row(line, 0, [cell_text(v) for v in row])
            line += 1
            count += 1
        book.close()
        return count
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not '{fmt}'")


def zip_with_password(source: Path, target: Path, password: str, inner_name: str) -> None:
    """AES-256 ZIP (opened by 7-Zip, WinZip, macOS Archive Utility; not by plain ``unzip``)."""
    with pyzipper.AESZipFile(target, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(password.encode())
        zf.setencryption(pyzipper.WZ_AES, nbits=256)
        zf.write(source, arcname=inner_name)


def describe_file(path: Path, rows: int) -> WrittenFile:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return WrittenFile(path=path, rows=rows, size=path.stat().st_size, sha256=digest.hexdigest())
