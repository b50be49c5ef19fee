"""Export files: RFC 4180 CSV, XLSX, formula injection, AES ZIP that 7-Zip opens."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import zipfile

import pytest
import pyzipper

from hub.export.files import cell_text, describe_file, write_rows, zip_with_password


def test_cells_that_spreadsheets_would_run_are_neutralised():
    assert cell_text("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert [cell_text(v) for v in ("+1 555", "-cmd", "@SUM(A1)")] == ["'+1 555", "'-cmd", "'@SUM(A1)"]
    assert cell_text("-12.5") == "-12.5" and cell_text("+44") == "+44"  # numbers stay numbers
    assert cell_text(None) == "" and cell_text(True) == "true" and cell_text(7) == "7"


def test_csv_is_rfc4180_utf8(tmp_path):
    path = tmp_path / "x.csv"
    rows = [["Zoë", 'say "hi"', "a,b"], ["line\nbreak", None, 3]]
    assert write_rows(path, "csv", ["Name", "Quote", "List"], iter(rows)) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"Name,Quote,List\r\n") and "Zoë".encode() in raw
    with open(path, newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [["Name", "Quote", "List"], ["Zoë", 'say "hi"', "a,b"], ["line\nbreak", "", "3"]]


def test_csv_delimiter_and_no_header(tmp_path):
    path = tmp_path / "x.csv"
    write_rows(path, "csv", ["a", "b"], iter([[1, 2]]), delimiter=";", header=False)
    assert path.read_bytes() == b"1;2\r\n"


def test_xlsx_is_a_workbook_with_the_rows(tmp_path):
    path = tmp_path / "x.xlsx"
    assert write_rows(path, "xlsx", ["Email"], iter([["a@example.com"], ["=1+1"]])) == 2
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in book.namelist() else sheet
    assert "a@example.com" in strings and "'=1+1" in strings and "<f>" not in sheet


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="csv, xlsx"):
        write_rows(tmp_path / "x", "pdf", [], iter([]))


def test_password_zip_opens_with_the_password_in_pyzipper_and_7z(tmp_path):
    data = tmp_path / "leads.csv"
    write_rows(data, "csv", ["Email"], iter([["a@example.com"]]))
    target = tmp_path / "leads.zip"
    zip_with_password(data, target, "pa55 word!", "leads.csv")
    with pyzipper.AESZipFile(target) as zf:
        zf.setpassword(b"pa55 word!")
        assert zf.read("leads.csv") == data.read_bytes()
    with pytest.raises(RuntimeError):
        with pyzipper.AESZipFile(target) as zf:
            zf.setpassword(b"wrong")
            zf.read("leads.csv")
    info = describe_file(target, 1)
    assert info.size == target.stat().st_size and len(info.sha256) == 64
    seven = shutil.which("7z")
    if seven is None:
        if os.environ.get("CI"):
            pytest.fail("7z is missing: .ci/run must install Debian's p7zip-full")
        pytest.skip("7z not installed (apt-get install p7zip-full)")
    out = tmp_path / "out"
    subprocess.run([seven, "x", "-ppa55 word!", f"-o{out}", str(target)], check=True, capture_output=True)
    assert (out / "leads.csv").read_bytes() == data.read_bytes()
