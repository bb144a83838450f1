"""``python -m data_loaders import``: what it prints, its exit codes, that a refused file leaves
the store untouched, and that what it imported is published when the rule allows."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from data_loaders import demo, releases, store
from data_loaders.cli import main
from data_loaders.db import WRITE
from tests.test_importers_support import (EXPANDED, GOOGLE_FORMS, SURVEYMONKEY, TEMPLATE,
                                          responses, rows)


ENVIRONMENT = {"MIN_CELL_SIZE": "10", "POOL_AFTER": "500", "POOLED_ROLES": ""}


def run(engine: Engine, *arguments: object, command: str = "import"):
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(main, ["--database-url", url, command, *map(str, arguments)],
                              env=ENVIRONMENT)


def assert_untouched(engine: Engine) -> None:
    assert rows(engine, "imports") == []
    assert rows(engine, "responses") == []
    assert rows(engine, "quarantine") == []


@pytest.mark.parametrize("path, detected, counts", [
    (TEMPLATE, "response template (CSV)",
     "Accepted 4, already present (duplicates) 1, quarantined 7."),
    (SURVEYMONKEY, "SurveyMonkey export (CSV)",
     "Accepted 3, already present (duplicates) 1, quarantined 2."),
    (EXPANDED, "SurveyMonkey export (CSV, expanded: one column per answer option)",
     "Accepted 3, already present (duplicates) 0, quarantined 1."),
    (GOOGLE_FORMS, "Google Forms export (CSV)",
     "Accepted 4, already present (duplicates) 0, quarantined 2."),
])
def test_each_format_prints_its_summary(sqlite_engine, path, detected, counts):
    result = run(sqlite_engine, path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}: {detected}"
    assert "not stored anywhere" in lines[1]
    assert counts in result.stdout
    assert "List them all with: python -m data_loaders quarantine --import-id 1" in result.stdout
    assert result.stderr == ""


def test_only_the_first_five_quarantine_reasons_are_printed(sqlite_engine):
    result = run(sqlite_engine, TEMPLATE)
    printed = [line.strip() for line in result.stdout.splitlines()
               if line.strip().startswith("line ")]
    assert [line.split(":")[0] for line in printed] == ["line 5", "line 6", "line 8", "line 9",
                                                         "line 10"]
    assert "First 5 quarantined:" in result.stdout


def test_ignored_personal_columns_are_listed(sqlite_engine):
    result = run(sqlite_engine, SURVEYMONKEY)
    ignored = result.stdout.splitlines()[1]
    assert ignored.startswith("  Ignored 8 column(s), not stored anywhere: ")
    for column in ("IP Address", "Email Address", "First Name", "Last Name", "Custom Data 1",
                   "Other (please specify)"):
        assert column in ignored


@pytest.mark.parametrize("content, reason", [
    (None, "no such file"),
    (b"", "the file is empty"),
    (b"\x00\x01\x02\x03binary", "binary data, not a CSV or XLSX export"),
    (b"respondent_id,submitted_at,role\nr1,2018-09-12,Caf\xe9\n", "line 2: not UTF-8 text"),
    (b"first,second\n1,2\n", "not a recognised export: expected the response template"),
    (b"Timestamp,What is your role?\n2018/09/12 10:00:00,Social worker\n",
     "has no column for question 2 (uses_social_media)"),
])
def test_a_refused_file_prints_one_error_line_and_writes_nothing(sqlite_engine, tmp_path,
                                                                 content, reason):
    path = tmp_path / "export.csv"
    if content is not None:
        path.write_bytes(content)
    result = run(sqlite_engine, path)
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: ") and reason in line
    assert_untouched(sqlite_engine)


def test_a_bad_file_among_several_stops_all_before_anything_is_written(sqlite_engine, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"just,some\ncolumns,here\n")
    result = run(sqlite_engine, SURVEYMONKEY, bad)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}: not a recognised export")
    assert_untouched(sqlite_engine)


def test_a_read_failure_midway_rolls_the_file_back(sqlite_engine, tmp_path):
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0]
    good = [f"r{i},2018-09-12T10:00:00Z,student,yes,no,no,no,,no,no," for i in range(1, 3001)]
    path = tmp_path / "long.csv"
    path.write_bytes("\n".join([header, *good]).encode() + b"\nr,2018-09-12,\xff\xfe\n")
    result = run(sqlite_engine, path)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: line 3002: not valid UTF-8 (byte 0xff")
    assert_untouched(sqlite_engine)


def test_reimport_reports_duplicates(sqlite_engine):
    run(sqlite_engine, SURVEYMONKEY)
    result = run(sqlite_engine, SURVEYMONKEY)
    assert result.exit_code == 0
    assert "Accepted 0, already present (duplicates) 4, quarantined 2." in result.stdout
    assert "--import-id 2" in result.stdout


def _store_demo(engine: Engine) -> None:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, demo.DEMO_SOURCE, demo.generate(5, seed=1), is_demo=True)


def test_importing_real_data_removes_demo_data_and_says_so(sqlite_engine):
    _store_demo(sqlite_engine)
    result = run(sqlite_engine, GOOGLE_FORMS)
    assert result.exit_code == 0
    assert "Removed 5 demo responses: the store now holds real responses only." in result.stdout
    assert not any(r["is_demo"] for r in rows(sqlite_engine, "responses"))
    assert rows(sqlite_engine, "imports")[0]["demo_removed"] == 5


def test_keep_demo_keeps_them_and_says_they_are_still_labelled(sqlite_engine):
    _store_demo(sqlite_engine)
    result = run(sqlite_engine, "--keep-demo", GOOGLE_FORMS)
    assert result.exit_code == 0
    assert "Kept 5 demo responses (--keep-demo)" in result.stdout
    assert "labelled demo" in result.stdout and "Removed" not in result.stdout
    assert sum(r["is_demo"] for r in rows(sqlite_engine, "responses")) == 5


def test_source_and_timezone_options(sqlite_engine):
    result = run(sqlite_engine, "--source", "ccinform-2018", "--timezone", "UTC", SURVEYMONKEY)
    assert result.exit_code == 0, result.output
    stored = responses(sqlite_engine)
    assert {r["source"] for r in stored.values()} == {"ccinform-2018"}
    assert stored["1001"]["submitted_at"].hour == 10  # 10:05:32 AM read as UTC
    assert rows(sqlite_engine, "imports")[0]["source"] == "ccinform-2018"


@pytest.mark.parametrize("option, value", [("--timezone", "Mars/Olympus"), ("--source", "demo")])
def test_invalid_options_are_refused_before_anything_is_read(sqlite_engine, option, value):
    result = run(sqlite_engine, option, value, SURVEYMONKEY)
    assert result.exit_code == 2
    assert_untouched(sqlite_engine)


def test_several_files_are_imported_in_turn(sqlite_engine):
    result = run(sqlite_engine, SURVEYMONKEY, GOOGLE_FORMS)
    assert result.exit_code == 0
    assert result.stdout.count("Accepted") == 2
    assert [r["format"] for r in rows(sqlite_engine, "imports")] == ["surveymonkey",
                                                                      "google_forms"]
    assert Path(rows(sqlite_engine, "imports")[1]["file_name"]) == Path("google_forms.csv")


def template_file(directory: Path, rows: list[str]) -> Path:
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0]
    path = directory / "responses.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


STUDENT = "2018-09-12T10:00:00Z,student,yes,no,no,no,,no,no,"
MANAGER = "2018-09-12T11:00:00Z,team_manager,no,no,no,no,,no,no,"


def test_an_import_publishes_what_the_rule_lets_through_when_it_finishes(sqlite_engine,
                                                                          tmp_path):
    # 12 students alike and 3 team managers: the students go, the 3 managers are too few.
    path = template_file(tmp_path, [f"s{i},{STUDENT}" for i in range(12)]
                         + [f"m{i},{MANAGER}" for i in range(3)])
    result = run(sqlite_engine, path)
    assert result.exit_code == 0, result.output
    assert "Accepted 15, already present (duplicates) 0, quarantined 0." in result.stdout
    assert result.stdout.splitlines()[-1] == "Published 12 more responses (12 in all)."
    published = {r["source_respondent_id"]: r["release_seq"] for r in rows(sqlite_engine,
                                                                            "responses")}
    assert published == {**{f"s{i}": 1 for i in range(12)}, **{f"m{i}": None for i in range(3)}}


def test_an_import_too_small_to_publish_says_so(sqlite_engine):
    result = run(sqlite_engine, GOOGLE_FORMS)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "Nothing to publish: 4 waiting until they can be published without singling anyone out.")
    assert rows(sqlite_engine, "releases") == []


def test_an_import_replacing_published_demo_data_publishes_real_data_from_nothing(sqlite_engine,
                                                                                  tmp_path):
    alike = {"role": "student", "uses_social_media": "yes", "viewed_profile": "no",
             "viewed_for_evidence": "no", "aware_of_guidance": "no",
             "confident_guidance": "not_asked", "confident_rules": "no", "knows_who_to_ask": "no"}
    demo_rows = [{**row, **alike} for row in demo.generate(10, seed=1)]
    with sqlite_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, demo.DEMO_SOURCE, demo_rows, is_demo=True)
    published = run(sqlite_engine, command="publish")
    assert published.stdout == "Published 10 more responses (10 in all).\n"
    path = template_file(tmp_path, [f"m{i},{MANAGER}" for i in range(10)])
    result = run(sqlite_engine, path)
    assert result.exit_code == 0, result.output
    assert "Removed 10 demo responses" in result.stdout
    assert result.stdout.splitlines()[-1] == "Published 10 more responses (10 in all)."
    with sqlite_engine.connect() as connection:
        state = releases.status(connection)
        assert store.epoch(connection) == 1
    assert (state.releases, state.published, state.waiting) == (1, 10, 0)
