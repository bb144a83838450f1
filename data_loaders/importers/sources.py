"""Reading an export's records one at a time, whether it is a CSV file or an XLSX workbook.

Exports come from people's laptops: with or without a byte-order mark, CRLF or LF line ends,
answers in quotes spanning several lines, now and then saved in the wrong encoding or not an
export at all. Every problem becomes a :class:`FileProblem` whose one-line message names the
line, because whoever imports must be able to open the file and find it. Records are read one at
a time, never the whole file at once, and carry the physical line on which they start as the csv
module counts lines (pandas' row indexes drift as soon as a quoted answer spans two lines).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import zipfile
import zlib
from abc import ABC, abstractmethod
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Iterator
from xml.etree.ElementTree import ParseError


HEAD_BYTES = 64 * 1024
"""How much of a file is checked before anything else is read: enough to see what it is."""

READ_BUFFER = 1024 * 1024

Record = tuple[int, list[str]]
"""The line (or worksheet row) on which a record starts, and its cells as text."""


class FileProblem(Exception):
    """The file cannot be imported; the message says why, in one line."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


class ExportFile(ABC):
    """An export on disk, read as records of text cells."""

    container: str
    unit: str

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.position = 0
        """How far reading has got, in :attr:`unit` (bytes or rows), for a progress bar."""

    @property
    @abstractmethod
    def total(self) -> int | None:
        """The value :attr:`position` reaches at the end, if known."""

    @abstractmethod
    def _cells(self) -> Iterator[Record]:
        """Every record, blank ones included."""

    def records(self) -> Iterator[Record]:
        """The records that hold anything; a record of empty cells is no response."""
        for line, cells in self._cells():
            if any(cells):
                yield line, cells

    def chunks(self, size: int, *, skip: int = 0) -> Iterator[list[Record]]:
        """Lists of up to ``size`` records, after the first ``skip`` (the header rows)."""
        records = self.records()
        for _ in range(skip):
            next(records, None)
        while chunk := list(itertools.islice(records, size)):
            yield chunk

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            while block := handle.read(READ_BUFFER):
                digest.update(block)
        return digest.hexdigest()


class _NulByte(Exception):
    """A NUL byte in a CSV file, at ``offset`` bytes from its start."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _CountingReader(io.RawIOBase):
    """Passes bytes through, counting them, so progress can follow the file itself, and stops
    at a NUL byte.

    Only the head of a file is checked before it is recognised; a NUL further on would reach the
    store (PostgreSQL refuses text holding one), so every block read is checked too, at the cost
    of a scan of the bytes in C.
    """

    def __init__(self, raw: io.BufferedReader) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        block = self._raw.read(len(buffer))
        read = len(block)
        buffer[:read] = block
        nul = block.find(b"\x00")
        if nul >= 0:
            raise _NulByte(self.count + nul)
        self.count += read
        return read


class CsvFile(ExportFile):
    container = "csv"
    unit = "B"

    @property
    def total(self) -> int:
        return self.size

    @contextmanager
    def _reader(self) -> Iterator[tuple[Any, _CountingReader]]:
        """A csv reader on the file, turning decoding and CSV errors into a FileProblem."""
        with self.path.open("rb") as binary:
            counter = _CountingReader(binary)
            text = io.TextIOWrapper(io.BufferedReader(counter, READ_BUFFER),
                                    encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            try:
                yield reader, counter
            except UnicodeDecodeError:
                raise FileProblem(self._decode_problem()) from None
            except _NulByte as nul:
                raise FileProblem(self._nul_problem(nul.offset)) from None
            except csv.Error as error:
                raise FileProblem(f"line {reader.line_num}: not readable as CSV: "
                                  f"{_one_line(str(error))}") from None

    def _cells(self) -> Iterator[Record]:
        with self._reader() as (reader, counter):
            previous = 0
            for cells in reader:
                self.position = counter.count
                yield previous + 1, cells
                previous = reader.line_num

    def chunks(self, size: int, *, skip: int = 0) -> Iterator[list[Record]]:
        """As :meth:`ExportFile.chunks` does, in one loop (every row of a large file passes
        through it), with :attr:`position` moved on once a chunk."""
        with self._reader() as (reader, counter):
            chunk: list[Record] = []
            previous = 0
            for cells in reader:
                line, previous = previous + 1, reader.line_num
                if not any(cells):
                    continue
                if skip:
                    skip -= 1
                    continue
                chunk.append((line, cells))
                if len(chunk) == size:
                    self.position = counter.count
                    yield chunk
                    chunk = []
            self.position = counter.count
            if chunk:
                yield chunk

    def _decode_problem(self) -> str:
        """Where the first byte that is not UTF-8 is, found by reading the file again by line."""
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        with self.path.open("rb") as binary:
            for number, line in enumerate(binary, start=1):
                try:
                    decoder.decode(line)
                except UnicodeDecodeError as error:
                    return (f"line {number}: not valid UTF-8 (byte 0x{line[error.start]:02x} "
                            f"at column {error.start + 1}); save the export as CSV UTF-8")
        return "the end of the file is cut off in the middle of a character (not valid UTF-8)"

    def _nul_problem(self, offset: int) -> str:
        """Where the NUL byte at ``offset`` is, by line and column, as for a byte not UTF-8."""
        line, start, at = 1, 0, 0
        with self.path.open("rb") as binary:
            while at < offset:
                block = binary.read(min(READ_BUFFER, offset - at))
                if not block:
                    break
                line += block.count(b"\n")
                last = block.rfind(b"\n")
                if last >= 0:
                    start = at + last + 1
                at += len(block)
        return (f"line {line}: a NUL character (byte 0x00 at column {offset - start + 1}): "
                "binary data, not a CSV export")


def _xlsx_errors() -> tuple[type[BaseException], ...]:
    """What openpyxl raises on a damaged workbook. openpyxl is read when a workbook is first
    opened: the dashboard's workers import this module (for the ingestion API's checks) but
    never read a workbook."""
    from openpyxl.utils.exceptions import InvalidFileException

    return (InvalidFileException, zipfile.BadZipFile, ParseError, SyntaxError, zlib.error,
            EOFError, KeyError, ValueError, IndexError, OSError)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class XlsxFile(ExportFile):
    container = "xlsx"
    unit = "rows"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._rows: int | None = None

    @property
    def total(self) -> int | None:
        return self._rows

    def _cells(self) -> Iterator[Record]:
        from openpyxl import load_workbook

        number = 0
        errors = _xlsx_errors()
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                self._rows = sheet.max_row
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    self.position = number
                    yield number, [_text(value) for value in values]
            finally:
                workbook.close()
        except errors as error:
            where = f"row {number + 1}: " if number else ""
            detail = _one_line(str(error))[:120]
            raise FileProblem(f"{where}not a readable XLSX workbook ({detail})") from None


def _check_text(head: bytes, complete: bool) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem("UTF-16 text, not UTF-8: save the export as CSV UTF-8")
    if b"\x00" in head:
        raise FileProblem("binary data, not a CSV or XLSX export")
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(head, final=complete)
    except UnicodeDecodeError as error:
        line = head[:error.start].count(b"\n") + 1
        raise FileProblem(f"line {line}: not UTF-8 text (byte 0x{head[error.start]:02x}); "
                          "save the export as CSV UTF-8") from None
    if not text.strip():
        raise FileProblem("the file is empty")


def open_export(path: Path) -> ExportFile:
    """The export at ``path``, after checking that it is a readable CSV (UTF-8) or XLSX file."""
    try:
        if path.is_dir():
            raise FileProblem("is a directory, not an export file")
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
            complete = not handle.read(1)
    except FileNotFoundError:
        raise FileProblem("no such file") from None
    except OSError as error:
        raise FileProblem(f"cannot be read: {error.strerror or error}") from None
    if not head:
        raise FileProblem("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        if not zipfile.is_zipfile(path):
            raise FileProblem("looks like an XLSX workbook but the archive is damaged")
        return XlsxFile(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("an old Excel .xls workbook: save it as .xlsx or CSV UTF-8")
    _check_text(head, complete)
    return CsvFile(path)
