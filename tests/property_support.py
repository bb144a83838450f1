"""Generators and store inspection for the property tests (tests/test_properties.py).

An export is generated as a list of rows, each either valid (and so stored), a duplicate, or with
exactly one defect (and so quarantined), then rendered in one of the three formats, as CSV (in a
chosen encoding, line end and quoting) or XLSX. The generator knows what the importer must make
of it: the exit code, how many rows are accepted, counted as duplicates and quarantined, the line
of each quarantined row, the UTC instant and answer codes of each stored row. Every column the
importer must not read (e-mail, names, IP address, free text, unknown columns) holds a token
unique to the example, which must then appear nowhere in the store's files.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import sqlite3
import traceback
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from openpyxl import Workbook

from data_loaders.importers import surveymonkey
from survey.questionnaire import (BY_ID, MISSING_CODES, NO_ANSWER, NOT_ASKED, QUESTION_IDS,
                                  QUESTIONS, match_answer, match_question, normalise, validate)

CSV_FIELD_LIMIT = csv.field_size_limit()
"""The csv module's limit on one field (131,072 characters): a longer cell refuses the file."""

FORMULAS = ("=CMD()", "=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(A1:A9)",
            '=HYPERLINK("http://example.org")', "=1+1", "\t=1")
"""Values a spreadsheet would run as formulas (CSV injection)."""

NON_ASCII = ("Café", "Señora", "£5", "naïve", "don’t")

# --- answers ---------------------------------------------------------------------------------


def _spellings(question) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for answer in question.answers:
        for text in (answer.code, answer.label, answer.label.upper(), answer.label.lower(),
                     f"  {answer.label} ", answer.code.replace("_", " "), f"{answer.label}.",
                     answer.label.replace("'", "\u2019"), answer.label.replace(" ", "\n"),
                     *answer.aliases):
            found[text] = answer.code
    return sorted(found.items())


SPELLINGS = {q.id: _spellings(q) for q in QUESTIONS}
"""How people write each answer of each question, with the code it stands for."""
OTHER_ROLE = [(text, code) for text, code in SPELLINGS["role"] if code == "other"]

for _qid, _pairs in SPELLINGS.items():  # the generator's own assumptions, checked once
    for _text, _code in _pairs:
        assert match_answer(_qid, _text) == _code, (_qid, _text)


def _header_spellings(key: str) -> list[str]:
    if key in ("respondent_id", "submitted_at"):
        return [key, key.upper(), f" {key} ", key.title()]
    q = BY_ID[key]
    return [q.id, q.id.upper(), q.text, f"{q.number}. {q.text}", q.text.upper(),
            q.text.replace("'", "\u2019"), f"Q{q.number}: {q.text}", f"  {q.text}  "]


TEMPLATE_KEYS = ("respondent_id", "submitted_at", *QUESTION_IDS)
HEADER_SPELLINGS = {key: _header_spellings(key) for key in TEMPLATE_KEYS}
for _key, _texts in HEADER_SPELLINGS.items():
    for _text in _texts:
        assert (normalise(_text) == _key if _key in ("respondent_id", "submitted_at")
                else match_question(_text) == _key), (_key, _text)

EXTRA_HEADERS = ("Email Address", "Notes", "Name", "=CMD()", "+1", "@SUM(A1)", "", "Café ñ",
                 "Comments\nfree text", "IP Address")
"""Columns the template does not know: ignored, never stored."""
for _text in EXTRA_HEADERS:
    assert match_question(_text) is None and normalise(_text) not in {
        "respondent_id", "submitted_at", "timestamp", "respondent id"}

_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)


def bad_values(question_id: str) -> st.SearchStrategy[str]:
    """Values that are no answer to the question (not blank either)."""
    return st.one_of(st.sampled_from(FORMULAS + ("maybe", "n/a", "1", "Yes\nand no")),
                     _TEXT).filter(lambda v: match_answer(question_id, v) is None)


@st.composite
def valid_answers(draw) -> tuple[dict[str, str], dict[str, str]]:
    """Raw answers as people write them, and the codes they must be stored as."""
    raw: dict[str, str] = {}
    codes: dict[str, str] = {}
    for q in QUESTIONS:
        if q.id == "confident_guidance":
            continue
        if draw(st.integers(0, 6)) == 0:
            raw[q.id], codes[q.id] = "", NO_ANSWER
        elif q.id == "role" and draw(st.integers(0, 3)) == 0:  # the role with a free text
            raw[q.id], codes[q.id] = draw(st.sampled_from(OTHER_ROLE))
        else:
            raw[q.id], codes[q.id] = draw(st.sampled_from(SPELLINGS[q.id]))
    if codes["aware_of_guidance"] == "yes" and draw(st.booleans()):
        raw["confident_guidance"], codes["confident_guidance"] = draw(
            st.sampled_from(SPELLINGS["confident_guidance"]))
    else:
        raw["confident_guidance"] = ""
        codes["confident_guidance"] = (NO_ANSWER if codes["aware_of_guidance"] == "yes"
                                       else NOT_ASKED)
    if all(code in MISSING_CODES for code in codes.values()):
        raw["role"], codes["role"] = draw(st.sampled_from(SPELLINGS["role"]))
    return raw, {q: codes[q] for q in QUESTION_IDS}


# --- rows ------------------------------------------------------------------------------------

VALID, DUPLICATE = "valid", "duplicate"
BAD_ANSWER, CONTRADICTION, UNANSWERED = "bad answer", "q6 without q5 yes", "nothing answered"
BAD_TIME, BLANK_ID, LONG_ID, CONFLICT = "bad time", "blank id", "long id", "id reused"
DEFECTS = (BAD_ANSWER, CONTRADICTION, UNANSWERED, BAD_TIME, BLANK_ID, LONG_ID, CONFLICT)

BAD_TIMES = ("", "   ", "yesterday", "=NOW()", "2018-13-45T10:00:00Z", "2018-02-30 10:00:00",
             "12/31/2018 25:00:00 PM", "2018-09-12T25:61:00Z", "not a date")


@dataclass
class Row:
    kind: str
    respondent_id: str
    moment: datetime | None
    """The local time written (naive), None for a bad time."""
    offset: int | None
    """Minutes east of UTC written with the time, None when written without an offset."""
    raw: dict[str, str]
    codes: dict[str, str] | None
    bad_time: str = ""
    role_other_text: str = ""
    """Free text for a role of "other" (SurveyMonkey's "Other (please specify)", Google Forms'
    "Other:"); it is personal and never stored."""


@st.composite
def rows(draw, *, ids: bool, max_rows: int = 12) -> list[Row]:
    """Rows of an export; ``ids`` says whether the format carries respondent ids."""
    kinds = [VALID] * 4 + [DUPLICATE, BAD_ANSWER, CONTRADICTION, UNANSWERED, BAD_TIME]
    if ids:
        kinds += [BLANK_ID, LONG_ID, CONFLICT]
    made: list[Row] = []
    for n in range(draw(st.integers(0, max_rows))):
        kind = draw(st.sampled_from(kinds))
        earlier = [r for r in made if r.kind == VALID]
        if kind in (DUPLICATE, CONFLICT) and not earlier:
            kind = VALID
        if kind == DUPLICATE:
            first = draw(st.sampled_from(earlier))
            made.append(Row(**{**first.__dict__, "kind": DUPLICATE, "raw": dict(first.raw)}))
            continue
        raw, codes = draw(valid_answers())
        respondent = draw(st.sampled_from((f"r{n}", f" r{n} ", f"=CMD()-{n}", f"+{n}",
                                           f"@SUM-{n}", f"{n:0>128}")))
        moment = draw(st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31)))
        if draw(st.booleans()):
            moment = moment.replace(microsecond=0)
        offset = draw(st.sampled_from((None, 0, 60, -300, 330)))
        row = Row(kind, respondent, moment, offset, raw, codes)
        if kind == BAD_ANSWER:
            qid = draw(st.sampled_from(QUESTION_IDS))
            raw[qid] = draw(bad_values(qid))
        elif kind == CONTRADICTION:
            raw["aware_of_guidance"] = draw(st.sampled_from(
                [s for s, c in SPELLINGS["aware_of_guidance"] if c != "yes"] + [""]))
            raw["confident_guidance"] = draw(st.sampled_from(
                [s for s, _ in SPELLINGS["confident_guidance"]]))
        elif kind == UNANSWERED:
            row.raw = {q: draw(st.sampled_from(("", " "))) for q in QUESTION_IDS}
        elif kind == BAD_TIME:
            row.moment, row.bad_time = None, draw(st.sampled_from(BAD_TIMES))
        elif kind == BLANK_ID:
            row.respondent_id = draw(st.sampled_from(("", "   ")))
        elif kind == LONG_ID:
            row.respondent_id = f"{n:x>129}"
        elif kind == CONFLICT:
            first = draw(st.sampled_from(earlier))
            row.respondent_id = first.respondent_id
            other_role = "student" if first.codes["role"] != "student" else "director"
            row.raw = {**first.raw, "role": BY_ID["role"].label_of(other_role)}
        if kind != VALID:
            row.codes = None
        made.append(row)
    return made


# --- exports ---------------------------------------------------------------------------------


@dataclass
class Expected:
    exit_code: int = 0
    errors: tuple[str, ...] = ()
    """Phrases one of which the one error line must hold, when the file is refused (a file with
    several problems is refused for whichever the importer meets first)."""
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    lines: list[int] = field(default_factory=list)
    """The line (or worksheet row) of each quarantined row."""
    stored: list[tuple[datetime | None, dict[str, str]]] = field(default_factory=list)
    """UTC instant (None: not checked) and codes of each stored row."""


@dataclass
class Export:
    description: str
    data: bytes
    suffix: str
    options: tuple[str, ...]
    token: str
    expected: Expected


def _instant(row: Row, zone: str) -> datetime | None:
    """The UTC instant ``row``'s time stands for; None in a gap when clocks go forward."""
    assert row.moment is not None
    if row.offset is not None:
        return (row.moment - timedelta(minutes=row.offset)).replace(tzinfo=timezone.utc)
    tz = ZoneInfo(zone)
    local = row.moment.replace(tzinfo=tz)
    utc = local.astimezone(timezone.utc)
    if utc.astimezone(tz).replace(tzinfo=None) != row.moment:
        return None  # does not exist locally: moved forward, by an hour at most
    return utc


def _expect(rows_: list[Row], lines: list[int], *, zone: str, ids: bool) -> Expected:
    expected = Expected()
    for row, line in zip(rows_, lines):
        if row.kind == VALID or (row.kind == DUPLICATE and not ids):
            expected.accepted += 1
            expected.stored.append((_instant(row, zone), row.codes))
        elif row.kind == DUPLICATE:
            expected.duplicates += 1
        else:
            expected.quarantined += 1
            expected.lines.append(line)
    return expected


def _offset_text(minutes: int, style: str) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    if style == "gmt":
        return "GMT" if minutes == 0 else f"GMT{sign}{hours}" + (f":{mins:02d}" if mins else "")
    if style == "z" and minutes == 0:
        return "Z"
    return f"{sign}{hours:02d}:{mins:02d}"


def _template_time(row: Row, style: int) -> str:
    if row.moment is None:
        return row.bad_time
    moment = row.moment
    text = (moment.isoformat(), moment.isoformat(sep=" "), f" {moment.isoformat()} ")[style]
    return text if row.offset is None else text.rstrip() + _offset_text(row.offset, "z")


def _cells_csv(table: list[list[str]], *, newline: str, quoting: int) -> tuple[str, list[int]]:
    """The CSV text of ``table`` and the physical line on which each record starts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline, quoting=quoting)
    starts = []
    for cells in table:
        starts.append(buffer.getvalue().count("\n") + 1)
        if cells is None:
            buffer.write(newline)  # a blank line: no record
        else:
            writer.writerow(cells)
    return buffer.getvalue(), starts


def _xlsx(table: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for number, cells in enumerate(table, start=1):
        for column, value in enumerate(cells or [], start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # "=CMD()" is text here, not a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@st.composite
def containers(draw, *, xlsx: bool) -> dict[str, Any]:
    return {"container": draw(st.sampled_from(("csv", "xlsx") if xlsx else ("csv",))),
            "encoding": draw(st.sampled_from(("utf-8",) * 6 + ("utf-8-sig",) * 2 + (
                "latin-1", "cp1252", "utf-16", "utf-16-le"))),
            "newline": draw(st.sampled_from(("\n", "\r\n"))),
            "quoting": draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL)))}


def _render(description: str, table: list[list[Any] | None], header_records: int,
            rows_: list[Row], how: dict[str, Any], *, zone: str, ids: bool, token: str,
            options: tuple[str, ...] = (), refusal: str = "") -> Export:
    """``table``: header records then one record per row (None: a blank line)."""
    if how["container"] == "xlsx":
        data, suffix = _xlsx(table), ".xlsx"
        starts = list(range(1, len(table) + 1))
    else:
        text_table = [None if r is None else [_text(v) for v in r] for r in table]
        text, starts = _cells_csv(text_table, newline=how["newline"], quoting=how["quoting"])
        try:
            data = text.encode(how["encoding"])
        except UnicodeEncodeError:  # not every character exists in latin-1 or cp1252
            how = {**how, "encoding": "utf-8"}
            data = text.encode("utf-8")
        suffix = ".csv"
    row_lines = [line for line, record in zip(starts, table) if record is not None]
    expected = _expect(rows_, row_lines[header_records:], zone=zone, ids=ids)
    longest = max((len(_text(v)) for r in table if r for v in r), default=0)
    problems = [refusal] if refusal else []
    if suffix == ".csv":
        if how["encoding"] == "utf-16":
            problems = ["UTF-16 text"]  # seen before anything else
        elif how["encoding"] == "utf-16-le":
            problems = ["binary data"]
        elif not _is_utf8(data):
            problems.append("UTF-8")
        if longest > CSV_FIELD_LIMIT:
            problems.append("field larger than field limit")
    if problems:
        expected = Expected(exit_code=1, errors=tuple(problems))
    details = how["container"] if suffix == ".xlsx" else (
        f"{how['encoding']}, {how['newline']!r}, quoting {how['quoting']}")
    return Export(f"{description} ({details})", data, suffix, options, token, expected)


def _text(value: Any) -> str:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


tokens = st.integers(0, 16 ** 10).map(lambda n: f"pii{n:010x}")
"""A value unique to an example, written only into columns that must never be stored."""


@st.composite
def _extra_value(draw, token: str, huge: bool) -> str:
    if huge:
        size = draw(st.sampled_from((60_000, CSV_FIELD_LIMIT + 1, 1_048_576)))
        return (f"{token} " * (size // (len(token) + 1) + 1))[:size]
    prefix = draw(st.sampled_from(("", *FORMULAS, *NON_ASCII, "two\nlines ", "a,b ", '"q" ')))
    return f"{prefix}{token}@example.org" if draw(st.booleans()) else f"{prefix} {token}"


@st.composite
def template_exports(draw) -> Export:
    """The response template, with columns in any order, spelt any way, extra ones too."""
    token = draw(tokens)
    made = draw(rows(ids=True))
    keys = list(TEMPLATE_KEYS)
    refusal = ""
    dropped = draw(st.sampled_from(keys)) if draw(st.integers(0, 11)) == 0 else None
    if dropped is not None:
        keys.remove(dropped)
        refusal = (f"no {dropped} column" if dropped in ("respondent_id", "submitted_at")
                   else f"question {BY_ID[dropped].number} ({dropped})")
    extras = draw(st.lists(st.sampled_from(EXTRA_HEADERS), max_size=4))
    columns = draw(st.permutations([*keys, *(("extra", e) for e in extras)]))
    header = [draw(st.sampled_from(HEADER_SPELLINGS[c])) if isinstance(c, str) else c[1]
              for c in columns]
    huge_row = draw(st.integers(0, len(made) - 1)) if made and extras and draw(
        st.integers(0, 9)) == 0 else None
    time_style = draw(st.integers(0, 2))
    table: list[list[Any] | None] = [header]
    for index, row in enumerate(made):
        if draw(st.integers(0, 9)) == 0:
            table.append(None)
        values = {"respondent_id": row.respondent_id, "submitted_at": _template_time(
            row, time_style), **row.raw}
        table.append([values[c] if isinstance(c, str) else draw(_extra_value(
            token, huge=index == huge_row)) for c in columns])
    how = draw(containers(xlsx=True))
    return _render("template", table, 1, made, how, zone="UTC", ids=True, token=token,
                   refusal=refusal)


SM_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S")


@st.composite
def surveymonkey_exports(draw) -> Export:
    """A SurveyMonkey export as it comes: personal data in the metadata columns, free text in
    "Other (please specify)"; times in the account's zone, without an offset."""
    token = draw(tokens)
    zone = draw(st.sampled_from(("UTC", "Europe/London")))
    made = draw(rows(ids=True))
    how = draw(containers(xlsx=True))
    fmt = draw(st.sampled_from(SM_FORMATS))
    first, second = surveymonkey.header_rows()
    table: list[list[Any] | None] = [first, second]
    for row in made:
        row.offset = None
        if row.moment is not None:
            row.moment = row.moment.replace(microsecond=0)
        if row.codes and row.codes["role"] == "other":
            # The role's cell blank and "Other (please specify)" filled in: role "other".
            row.role_other_text = f"Locum at {token} council"
            if draw(st.booleans()):
                row.raw["role"] = ""
        elif row.raw["role"].strip() and draw(st.integers(0, 4)) == 0:
            row.role_other_text = f"Also {token}"  # ignored: the role's own cell is filled in
        if row.moment is None:
            end: Any = row.bad_time
        elif how["container"] == "xlsx" and draw(st.booleans()):
            end = row.moment  # a date cell, as Excel keeps it
        else:
            end = row.moment.strftime(fmt)
        cells = [row.respondent_id, f"{token}-collector", f"{token} start", end,
                 f"{token}.203.0.113.7", f"{token}@example.org", f"First{token}",
                 f"Last{token}", f"custom {token}"]
        for q in QUESTIONS:
            cells.append(row.raw[q.id])
            if q.id == "role":
                cells.append(row.role_other_text)
        table.append(cells)
    return _render(f"surveymonkey in {zone}", table, 2, made, how, zone=zone, ids=True,
                   token=token, options=("--timezone", zone))


GF_FORMATS = ("%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%d/%m/%Y %H:%M:%S")


@st.composite
def google_forms_exports(draw) -> Export:
    """A Google Forms export: no respondent ids, an e-mail column, "Other:" text in the role."""
    token = draw(tokens)
    zone = draw(st.sampled_from(("UTC", "Europe/London")))
    made = draw(rows(ids=False))
    fmt = draw(st.sampled_from(GF_FORMATS))
    with_offset = fmt != GF_FORMATS[2] and draw(st.booleans())
    for row in made:
        if row.kind == BAD_ANSWER and match_answer("role", row.raw["role"]) is None:
            # Any role text is "other" in Google Forms: put the bad answer elsewhere.
            row.raw["role"] = "Social worker"
            row.raw["uses_social_media"] = draw(bad_values("uses_social_media"))
        if row.codes and row.codes["role"] == "other" and draw(st.booleans()):
            row.raw["role"] = f"Locum at {token} council"  # what was typed after "Other:"
        if row.moment is not None:
            row.moment = row.moment.replace(microsecond=0)
            row.offset = draw(st.sampled_from((0, 60, -300, 330))) if with_offset else None
    columns = ["Timestamp", *(q.text for q in QUESTIONS)]
    columns.insert(draw(st.integers(1, len(columns))), "Email address")
    table: list[list[Any] | None] = [columns]
    for row in made:
        if draw(st.integers(0, 9)) == 0:
            table.append(None)
        when = row.bad_time if row.moment is None else row.moment.strftime(fmt) + (
            " " + _offset_text(row.offset, "gmt") if row.offset is not None else "")
        values = {"Timestamp": when, "Email address": f"{token}@example.org",
                  **{q.text: row.raw[q.id] for q in QUESTIONS}}
        table.append([values[c] for c in columns])
    how = draw(containers(xlsx=False))
    return _render(f"google forms in {zone}", table, 1, made, how, zone=zone, ids=False,
                   token=token, options=("--timezone", zone))


# --- the store -------------------------------------------------------------------------------

TABLES = ("responses", "quarantine", "imports")


class Store:
    """A fresh copy of a migrated, empty SQLite store, read with the sqlite3 module."""

    def __init__(self, directory: Path, empty: Path) -> None:
        self.path = directory / "store.sqlite3"
        shutil.copyfile(empty, self.path)
        self.url = f"sqlite:///{self.path}"

    def _query(self, sql: str) -> list[sqlite3.Row]:
        with closing(sqlite3.connect(self.path)) as connection:
            connection.row_factory = sqlite3.Row
            return connection.execute(sql).fetchall()

    def counts(self) -> tuple[int, int, int]:
        return tuple(self._query(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES)

    def responses(self) -> list[dict]:
        return [dict(r) for r in self._query("SELECT * FROM responses ORDER BY id")]

    def quarantine(self) -> list[dict]:
        return [dict(r) for r in self._query("SELECT * FROM quarantine ORDER BY id")]

    def raw_bytes(self) -> bytes:
        """The database's files (main, WAL, shared memory) as they are on disk."""
        return b"".join(p.read_bytes() for p in sorted(self.path.parent.iterdir())
                        if p.name.startswith(self.path.name))


def stored_instant(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def assert_follows_questionnaire(stored: list[dict]) -> None:
    """Every stored response is one the questionnaire accepts, as it would store it."""
    for row in stored:
        codes = {q: row[q] for q in QUESTION_IDS}
        for q in QUESTIONS:
            assert codes[q.id] in q.stored_codes, row
        assert (codes["aware_of_guidance"] == "yes") == (codes["confident_guidance"] != NOT_ASKED)
        assert any(c not in MISSING_CODES for c in codes.values()), f"nothing answered: {row}"
        written = {q: "" if c in MISSING_CODES else c for q, c in codes.items()}
        assert validate(written) == codes, row
        respondent = row["source_respondent_id"]
        assert respondent and respondent == respondent.strip() and len(respondent) <= 128, row
        stored_instant(row["submitted_at"])


SUMMARY = re.compile(r"^  Accepted (\d+), already present \(duplicates\) (\d+), "
                     r"quarantined (\d+)\.$", re.M)


def crash(result) -> str | None:
    """The traceback of an exception the command did not handle, if it raised one."""
    if result.exception is None or isinstance(result.exception, SystemExit):
        return None
    return "".join(traceback.format_exception(result.exception))


def command_outcome(result, before: tuple[int, int, int],
                    after: tuple[int, int, int]) -> tuple[int, int, int] | None:
    """Check one file's import as the command reported it against the store; returns
    (accepted, duplicates, quarantined), or None when the file was refused."""
    problem = crash(result)
    assert problem is None, f"the import command crashed:\n{problem}"
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert after == before, f"a refused file changed the store: {before} -> {after}"
        return None
    assert result.stderr == ""
    [(accepted, duplicates, quarantined)] = [tuple(map(int, m))
                                             for m in SUMMARY.findall(result.stdout)]
    assert after == (before[0] + accepted, before[1] + quarantined, before[2] + 1), (
        f"the store does not hold what was reported: {before} -> {after}, "
        f"reported accepted {accepted}, quarantined {quarantined}")
    return accepted, duplicates, quarantined
