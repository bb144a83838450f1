"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, CheckConstraint, inspect, insert, select, text

from data_loaders import releases
from data_loaders.db import WRITE, alembic_config, is_up_to_date, make_engine, upgrade
from data_loaders.models import Base, Response
from survey.questionnaire import NO_ANSWER, NOT_ASKED, QUESTIONS
from survey.settings import PROJECT_ROOT, Settings

TABLES = {"responses", "quarantine", "imports", "store_meta", "frozen_charts", "releases"}
HEAD = "0004"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request, tmp_path) -> Engine:
    """A store with nothing in it, not even the schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_database")()
    engine = make_engine(url)
    yield engine
    engine.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def revision(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def differences(engine: Engine) -> list:
    """What ``alembic check`` would report: the models against the store's schema."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "compare_server_default": True,
            "render_as_batch": connection.dialect.name == "sqlite"})
        return compare_metadata(context, Base.metadata)


def check_constraints(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_check_constraints("responses")}


MODEL_CHECKS = {c.name for c in Response.__table__.constraints if isinstance(c, CheckConstraint)}


def test_head_is_the_one_revision():
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD]


def test_upgrade_creates_the_schema_on_an_empty_store(empty_engine):
    assert tables(empty_engine) == set()
    assert is_up_to_date(empty_engine) is False
    upgrade(empty_engine)
    assert tables(empty_engine) == TABLES | {"alembic_version"}
    assert revision(empty_engine) == {HEAD}
    assert is_up_to_date(empty_engine) is True
    columns = [c["name"] for c in inspect(empty_engine).get_columns("responses")]
    assert columns == ["id", "source", "source_respondent_id", "submitted_at", "stored_at",
                       "is_demo", *(q.id for q in QUESTIONS), "release_seq"]
    assert [c["name"] for c in inspect(empty_engine).get_columns("releases")] == [
        "seq", "token", "published_at", "min_cell_size", "pooled", "published_roles", "added",
        "total"]


def test_models_and_migrations_agree(empty_engine):
    upgrade(empty_engine)
    assert differences(empty_engine) == []
    # Autogenerate does not compare CHECK constraints: their names are compared here, and what
    # they allow is tested below and in test_store.py.
    assert check_constraints(empty_engine) == MODEL_CHECKS
    assert len(MODEL_CHECKS) == len(QUESTIONS) + 1


def test_differences_are_noticed(empty_engine):
    """The comparison above can fail: a column the migrations lack is reported."""
    upgrade(empty_engine)
    with empty_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        connection.execute(text("ALTER TABLE quarantine ADD COLUMN extra INTEGER"))
    assert [d[0] for d in differences(empty_engine)] == ["remove_column"]


def valid_answers(question_id: str, code: str) -> dict[str, str]:
    answers = {q.id: q.codes[0] for q in QUESTIONS}  # first codes: role social_worker, yes...
    answers[question_id] = code
    if question_id == "confident_guidance":
        answers["aware_of_guidance"] = "no" if code == NOT_ASKED else "yes"
    elif question_id == "aware_of_guidance" and code != "yes":
        answers["confident_guidance"] = NOT_ASKED
    return answers


def test_the_migrated_schema_accepts_every_code_the_questionnaire_allows(empty_engine):
    """The migration writes the code lists out; they must be the questionnaire's."""
    upgrade(empty_engine)
    rows = [{"source": "codes", "source_respondent_id": f"{q.id}={code}",
             "submitted_at": datetime(2018, 9, 12, tzinfo=timezone.utc),
             **valid_answers(q.id, code)}
            for q in QUESTIONS for code in q.stored_codes]
    # role: 11 + no answer; 3 yes/no questions: 3 each; 3 with not sure: 4 each; question 6: 5
    assert len(rows) == 12 + 3 * 3 + 3 * 4 + 5
    with empty_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        for row in rows:  # one by one, so that a refusal names its row
            connection.execute(insert(Response).values(**row))
    with empty_engine.connect() as connection:
        assert connection.scalar(select(Response.id).order_by(Response.id.desc())) == len(rows)
        # Missing codes are accepted everywhere; "not asked" only for question 6.
        assert NO_ANSWER in {r["role"] for r in rows}


def test_upgrade_twice_is_a_no_op(empty_engine):
    upgrade(empty_engine)
    with empty_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        connection.execute(insert(Response).values(
            source="s", source_respondent_id="1", submitted_at=datetime(2018, 9, 12),
            **valid_answers("role", "student")))
    upgrade(empty_engine)
    assert revision(empty_engine) == {HEAD}
    assert differences(empty_engine) == []
    with empty_engine.connect() as connection:
        assert connection.scalar(select(Response.source_respondent_id)) == "1"
        assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1


def test_downgrade_to_base_then_upgrade_again(empty_engine):
    upgrade(empty_engine)
    command.downgrade(alembic_config(empty_engine), "base")
    assert tables(empty_engine) == {"alembic_version"}
    assert revision(empty_engine) == set()
    assert is_up_to_date(empty_engine) is False

    upgrade(empty_engine)
    assert tables(empty_engine) >= TABLES
    assert revision(empty_engine) == {HEAD}
    assert differences(empty_engine) == []
    assert check_constraints(empty_engine) == MODEL_CHECKS


def column_names(engine: Engine, table: str) -> list[str]:
    return [c["name"] for c in inspect(engine).get_columns(table)]


def insert_raw(engine: Engine, rows: list[dict]) -> None:
    """Rows written with plain SQL, naming only the columns every revision has."""
    names = list(rows[0])
    statement = text(f"INSERT INTO responses ({', '.join(names)}) "
                     f"VALUES ({', '.join(':' + n for n in names)})")
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        connection.execute(statement, rows)


def test_responses_stored_before_releases_existed_wait_for_the_first(empty_engine):
    command.upgrade(alembic_config(empty_engine), "0003")
    assert "releases" not in tables(empty_engine)
    assert "release_seq" not in column_names(empty_engine, "responses")
    insert_raw(empty_engine, [{"source": "s", "source_respondent_id": str(i),
                               "submitted_at": datetime(2018, 9, 12, tzinfo=timezone.utc),
                               "is_demo": False, **valid_answers("role", "student")}
                              for i in range(10)])

    upgrade(empty_engine)
    assert revision(empty_engine) == {HEAD}
    with empty_engine.connect() as connection:
        state = releases.status(connection)
    assert (state.releases, state.published, state.waiting) == (0, 0, 10)
    made = releases.publish(empty_engine, Settings.from_env({}, min_cell_size=10), interval=0)
    assert (made.seq, made.added, made.total) == (1, 10, 10)  # ten alike: one class of ten


def test_downgrade_to_0003_and_upgrade_again_keep_the_responses(empty_engine):
    upgrade(empty_engine)
    insert_raw(empty_engine, [{"source": "s", "source_respondent_id": str(i),
                               "submitted_at": datetime(2018, 9, 12, tzinfo=timezone.utc),
                               "is_demo": False, **valid_answers("role", "student")}
                              for i in range(10)])
    assert releases.publish(empty_engine, Settings.from_env({}, min_cell_size=10),
                            interval=0).added == 10

    command.downgrade(alembic_config(empty_engine), "0003")
    assert revision(empty_engine) == {"0003"}
    assert tables(empty_engine) == TABLES - {"releases"} | {"alembic_version"}
    assert "release_seq" not in column_names(empty_engine, "responses")
    assert "release" not in column_names(empty_engine, "frozen_charts")
    with empty_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM responses")) == 10
    # SQLite rebuilt the table without the column: the same checks, and ids still never reused.
    assert check_constraints(empty_engine) == MODEL_CHECKS
    with empty_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        connection.execute(text("DELETE FROM responses WHERE id = 10"))
    insert_raw(empty_engine, [{"source": "s", "source_respondent_id": "new",
                               "submitted_at": datetime(2018, 9, 12, tzinfo=timezone.utc),
                               "is_demo": False, **valid_answers("role", "student")}])
    with empty_engine.connect() as connection:
        assert connection.scalar(text("SELECT max(id) FROM responses")) == 11

    upgrade(empty_engine)
    assert revision(empty_engine) == {HEAD}
    assert differences(empty_engine) == []
    with empty_engine.connect() as connection:
        state = releases.status(connection)
    assert (state.releases, state.published, state.waiting) == (0, 0, 10)  # 9 + "new"


def test_alembic_command_line_configuration_uses_database_url(empty_engine, monkeypatch):
    """``alembic upgrade head`` from the project's alembic.ini migrates the store that
    DATABASE_URL names (env.py builds its own engine then)."""
    monkeypatch.chdir(PROJECT_ROOT)
    monkeypatch.setenv("DATABASE_URL", empty_engine.url.render_as_string(hide_password=False))
    command.upgrade(Config(str(PROJECT_ROOT / "alembic.ini")), "head")
    assert revision(empty_engine) == {HEAD}
    assert differences(empty_engine) == []
