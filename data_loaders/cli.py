"""``python -m data_loaders``: set up the store, import exports, look at the quarantine, demo data."""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from data_loaders import demo, importers, releases, store
from data_loaders.bootstrap import seed_releases
from data_loaders.db import WRITE, make_engine, upgrade
from survey.settings import Settings


def _engine(ctx: click.Context):
    settings: Settings = ctx.obj
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


@click.group()
@click.option("--database-url", envvar="DATABASE_URL", default=None,
              help="SQLAlchemy URL of the store (default: the settings' DATABASE_URL).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Manage the survey store."""
    overrides = {"database_url": database_url} if database_url else {}
    ctx.obj = Settings.from_env(**overrides)


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the store if missing and bring its schema up to date."""
    engine = _engine(ctx)
    with engine.connect() as connection:
        total = store.count_responses(connection)
    click.echo(f"Store is up to date: {engine.url.render_as_string(hide_password=True)} "
               f"({total} responses).")


@main.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """How many responses (real and demo) and quarantined rows the store holds, and how many
    are published."""
    engine = _engine(ctx)
    with engine.connect() as connection:
        real = store.count_responses(connection, demo=False)
        fake = store.count_responses(connection, demo=True)
        kept = len(store.list_quarantine(connection))
        made = releases.status(connection)
    click.echo(f"{real} responses, {fake} demo responses, {kept} rows in quarantine.")
    click.echo(f"{made.published} published in {_count(made.releases, 'release')}; "
               f"{made.waiting} {_WAITING}.")


_WAITING = "waiting until they can be published without singling anyone out"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _publish(ctx: click.Context, engine, *, say_nothing: bool = True) -> None:
    """Make a release now if the rule lets any waiting response through, and say what it
    published (or, when ``say_nothing``, that there was nothing to publish)."""
    try:
        made = releases.publish(engine, ctx.obj, interval=0)
    except releases.ReleaseRefused as refused:
        raise click.ClickException(f"nothing published: {refused}") from None
    if made is not None:
        click.echo(f"Published {made.added} more responses ({made.total} in all).")
    elif say_nothing:
        with engine.connect() as connection:
            waiting = releases.status(connection).waiting
        click.echo(f"Nothing to publish: {waiting} {_WAITING}.")


@main.command()
@click.option("--watch", is_flag=True,
              help="Keep publishing: try again every RELEASE_INTERVAL_SECONDS (30 s when it is "
                   "0) until interrupted.")
@click.pass_context
def publish(ctx: click.Context, watch: bool) -> None:
    """Publish the waiting responses that the release rule lets through (see Methodology)."""
    engine = _engine(ctx)
    _publish(ctx, engine)
    pause = ctx.obj.release_interval_seconds or 30.0
    try:
        while watch:
            time.sleep(pause)
            _publish(ctx, engine, say_nothing=False)
    except KeyboardInterrupt:
        pass


def _valid_zone(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"{value!r} is not an IANA time zone such as Europe/London") from None
    return value


def _valid_source(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (value == demo.DEMO_SOURCE or not 0 < len(value) <= 64):
        raise click.BadParameter(f"must be 1 to 64 characters and not {demo.DEMO_SOURCE!r}")
    return value


def _import_failed(ctx: click.Context, path: Path, problem: importers.FileProblem,
                   consequence: str = "") -> None:
    click.echo(f"error: {path}: {problem}{consequence}", err=True)
    ctx.exit(1)


@main.command(name="import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", default=None, callback=_valid_source,
              help="Source name stored with the responses (default: per format: template, "
                   "surveymonkey, google_forms).")
@click.option("--timezone", "zone", default="Europe/London", show_default=True,
              callback=_valid_zone,
              help="Time zone of export timestamps written without an offset.")
@click.option("--keep-demo", is_flag=True,
              help="Keep demo responses (still labelled demo) instead of removing them.")
@click.pass_context
def import_command(ctx: click.Context, files: tuple[Path, ...], source: str | None, zone: str,
                   keep_demo: bool) -> None:
    """Import exports: the response template, SurveyMonkey CSV/XLSX or Google Forms CSV.

    Every file is checked before anything is written; each is then imported in one transaction.
    """
    detected = []
    for path in files:
        try:
            detected.append(importers.detect(path))
        except importers.FileProblem as problem:
            _import_failed(ctx, path, problem)
    engine = _engine(ctx)
    for item in detected:
        for line in importers.header_lines(item):
            click.echo(line)
        try:
            with engine.connect().execution_options(**WRITE) as connection, connection.begin():
                summary = importers.import_file(connection, item, source=source, zone=zone,
                                                keep_demo=keep_demo, progress=True)
        except importers.FileProblem as problem:
            _import_failed(ctx, item.path, problem, "; nothing from this file was stored")
        for line in importers.report_lines(summary):
            click.echo(line)
    _publish(ctx, engine)


@main.command(name="demo")
@click.option("--responses", "-n", type=click.IntRange(1, 10_000_000), required=True,
              help="How many synthetic responses to write.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The same seed writes the same responses (a second run adds nothing).")
@click.pass_context
def demo_command(ctx: click.Context, responses: int, seed: int) -> None:
    """Write synthetic responses, tagged as demo data."""
    engine = _engine(ctx)
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        if store.count_responses(connection, demo=False):
            raise click.ClickException(
                "the store holds real responses; demo ones would mix with them. "
                "Use a separate store (--database-url) for demo data.")
        result = store.store_responses(connection, demo.DEMO_SOURCE,
                                       demo.generate(responses, seed=seed), is_demo=True)
    click.echo(f"Wrote {result.accepted} demo responses"
               + (f" ({result.duplicates} were already there)." if result.duplicates else "."))
    if result.accepted:
        try:
            made = seed_releases(engine, ctx.obj)
        except releases.ReleaseRefused as refused:
            raise click.ClickException(f"nothing published: {refused}") from None
        with engine.connect() as connection:
            published = releases.status(connection).published
        click.echo(f"Published as they arrived: {published} in all, in "
                   f"{_count(made, 'new release')}.")


@main.command()
@click.option("--rate", type=click.FloatRange(0.01, 1000), default=0.5, show_default=True,
              help="Responses a second, on average.")
@click.option("--count", type=click.IntRange(1), default=None,
              help="Stop after this many (default: until interrupted).")
@click.pass_context
def simulate(ctx: click.Context, rate: float, count: int | None) -> None:
    """Keep adding demo responses, to watch the dashboard update live."""
    engine = _engine(ctx)
    with engine.connect() as connection:
        if store.count_responses(connection, demo=False):
            raise click.ClickException(
                "the store holds real responses; simulated ones would mix with them. "
                "Use a separate store (--database-url) to simulate.")
    written = 0
    click.echo(f"Adding about {rate:g} demo responses a second; Ctrl+C stops.")
    try:
        while count is None or written < count:
            time.sleep(random.expovariate(rate))
            row = demo.generate(1, seed=random.getrandbits(63), end=datetime.now(timezone.utc),
                                weeks=1e-9, prefix="simulated")
            with engine.connect().execution_options(**WRITE) as connection, connection.begin():
                written += store.store_responses(connection, demo.DEMO_SOURCE, row,
                                                 is_demo=True).accepted
    except KeyboardInterrupt:
        pass
    click.echo(f"Added {written} demo responses.")


@main.command(name="quarantine")
@click.option("--limit", type=click.IntRange(1), default=None, help="Show at most this many.")
@click.option("--import-id", type=int, default=None, help="Only the rows of this import.")
@click.pass_context
def quarantine_command(ctx: click.Context, limit: int | None, import_id: int | None) -> None:
    """List the rows that could not be accepted, with the reason for each."""
    engine = _engine(ctx)
    with engine.connect() as connection:
        rows = store.list_quarantine(connection, limit=limit, import_id=import_id)
    if not rows:
        click.echo("The quarantine is empty.")
        return
    for row in rows:
        where = f"{row.file_name or row.source}" + (f", line {row.line_number}" if row.line_number else "")
        click.echo(f"#{row.id} {where}: {row.reason}")
        click.echo(f"    {row.raw}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
