"""What the benchmark scripts share: fixture stores, statistics, the machine's description, and
rewriting one script's own section of docs/benchmarks.md.

Nothing here is timed; it only prepares and reports.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterator, Sequence

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # run as a file (python benchmarks/x.py) as well as -m
    sys.path.insert(0, str(PROJECT_ROOT))

from sqlalchemy import Engine  # noqa: E402

from data_loaders import demo, releases, store  # noqa: E402
from data_loaders.db import WRITE, make_engine, upgrade  # noqa: E402
from data_loaders.models import Response  # noqa: E402
from survey.questionnaire import QUESTION_IDS  # noqa: E402
from survey.settings import Settings  # noqa: E402

DATA_DIR = PROJECT_ROOT / "benchmarks" / ".data"
DOCS = PROJECT_ROOT / "docs" / "benchmarks.md"
FIXTURE_END = datetime(2018, 10, 24, 12, 0, tzinfo=timezone.utc)
"""Fixture responses are dated in the six weeks before this, as the survey's were."""
FIXTURE_SOURCE = "benchmark"
FIXTURE_RELEASE_STEP = timedelta(days=1)
"""Fixture stores are published as a dashboard would have published them while they arrived,
one release tried a day (an hourly step would cost a scan of the waiting responses per hour of
fieldwork); the releases' hours are then spread over the six weeks as a live store's are."""
CHUNK = 100_000
PACKAGES = ("dash", "plotly", "pandas", "numpy", "SQLAlchemy", "Flask", "Werkzeug", "gunicorn",
            "psycopg", "playwright")


# --- Statistics --------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), interpolated linearly between the closest ranks."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stats(samples: Sequence[float]) -> dict[str, float]:
    return {"n": len(samples), "median": statistics.median(samples), "p95": percentile(samples, 95),
            "min": min(samples), "max": max(samples)}


def ms(seconds: float) -> str:
    """Seconds as milliseconds, with as many decimals as a reader needs."""
    value = seconds * 1000
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


# --- The machine -------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


START_LOAD = os.getloadavg()
"""The load average when the benchmark started (this module is imported at its start)."""


def machine(extra: dict[str, str] | None = None) -> list[str]:
    """Markdown bullet lines describing the machine and the software measured."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    packages = ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    lines = [
        f"- Machine: {_cpu_model()}, {cores} cores available, {_ram()} RAM, "
        f"{platform.system()} {platform.release()} (shared and noisy: compare ratios taken "
        "within one run, not absolute numbers across runs)",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; {packages}",
        "- Load average (1, 5, 15 min) at the start: "
        + ", ".join(f"{v:.1f}" for v in START_LOAD) + "; at the end: "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg()) + " (other work shares the machine)",
    ]
    for name, value in (extra or {}).items():
        lines.append(f"- {name}: {value}")
    return lines


def command_line() -> str:
    module = Path(sys.argv[0]).resolve()
    try:
        relative = module.relative_to(PROJECT_ROOT)
        name = ".".join(relative.with_suffix("").parts)
    except ValueError:
        name = str(module)
    return " ".join(["python", "-m", name, *sys.argv[1:]])


# --- docs/benchmarks.md ------------------------------------------------------------------------

INTRO = """# Benchmarks

Scripts in `benchmarks/` measure the product against the goals of the performance issue. Each
rewrites its own section below (between its `benchmark:NAME` markers) when it runs; text outside
the markers is kept. The machine they ran on is shared with other work and has two cores, so every
figure is compared with a baseline measured in the same run, and medians and ratios are what to
read. Nothing here is a test: no timing is asserted anywhere.

Run them from the project's root with the development requirements installed; `--quick` makes a
small run of each in under a minute. Fixtures go to `benchmarks/.data/` (ignored by git).
"""


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section between this benchmark's markers in docs/benchmarks.md."""
    start, end = f"<!-- benchmark:{name} start -->", f"<!-- benchmark:{name} end -->"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else INTRO
    block = f"{start}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(text, encoding="utf-8")
    print(f"Wrote the {name!r} section of {DOCS.relative_to(PROJECT_ROOT)}")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)


# --- Fixture stores ----------------------------------------------------------------------------


def fixture_rows(n: int, seed: int) -> list[dict[str, object]]:
    """``n`` realistic synthetic responses (demo.generate), dated in the survey's weeks."""
    return demo.generate(n, seed=seed, end=FIXTURE_END, prefix="bench")


def bulk_insert(engine: Engine, n: int, *, seed: int = 1000, chunk: int = CHUNK,
                progress: bool = True) -> None:
    """Append ``n`` responses with plain multi-row INSERTs (a fixture, not the import path)."""
    table_ = Response.__table__
    done = 0
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        for index, start in enumerate(range(0, n, chunk)):
            rows = fixture_rows(min(chunk, n - start), seed + index)
            records = [{**{q: row[q] for q in QUESTION_IDS}, "source": FIXTURE_SOURCE,
                        "source_respondent_id": row["source_respondent_id"], "is_demo": False,
                        "submitted_at": row["submitted_at"]} for row in rows]
            connection.execute(table_.insert(), records)
            done += len(records)
            if progress:
                print(f"  stored {done:,} of {n:,}", end="\r", flush=True)
    if progress:
        print()


def add_responses(engine: Engine, n: int, seed: int) -> int:
    """Store ``n`` new responses through the product's own writer (store.store_responses).
    They wait to be published: :func:`publish_now` makes the release."""
    rows = fixture_rows(n, seed)
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        return store.store_responses(connection, FIXTURE_SOURCE, rows).accepted


def release_settings(**overrides) -> Settings:
    """The product's default settings for the release rule (minimum cell size, pooling), with
    workers that never publish by themselves: the benchmarks publish when they mean to."""
    return Settings.from_env({}, **{"release_interval_seconds": 0.0, **overrides})


def publish_now(engine: Engine, settings: Settings | None = None) -> int:
    """Make a release now, as `python -m data_loaders publish` does; the responses it added
    (0 when the rule lets none of the waiting ones through)."""
    made = releases.publish(engine, settings or release_settings(), interval=0)
    return made.added if made else 0


def add_uniform(engine: Engine, n: int, seed: int) -> int:
    """Store ``n`` new responses that are alike for the release rule (one role, the same answer
    to question 2, every question answered), so that a release can take them all as soon as
    ``n`` is at least the minimum cell size: a new data version on demand."""
    template = next(row for row in fixture_rows(200, seed) if _answered_social_worker(row))
    rows = [{**template, "source_respondent_id": f"uniform-{seed}-{i}"} for i in range(n)]
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        return store.store_responses(connection, FIXTURE_SOURCE, rows).accepted


def _answered_social_worker(row: dict) -> bool:
    return (row["role"] == "social_worker" and row["uses_social_media"] == "yes"
            and all(row[q] not in ("no_answer", "not_asked") for q in QUESTION_IDS))


def publish_fixture(engine: Engine, *, progress: bool = True) -> int:
    """Publish what a fixture store holds as a live dashboard would have (a release tried every
    :data:`FIXTURE_RELEASE_STEP` over the submission times); the responses published in all.
    Responses the rule holds back (too few of their kind) keep waiting."""
    settings = release_settings()
    with engine.connect() as connection:
        first, last = store.submission_span(connection)
    if first is None:
        return 0
    started = time.perf_counter()
    made = releases.replay(engine, settings, start=first - FIXTURE_RELEASE_STEP, end=last,
                           step=FIXTURE_RELEASE_STEP)
    with engine.connect() as connection:
        status = releases.status(connection)
    if progress:
        print(f"  published {status.published:,} in {status.releases} releases "
              f"({made} replayed), {status.waiting:,} waiting, "
              f"in {time.perf_counter() - started:.0f} s")
    return status.published


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


FIXTURE_READY = "published"
"""What a fixture's marker file says once the store is built and published (a marker from before
releases existed says only the count, and its store is published before use)."""


def sqlite_store(n: int) -> Path:
    """A cached SQLite store of ``n`` fixture responses under benchmarks/.data/ (built once),
    published as a live dashboard would have published it (:func:`publish_fixture`).

    Treat it as read-only; copy it (:func:`copy_store`) to change it.
    """
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"store-{n}.sqlite3"
    done = path.with_suffix(".ready")
    if path.exists() and done.exists():
        if FIXTURE_READY in done.read_text():
            return path
        print(f"Publishing the fixture store of {n:,} responses")
        engine = make_engine(sqlite_url(path))
        upgrade(engine)
        publish_fixture(engine)
        _checkpoint(engine)
        done.write_text(f"{n} {FIXTURE_READY}\n")
        return path
    for stale in (path, done, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    print(f"Building the fixture store of {n:,} responses at {path.relative_to(PROJECT_ROOT)}")
    started = time.perf_counter()
    engine = make_engine(sqlite_url(path))
    upgrade(engine)
    bulk_insert(engine, n)
    publish_fixture(engine)
    _checkpoint(engine)
    done.write_text(f"{n} {FIXTURE_READY}\n")
    print(f"  built in {time.perf_counter() - started:.0f} s")
    return path


def _checkpoint(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def copy_store(source: Path, target: Path) -> Path:
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


# --- Processes ---------------------------------------------------------------------------------


def rss_bytes(pid: int) -> dict[str, int]:
    """Resident (RSS), proportional (PSS) and peak resident (HWM) memory of a process, in bytes."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) * 1024
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith(("Pss:", "Private_Clean:", "Private_Dirty:")):
                    key = line.split(":")[0]
                    values[key] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"rss": values.get("VmRSS", 0), "hwm": values.get("VmHWM", 0),
            "pss": values.get("Pss", 0),
            "uss": values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)}


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


@contextmanager
def process(argv: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None,
            cwd: Path = PROJECT_ROOT) -> Iterator[subprocess.Popen]:
    """A background process, ended (TERM, then KILL) by its own pid when the block exits."""
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(list(argv), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if log:
            out.close()


def ensure_debian_package(program: str, package: str) -> str | None:
    """The path of ``program``, installing Debian's ``package`` first when missing (as root)."""
    found = shutil.which(program)
    if found or os.geteuid() != 0:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "install", "-y", package], ["apt-get", "update"],
                 ["apt-get", "install", "-y", package]):
        print("+", " ".join(argv), flush=True)
        subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, check=False,
                       stdout=subprocess.DEVNULL)
        if shutil.which(program):
            break
    return shutil.which(program)


def _wrk_seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def parse_wrk(text: str) -> dict:
    """What wrk (run with ``--latency``) printed: requests/s, requests, non-2xx responses, socket
    errors, and the p50 and p99 latencies in seconds."""
    if "Requests/sec" not in text:
        raise RuntimeError(f"wrk failed:\n{text}")
    out = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
           "requests": int(re.search(r"(\d+) requests in", text).group(1)),
           "non2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text))
           else 0,
           "errors": re.search(r"Socket errors:.*", text).group(0) if "Socket errors" in text
           else ""}
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", text, re.MULTILINE)
        out[f"p{pct}"] = _wrk_seconds(match.group(1)) if match else float("nan")
    return out
