"""Export files: RFC 4180 CSV, XLSX, formula injection, AES ZIP that 7-Zip opens."""

from __future__ import annotations

import csv
import io
import os
import random
import shutil
import subprocess
import threading
import zipfile

import pytest
import pyzipper

from hub.export import zipstream
from hub.export.files import cell_text, csv_liner, describe_file, row_cells, write_rows, zip_with_password


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


CELLS = ["plain", "", " lead ", "a,b", "semi;colon", 'say "hi"', "line\nbreak", "cr\rx", "crlf\r\n", "tab\tx",
         "Zoë €😀", "\u2028", "'x", "=1+1"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_lines_are_what_the_csv_module_writes(delimiter):
    line = csv_liner(delimiter)
    rng = random.Random(4180)
    samples = [[], [""], ["", ""], *([rng.choice(CELLS) for _ in range(rng.randint(1, 5))] for _ in range(500))]
    for cells in samples:
        expected = io.StringIO()
        csv.writer(expected, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
        assert line(cells) == expected.getvalue(), cells


def test_row_cells_is_cell_text_of_each_value():
    values = [None, True, False, 0, -3, 2.5, -0.0, float("-inf"), float("nan"), 10**20, "", "x", "-5", "-x", "+44 7",
              "@a", "\tb", "\rc", "=d", [1], {"k": "=v"}]
    assert row_cells(values) == [cell_text(v) for v in values]
    assert cell_text(-2.5) == "-2.5" and cell_text(float("-inf")) == "-inf"  # numbers are never neutralised


def lines_zipped(tmp_path, rows, **options):  # type: ignore[no-untyped-def]
    """The CSV and the entry inside the ZIP that write_csv_zip made at once; checks the row count."""
    data, target = tmp_path / "leads.csv", tmp_path / "leads.zip"
    assert zipstream.write_csv_zip(data, target, "pw", "leads.csv", ["Email", "N"], iter(rows), **options) == len(rows)
    with pyzipper.AESZipFile(target) as zf:
        zf.setpassword(b"pw")
        (info,) = zf.infolist()
        return data.read_bytes(), zf.read("leads.csv"), info


def test_csv_zipped_while_written_is_the_file_zipped_afterwards(tmp_path):
    rows = [[f"l{i}@example.com", i] for i in range(20000)] + [["=cmd", "a,b"]]
    data, inner, info = lines_zipped(tmp_path, rows, delimiter=";")
    plain = tmp_path / "plain.csv"
    write_rows(plain, "csv", ["Email", "N"], iter(rows), delimiter=";")
    assert data == inner == plain.read_bytes()
    zip_with_password(plain, tmp_path / "after.zip", "pw", "leads.csv")
    with pyzipper.AESZipFile(tmp_path / "after.zip") as zf:
        after = zf.infolist()[0]
    assert (info.compress_type, info.flag_bits, info.external_attr, info.extra) == (
        after.compress_type, after.flag_bits, after.external_attr, after.extra)


def test_a_csv_too_big_for_a_plain_zip_entry_is_zipped_from_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(zipstream, "CHUNK", 1 << 10)
    monkeypatch.setattr(zipstream, "ZIP64_LIMIT", 50_000)  # as if the CSV were over 2 GiB
    data, inner, _ = lines_zipped(tmp_path, [[f"l{i}@example.com", i] for i in range(5000)])
    assert len(data) > 50_000 and inner == data


def test_a_failing_row_source_stops_the_zip_thread(tmp_path):
    def rows():  # type: ignore[no-untyped-def]
        for i in range(100_000):
            yield [f"l{i}@example.com", i]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="went away"):
        zipstream.write_csv_zip(tmp_path / "x.csv", tmp_path / "x.zip", "pw", "x.csv", ["Email", "N"], rows())
    assert not [t for t in threading.enumerate() if t.name == "leadhub-export-zip"]


def test_a_failing_zip_write_is_raised_not_hung(tmp_path, monkeypatch):
    def broken(*_args):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(zipstream, "CHUNK", 1 << 10)
    monkeypatch.setattr(zipstream, "open_aes_zip", broken)
    with pytest.raises(OSError, match="disk full"):
        zipstream.write_csv_zip(tmp_path / "x.csv", tmp_path / "x.zip", "pw", "x.csv", ["Email"],
                                ([f"l{i}@example.com"] for i in range(50_000)))
