"""Importing exports into a real SQLite store: detection, each format's awkward rows, line
numbers, duplicates, quarantine, personal data and demo data.

The fixtures under tests/fixtures/exports/ are written by hand; every expected count below is
worked out from them row by row (the line of each row is in the comments).
"""

from __future__ import annotations

import codecs
from datetime import datetime, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine

from data_loaders import demo, store
from data_loaders.db import WRITE
from data_loaders.importers import FileProblem, detect
from data_loaders.importers.surveymonkey import write_export
from survey.questionnaire import QUESTION_IDS, QUESTIONS
from tests.test_importers_support import (EXPANDED, GOOGLE_FORMS, PERSONAL,
                                          SURVEYMONKEY, TEMPLATE, assert_not_stored, import_path,
                                          quarantined, responses, rows)

ASSET = Path(__file__).resolve().parent.parent / "assets" / "response-template.csv"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)


def stored_time(row: dict) -> datetime:
    value = row["submitted_at"]
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def answers(row: dict) -> tuple[str, ...]:
    return tuple(row[q] for q in QUESTION_IDS)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- Detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path, format, description", [
    (TEMPLATE, "template", "response template (CSV)"),
    (SURVEYMONKEY, "surveymonkey", "SurveyMonkey export (CSV)"),
    (EXPANDED, "surveymonkey",
     "SurveyMonkey export (CSV, expanded: one column per answer option)"),
    (GOOGLE_FORMS, "google_forms", "Google Forms export (CSV)"),
    (ASSET, "template", "response template (CSV)"),
])
def test_each_format_is_detected_from_its_header(path, format, description):
    detected = detect(path)
    assert (detected.format, detected.description) == (format, description)


def test_ignored_columns_are_named_for_each_format():
    assert detect(TEMPLATE).layout.ignored == ("notes",)
    assert detect(GOOGLE_FORMS).layout.ignored == ("Email address",)
    ignored = detect(SURVEYMONKEY).layout.ignored
    assert ignored[:7] == ("Collector ID", "Start Date", "IP Address", "Email Address",
                           "First Name", "Last Name", "Custom Data 1")
    assert "Other (please specify)" in ignored[7] and len(ignored) == 8


@pytest.mark.parametrize("data, reason", [
    (b"", "the file is empty"),
    (codecs.BOM_UTF8 + b"\r\n  \r\n", "the file is empty"),
    (bytes(range(256)) * 4, "binary data, not a CSV or XLSX export"),
    ("respondent_id,submitted_at,role\nr1,2018-09-12,Caf\u00e9\n".encode("latin-1"),
     "line 2: not UTF-8 text (byte 0xe9)"),
    ("Timestamp,role\n".encode("utf-16"), "UTF-16 text, not UTF-8"),
    (b"PK\x03\x04 not a zip archive", "looks like an XLSX workbook but the archive is damaged"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "an old Excel .xls workbook"),
    (b"name,answer\nAlex,yes\n", "not a recognised export: expected the response template"),
])
def test_unreadable_or_unknown_files_are_refused_with_the_reason(tmp_path, data, reason):
    with pytest.raises(FileProblem) as refused:
        detect(write(tmp_path / "export.csv", data))
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_unrecognised_format_message_lists_every_expected_format(tmp_path):
    with pytest.raises(FileProblem) as refused:
        detect(write(tmp_path / "export.csv", b"a,b\n1,2\n"))
    message = str(refused.value)
    assert all(name in message for name in ("response template", "SurveyMonkey", "Google Forms"))


def test_missing_and_directory_paths_are_refused(tmp_path):
    with pytest.raises(FileProblem, match="no such file"):
        detect(tmp_path / "nowhere.csv")
    with pytest.raises(FileProblem, match="is a directory"):
        detect(tmp_path)


def _without_column(path: Path, header_text: str, tmp_path: Path, header_rows: int = 1) -> Path:
    import csv
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    drop = [i for i, h in enumerate(table[0]) if h == header_text]
    trimmed = [[c for i, c in enumerate(row) if i not in drop] for row in table]
    out = tmp_path / path.name
    with out.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(trimmed)
    return out


@pytest.mark.parametrize("path, header", [
    (TEMPLATE, "confident_guidance"),
    (GOOGLE_FORMS, QUESTIONS[5].text),
    (SURVEYMONKEY, QUESTIONS[5].text),
])
def test_a_format_lacking_a_question_column_is_refused(tmp_path, path, header):
    with pytest.raises(FileProblem) as refused:
        detect(_without_column(path, header, tmp_path))
    assert "has no column for question 6 (confident_guidance)" in str(refused.value)


def test_template_without_its_key_columns_is_refused(tmp_path):
    with pytest.raises(FileProblem, match="no submitted_at column"):
        detect(_without_column(TEMPLATE, "submitted_at", tmp_path))


def test_surveymonkey_without_its_second_header_row_is_refused(tmp_path):
    lines = SURVEYMONKEY.read_text(encoding="utf-8").splitlines(keepends=True)
    with pytest.raises(FileProblem, match="second header row is missing"):
        detect(write(tmp_path / "sm.csv", "".join([lines[0], *lines[2:]]).encode()))


# --- The template ------------------------------------------------------------------------------


def test_template_rows_are_accepted_counted_or_quarantined(sqlite_engine):
    summary = import_path(sqlite_engine, TEMPLATE)
    # Accepted: t-1 (line 2), t-2 (3), t-3 (4), t-8 (12-13). Duplicate: t-1 again (7).
    # Quarantined: lines 5, 6, 8, 9, 10, 11, 14.
    assert (summary.accepted, summary.duplicates, summary.quarantined) == (4, 1, 7)
    stored = responses(sqlite_engine)
    assert set(stored) == {"t-1", "t-2", "t-3", "t-8"}
    assert answers(stored["t-2"]) == ("team_manager", "yes", "no", "no", "no", "not_asked",
                                      "not_sure", "not_sure")
    assert stored["t-3"]["uses_social_media"] == "no_answer"
    assert stored["t-3"]["confident_guidance"] == "not_asked"
    assert stored_time(stored["t-1"]) == utc("2018-09-12T10:15:32")
    assert stored_time(stored["t-2"]) == utc("2018-09-13T08:00:00")  # naive = UTC
    assert stored_time(stored["t-3"]) == utc("2018-09-14T08:30:00")  # +01:00


def test_template_quarantine_keeps_line_reason_and_recognised_columns_only(sqlite_engine):
    summary = import_path(sqlite_engine, TEMPLATE)
    kept = quarantined(sqlite_engine)
    by_line = {row["line_number"]: row["reason"] for row in kept}
    assert sorted(by_line) == [5, 6, 8, 9, 10, 11, 14]
    assert "question 6 (confident_guidance) is answered" in by_line[5]
    assert "'Maybe' is not one of: Yes, No" in by_line[6]
    assert by_line[8] == ("respondent id t-2 appears earlier in the file (line 3) with "
                          "different answers")
    assert by_line[9] == "no submission time"
    assert by_line[10] == "no respondent id"
    assert by_line[11] == "no question is answered"
    assert "question 6 (confident_guidance) is answered" in by_line[14]
    assert {row["import_id"] for row in kept} == {summary.import_id}
    assert {row["file_name"] for row in kept} == {"template.csv"}
    expected_keys = {"respondent_id", "submitted_at", *QUESTION_IDS}
    assert all(set(row["raw"]) == expected_keys for row in kept)
    line_6 = next(row["raw"] for row in kept if row["line_number"] == 6)
    assert line_6["uses_social_media"] == "Maybe" and line_6["respondent_id"] == "t-5"
    assert summary.first_reasons == [(line, by_line[line]) for line in (5, 6, 8, 9, 10)]


def test_duplicates_are_found_across_chunks(sqlite_engine):
    summary = import_path(sqlite_engine, TEMPLATE, chunk_rows=2)
    assert (summary.accepted, summary.duplicates, summary.quarantined) == (4, 1, 7)
    assert {row["line_number"] for row in quarantined(sqlite_engine)} == {5, 6, 8, 9, 10, 11, 14}


def test_answers_spelled_differently_are_checked_alike(sqlite_engine, tmp_path):
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0]
    data = "\n".join([
        header,
        "s-1,2018-09-12T10:00:00Z,Social worker,Yes,No,No,Yes,Yes,No,Not sure,",
        "s-2,2018-09-12T10:00:00Z,social_worker,yes,no,no,yes,yes,no,not_sure,",
        "s-3,2018-09-12T10:00:00Z,SOCIAL WORKER,YES,NO,NO,NO,Yes,NO,NO,",
        "s-4,2018-09-12T10:00:00Z,social worker,yes,no,no,no,yes,no,no,",
        "s-5,2018-09-12T10:00:00Z,,,,,,,,,",
        "s-6,2018-09-12T10:00:00Z, , , , , , , , ,",
        "s-7,2018-09-12T10:00:00Z,Astronaut,yes,no,no,no,,no,no,",
    ]) + "\n"
    summary = import_path(sqlite_engine, write(tmp_path / "spellings.csv", data.encode()))
    assert (summary.accepted, summary.quarantined) == (2, 5)
    stored = responses(sqlite_engine)
    assert answers(stored["s-1"]) == answers(stored["s-2"]) == (
        "social_worker", "yes", "no", "no", "yes", "yes", "no", "not_sure")
    reasons = {row["line_number"]: row["reason"] for row in quarantined(sqlite_engine)}
    contradiction = ("question 6 (confident_guidance) is answered (yes) but is asked only when "
                     "question 5 (aware_of_guidance) is yes, and it is no")
    assert reasons[4] == reasons[5] == contradiction
    assert reasons[6] == reasons[7] == "no question is answered"
    assert reasons[8].startswith("question 1 (role): 'Astronaut' is not one of: Social worker")


def test_the_example_template_asset_imports_cleanly(sqlite_engine):
    summary = import_path(sqlite_engine, ASSET)
    assert (summary.accepted, summary.duplicates, summary.quarantined) == (2, 0, 0)


# --- Encoding and line ends --------------------------------------------------------------------


def _variant(path: Path, tmp_path: Path, bom: bool, crlf: bool) -> Path:
    data = path.read_bytes()
    assert b"\r\n" not in data
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    if bom:
        data = codecs.BOM_UTF8 + data
    return write(tmp_path / path.name, data)


@pytest.mark.parametrize("bom, crlf", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("path", [TEMPLATE, SURVEYMONKEY, EXPANDED, GOOGLE_FORMS])
def test_bom_and_crlf_change_nothing(sqlite_engine, tmp_path, path, bom, crlf):
    summary = import_path(sqlite_engine, _variant(path, tmp_path, bom, crlf))
    expected = {TEMPLATE: (4, 1, 7), SURVEYMONKEY: (3, 1, 2), EXPANDED: (3, 0, 1),
                GOOGLE_FORMS: (4, 0, 2)}[path]
    assert (summary.accepted, summary.duplicates, summary.quarantined) == expected
    lines = {TEMPLATE: [5, 6, 8, 9, 10, 11, 14], SURVEYMONKEY: [5, 8], EXPANDED: [5],
             GOOGLE_FORMS: [6, 7]}[path]
    assert sorted(row["line_number"] for row in quarantined(sqlite_engine)) == lines


def test_invalid_utf8_midway_fails_the_whole_file_with_its_line(sqlite_engine, tmp_path):
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0]
    good = [f"r{i},2018-09-12T10:00:00Z,social_worker,yes,yes,no,no,,no,no,"
            for i in range(1, 2001)]
    data = "\n".join([header, *good]).encode() + b"\nbad,2018-09-12T10:00:00Z,Caf\xe9\n"
    path = write(tmp_path / "long.csv", data)
    assert len(data) > 64 * 1024  # beyond what detection reads
    with pytest.raises(FileProblem, match=r"^line 2002: not valid UTF-8 \(byte 0xe9"):
        import_path(sqlite_engine, path, chunk_rows=500)
    assert rows(sqlite_engine, "responses") == []
    assert rows(sqlite_engine, "imports") == []
    assert rows(sqlite_engine, "quarantine") == []


def test_a_nul_character_past_the_head_fails_the_whole_file_with_its_line(sqlite_engine,
                                                                          tmp_path):
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0]
    good = [f"r{i},2018-09-12T10:00:00Z,social_worker,yes,yes,no,no,,no,no,"
            for i in range(1, 2001)]
    # Line 2002, 42nd byte (4 + 21 + 8 + 8 before the "x"); the NUL is in the notes column,
    # which is never read: the file is refused all the same, as one with a NUL in its first
    # 64 KiB is ("binary data").
    bad = b"bad,2018-09-12T10:00:00Z,student,,,,,,,,x\x00\n"
    data = "\n".join([header, *good, ""]).encode() + bad
    path = write(tmp_path / "long.csv", data)
    assert len(data) > 64 * 1024 and data.index(b"\x00") > 64 * 1024
    detect(path)  # the head is clean: recognised as the template
    with pytest.raises(FileProblem, match=r"^line 2002: a NUL character \(byte 0x00 at column "
                                          r"42\): binary data, not a CSV export$"):
        import_path(sqlite_engine, path, chunk_rows=500)
    assert rows(sqlite_engine, "responses") == []
    assert rows(sqlite_engine, "imports") == []
    assert rows(sqlite_engine, "quarantine") == []


def test_a_nul_character_counts_lines_of_quoted_answers_and_crlf(sqlite_engine, tmp_path):
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0]
    # Each good row is one record on two physical lines (a quoted note with a line break).
    good = [f'r{i},2018-09-12T10:00:00Z,student,yes,no,no,no,,no,no,"{"n" * 40}\r\nmore"'
            for i in range(1, 1001)]
    data = "\r\n".join([header, *good, "r\x00x,2018-09-12T10:00:00Z,student\r\n"]).encode()
    path = write(tmp_path / "crlf.csv", data)
    assert data.index(b"\x00") > 64 * 1024
    # 1 header line, 2 physical lines for each of 1,000 rows, so the bad row is on line 2002.
    with pytest.raises(FileProblem,
                       match=r"^line 2002: a NUL character \(byte 0x00 at column 2\)"):
        import_path(sqlite_engine, path, chunk_rows=100)
    assert rows(sqlite_engine, "responses") == []


OUT_OF_RANGE = "is out of range: not between 0001-01-02 and 9999-12-30 in UTC"


def test_a_time_at_the_ends_of_the_years_1_to_9999_is_quarantined(store_engine, tmp_path):
    """Instants are kept a day inside the years 1 to 9999, so that every time zone can show them
    (the test PostgreSQL server's own zone is not UTC)."""
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0]
    answers_ = "student,yes,no,no,no,,no,no,"
    data = "\n".join([
        header,
        f"year-0,0001-01-01T00:00:00+01:00,{answers_}",   # 0000-12-31 23:00:00 UTC
        f"early,0001-01-02T00:59:59+01:00,{answers_}",    # 0001-01-01 23:59:59 UTC
        f"first,0001-01-02T01:00:00+01:00,{answers_}",    # 0001-01-02 00:00:00 UTC: stored
        f"last,9999-12-30T22:59:59.999999-01:00,{answers_}",  # 23:59:59.999999 UTC: stored
        f"late,9999-12-30T23:00:00-01:00,{answers_}",     # 9999-12-31 00:00:00 UTC
        f"year-10000,9999-12-31T23:30:00-01:00,{answers_}",  # 10000-01-01 00:30:00 UTC
        f"good,2018-09-12T10:00:00Z,{answers_}",
    ]) + "\n"
    summary = import_path(store_engine, write(tmp_path / "range.csv", data.encode()))
    assert (summary.accepted, summary.duplicates, summary.quarantined) == (3, 0, 4)
    stored = responses(store_engine)
    assert stored_time(stored["first"]) == datetime(1, 1, 2)
    assert stored_time(stored["last"]) == datetime(9999, 12, 30, 23, 59, 59, 999999)
    reasons = {row["line_number"]: row["reason"] for row in quarantined(store_engine)}
    assert reasons == {
        2: f"submission time '0001-01-01T00:00:00+01:00' {OUT_OF_RANGE}",
        3: f"submission time '0001-01-02T00:59:59+01:00' {OUT_OF_RANGE}",
        6: f"submission time '9999-12-30T23:00:00-01:00' {OUT_OF_RANGE}",
        7: f"submission time '9999-12-31T23:30:00-01:00' {OUT_OF_RANGE}"}


# --- SurveyMonkey ------------------------------------------------------------------------------


def test_surveymonkey_rows(sqlite_engine):
    summary = import_path(sqlite_engine, SURVEYMONKEY)
    # Accepted 1001 (line 3), 1002 (4), 1004 (6); 1001 again (7) is a duplicate;
    # 1003 (5: question 6 after "No") and 1005 (8: no End Date) are quarantined.
    assert (summary.accepted, summary.duplicates, summary.quarantined) == (3, 1, 2)
    stored = responses(sqlite_engine)
    assert set(stored) == {"1001", "1002", "1004"}
    assert {row["source"] for row in stored.values()} == {"surveymonkey"}
    assert stored["1002"]["role"] == "other"
    assert answers(stored["1004"]) == ("newly_qualified_social_worker", "no", "no", "no",
                                       "not_sure", "not_asked", "not_sure", "not_sure")
    assert stored_time(stored["1001"]) == utc("2018-09-12T09:05:32")  # BST
    assert stored_time(stored["1004"]) == utc("2018-11-28T10:15:32")  # GMT
    by_line = {row["line_number"]: row for row in quarantined(sqlite_engine)}
    assert by_line[8]["raw"]["role"] == "other"
    assert by_line[8]["reason"] == "no submission time"
    assert by_line[5]["raw"]["respondent_id"] == "1003"


def test_the_timezone_applies_to_timestamps_without_an_offset(sqlite_engine):
    import_path(sqlite_engine, SURVEYMONKEY, zone="America/New_York")
    assert stored_time(responses(sqlite_engine)["1001"]) == utc("2018-09-12T14:05:32")


def _surveymonkey_export(tmp_path: Path, *rows: str) -> Path:
    header = "".join(SURVEYMONKEY.read_text(encoding="utf-8").splitlines(keepends=True)[:2])
    body = "".join(f"{row}\n" for row in rows)
    return write(tmp_path / "surveymonkey.csv", (header + body).encode())


ROLE_AND_ANSWERS = "Social worker,,Yes,No,No,No,,No,No"


def test_surveymonkey_times_read_in_their_own_shape_and_others(sqlite_engine, tmp_path):
    path = _surveymonkey_export(tmp_path, *(
        f"{respondent},1,,{end},,,,,,{ROLE_AND_ANSWERS}" for respondent, end in [
            ("noon", "09/12/2018 12:05:00 PM"),        # BST: 11:05 UTC
            ("midnight", "09/12/2018 12:05:00 AM"),    # 23:05 UTC the day before
            ("leap", "02/29/2020 01:00:00 PM"),        # GMT: 13:00 UTC
            ("short", "9/12/2018 1:05 PM"),            # no seconds, no leading zeros
            ("lower", "09/12/2018 01:05:00 pm"),
            ("back", "10/28/2018 01:30:00 AM"),        # twice that night: the first, BST
            ("forward", "03/25/2018 01:30:00 AM"),     # never: moved forward to 02:00 BST
            ("offset", "2018-09-12T10:05:32+01:00"),   # an offset is honoured
            ("minus", "2018-09-12 10:05:32 -05:00"),
            ("no-such-day", "02/29/2019 01:00:00 PM"),
            ("hour-13", "09/12/2018 13:05:00 PM"),
        ]))
    summary = import_path(sqlite_engine, path)
    assert (summary.accepted, summary.quarantined) == (9, 2)
    stored = {key: stored_time(row) for key, row in responses(sqlite_engine).items()}
    assert stored == {
        "noon": utc("2018-09-12T11:05:00"), "midnight": utc("2018-09-11T23:05:00"),
        "leap": utc("2020-02-29T13:00:00"), "short": utc("2018-09-12T12:05:00"),
        "lower": utc("2018-09-12T12:05:00"), "back": utc("2018-10-28T00:30:00"),
        "forward": utc("2018-03-25T01:00:00"), "offset": utc("2018-09-12T09:05:32"),
        "minus": utc("2018-09-12T15:05:32")}
    reasons = {row["raw"]["respondent_id"]: row["reason"] for row in quarantined(sqlite_engine)}
    assert reasons == {
        "no-such-day": "submission time '02/29/2019 01:00:00 PM' is not a date and time in the "
                       "expected form",
        "hour-13": "submission time '09/12/2018 13:05:00 PM' is not a date and time in the "
                   "expected form"}


def test_a_surveymonkey_time_taken_out_of_range_by_its_zone_is_quarantined(sqlite_engine,
                                                                           tmp_path):
    path = _surveymonkey_export(tmp_path,
                                f"early,1,,01/02/0001 08:59:59 AM,,,,,,{ROLE_AND_ANSWERS}",
                                f"first,1,,01/02/0001 09:00:00 AM,,,,,,{ROLE_AND_ANSWERS}")
    summary = import_path(sqlite_engine, path, zone="Etc/GMT-9")  # nine hours east of UTC
    assert (summary.accepted, summary.quarantined) == (1, 1)
    assert stored_time(responses(sqlite_engine)["first"]) == datetime(1, 1, 2)
    [kept] = quarantined(sqlite_engine)
    assert (kept["line_number"], kept["reason"]) == (
        3, f"submission time '01/02/0001 08:59:59 AM' {OUT_OF_RANGE}")


def test_surveymonkey_expanded_layout(sqlite_engine):
    summary = import_path(sqlite_engine, EXPANDED)
    assert (summary.accepted, summary.duplicates, summary.quarantined) == (3, 0, 1)
    stored = responses(sqlite_engine)
    assert answers(stored["2001"]) == ("social_worker", "yes", "yes", "yes", "yes", "no",
                                       "not_sure", "yes")
    assert stored["2002"]["role"] == "other"
    assert answers(stored["2004"]) == ("student", "no_answer", "yes", "no", "no", "not_asked",
                                       "yes", "not_sure")
    [kept] = quarantined(sqlite_engine)
    assert kept["line_number"] == 5
    assert kept["reason"] == ("question 1 (role): more than one answer chosen "
                              "(Team manager; Service manager or head of service)")


def _xlsx_from_csv(csv_path: Path, xlsx_path: Path) -> Path:
    import csv
    workbook = Workbook()
    sheet = workbook.active
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            cells: list[object] = [cell or None for cell in row]
            if number > 2 and row[0] == "1001":
                cells[0] = 1001
                cells[3] = datetime(2018, 9, 12, 10, 5, 32)
            sheet.append(cells)
    workbook.save(xlsx_path)
    return xlsx_path


def test_surveymonkey_xlsx(sqlite_engine, tmp_path):
    path = _xlsx_from_csv(SURVEYMONKEY, tmp_path / "export.xlsx")
    detected = detect(path)
    assert (detected.format, detected.description) == ("surveymonkey_xlsx",
                                                        "SurveyMonkey export (XLSX)")
    summary = import_path(sqlite_engine, path)
    assert (summary.accepted, summary.duplicates, summary.quarantined) == (3, 1, 2)
    stored = responses(sqlite_engine)
    assert stored_time(stored["1001"]) == utc("2018-09-12T09:05:32")
    assert stored["1002"]["role"] == "other"
    assert sorted(row["line_number"] for row in quarantined(sqlite_engine)) == [5, 8]
    assert_not_stored(sqlite_engine, PERSONAL[SURVEYMONKEY])


# --- Google Forms ------------------------------------------------------------------------------


def test_google_forms_rows(sqlite_engine):
    summary = import_path(sqlite_engine, GOOGLE_FORMS)
    # Accepted lines 2, 3, 4 and 5 (5 is identical to 2 and kept); quarantined 6 and 7.
    assert (summary.accepted, summary.duplicates, summary.quarantined) == (4, 0, 2)
    stored = sorted(responses(sqlite_engine).values(), key=lambda r: r["id"])
    assert [r["role"] for r in stored] == ["social_worker", "other", "team_manager",
                                           "social_worker"]
    assert [stored_time(r) for r in stored] == [
        utc("2018-09-12T09:15:32"), utc("2018-09-12T10:00:00"), utc("2018-09-13T09:00:00"),
        utc("2018-09-12T09:15:32")]
    first, identical = stored[0]["source_respondent_id"], stored[3]["source_respondent_id"]
    assert first != identical and first.rsplit("-", 1)[0] == identical.rsplit("-", 1)[0]
    reasons = {row["line_number"]: row["reason"] for row in quarantined(sqlite_engine)}
    assert reasons[6] == "question 4 (viewed_for_evidence): 'Sometimes' is not one of: Yes, No"
    assert reasons[7].startswith("submission time 'yesterday' is not a date and time")


def test_google_forms_reimport_and_grown_export_add_only_new_rows(sqlite_engine, tmp_path):
    import_path(sqlite_engine, GOOGLE_FORMS)
    again = import_path(sqlite_engine, GOOGLE_FORMS)
    assert (again.accepted, again.duplicates, again.quarantined) == (0, 4, 2)
    grown = GOOGLE_FORMS.read_text(encoding="utf-8") + (
        "2018/09/20 9:00:00 AM GMT+1,g.person@example.org,Team manager,Yes,No,No,No,,No,No\n"
        "2018/09/12 10:15:32 AM GMT+1,h.person@example.org,Social worker,Yes,Yes,No,Yes,Yes,"
        "No,Yes\n")
    later = import_path(sqlite_engine, write(tmp_path / "google_forms.csv", grown.encode()))
    # The second new row is a third identical copy of line 2: a new respondent.
    assert (later.accepted, later.duplicates, later.quarantined) == (2, 4, 2)
    assert len(responses(sqlite_engine)) == 6


# --- Re-imports, personal data, demo data ------------------------------------------------------


def test_reimport_and_grown_surveymonkey_export(sqlite_engine, tmp_path):
    import_path(sqlite_engine, SURVEYMONKEY)
    again = import_path(sqlite_engine, SURVEYMONKEY)
    assert (again.accepted, again.duplicates, again.quarantined) == (0, 4, 2)
    grown = SURVEYMONKEY.read_text(encoding="utf-8") + (
        "1006,231000001,,12/01/2018 09:00:00 AM,,,,,,Team manager,,Yes,No,No,Yes,Yes,Yes,Yes\n"
        "1007,231000001,,12/01/2018 10:00:00 AM,,,,,,Social worker,,No,No,No,No,,No,No\n")
    later = import_path(sqlite_engine, write(tmp_path / "surveymonkey.csv", grown.encode()))
    assert (later.accepted, later.duplicates, later.quarantined) == (2, 4, 2)
    assert len(responses(sqlite_engine)) == 5
    assert [(r["accepted"], r["duplicates"], r["quarantined"])
            for r in rows(sqlite_engine, "imports")] == [(3, 1, 2), (0, 4, 2), (2, 4, 2)]


@pytest.mark.parametrize("path", [TEMPLATE, SURVEYMONKEY, EXPANDED, GOOGLE_FORMS])
def test_personal_data_reaches_no_table_and_no_byte_of_the_store(sqlite_engine, path):
    summary = import_path(sqlite_engine, path)
    assert summary.accepted and summary.quarantined
    assert_not_stored(sqlite_engine, PERSONAL[path])


def test_the_personal_data_check_would_see_a_leak(sqlite_engine):
    with sqlite_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.quarantine(connection, "x", [store.Rejected(1, {"email": "jane.doe@example.org"},
                                                          "test")])
    with pytest.raises(AssertionError, match="jane.doe@example.org"):
        assert_not_stored(sqlite_engine, PERSONAL[SURVEYMONKEY])


def _store_demo(engine: Engine, n: int) -> None:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, demo.DEMO_SOURCE, demo.generate(n, seed=3), is_demo=True)


def test_real_data_replaces_demo_data_in_the_same_import(sqlite_engine):
    _store_demo(sqlite_engine, 7)
    summary = import_path(sqlite_engine, SURVEYMONKEY)
    assert summary.demo_removed == 7
    assert {r["is_demo"] for r in rows(sqlite_engine, "responses")} == {False}
    assert rows(sqlite_engine, "imports")[0]["demo_removed"] == 7


def test_keep_demo_keeps_demo_data_labelled(sqlite_engine):
    _store_demo(sqlite_engine, 7)
    summary = import_path(sqlite_engine, SURVEYMONKEY, keep_demo=True)
    assert (summary.demo_removed, summary.demo_kept) == (0, 7)
    assert sum(r["is_demo"] for r in rows(sqlite_engine, "responses")) == 7
    assert rows(sqlite_engine, "imports")[0]["demo_removed"] == 0


def test_demo_data_stays_when_the_import_brings_no_real_response(sqlite_engine, tmp_path):
    _store_demo(sqlite_engine, 3)
    header = "".join(SURVEYMONKEY.read_text(encoding="utf-8").splitlines(keepends=True)[:2])
    summary = import_path(sqlite_engine, write(tmp_path / "empty.csv", header.encode()))
    assert (summary.accepted, summary.demo_removed) == (0, 0)
    assert len(rows(sqlite_engine, "responses")) == 3


# --- The generated export for the benchmark, and both databases --------------------------------


def test_write_export_round_trips_generated_responses(sqlite_engine, tmp_path):
    generated = demo.generate(60, seed=11, end=datetime(2018, 10, 1, tzinfo=timezone.utc))
    assert write_export(tmp_path / "sm.csv", generated) == 60
    summary = import_path(sqlite_engine, tmp_path / "sm.csv")
    assert (summary.accepted, summary.quarantined) == (60, 0)
    stored = responses(sqlite_engine)
    for row in generated:
        kept = stored[row["source_respondent_id"]]
        assert answers(kept) == tuple(row[q] for q in QUESTION_IDS)
        assert stored_time(kept) == row["submitted_at"].astimezone(timezone.utc).replace(
            tzinfo=None, microsecond=0)
    assert any(row["role"] == "other" for row in generated)
    assert_not_stored(sqlite_engine, ["Agency locum", "person1@example.org", "192.0.2."])


def test_imports_store_the_same_on_sqlite_and_postgresql(store_engine):
    summary = import_path(store_engine, SURVEYMONKEY)
    assert (summary.accepted, summary.duplicates, summary.quarantined) == (3, 1, 2)
    stored = responses(store_engine)
    assert stored_time(stored["1001"]) == utc("2018-09-12T09:05:32")
    assert stored["1002"]["role"] == "other" and stored["1001"]["is_demo"] is False
    again = import_path(store_engine, SURVEYMONKEY)
    assert (again.accepted, again.duplicates) == (0, 4)


def test_bulk_storing_counts_what_it_stores_like_store_responses(store_engine):
    generated = demo.generate(5, seed=2, end=datetime(2018, 10, 1, tzinfo=timezone.utc))
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        first = store.store_responses_bulk(connection, "s", generated[:2])
        second = store.store_responses_bulk(connection, "s", [*generated, generated[4]])
    assert (first.accepted, first.duplicates) == (2, 0)
    assert (second.accepted, second.duplicates) == (3, 3)
    stored = responses(store_engine)
    for row in generated:
        kept = stored[row["source_respondent_id"]]
        assert answers(kept) == tuple(row[q] for q in QUESTION_IDS)
        assert stored_time(kept) == row["submitted_at"].astimezone(timezone.utc).replace(
            tzinfo=None)
        assert kept["is_demo"] is False and kept["source"] == "s"
