"""Import of a large SurveyMonkey CSV export into SQLite, through the real command line.

Issue goal: importing a 1,000,000-row SurveyMonkey-style CSV into SQLite takes at most 60 s with
peak memory at most 500 MB.

The export is written by ``data_loaders.importers.surveymonkey.write_export`` from
``data_loaders.demo.generate`` rows (generated in chunks; the writing alone is timed and
reported as the export's cost) to benchmarks/.data/. Then, ``--repeats`` times, into a fresh
store each time (created beforehand with ``python -m data_loaders init``, untimed):

    python -m data_loaders --database-url sqlite:///... import FILE

runs in a subprocess whose wall time and peak resident memory (``ru_maxrss`` from ``wait4`` for
that child alone) are measured. The command publishes what the release rule lets through when
it has stored the file (one release), and that is part of its time. Baselines in the same run,
measured the same way: a Python subprocess that merely reads the same CSV with the ``csv``
module (a floor for any importer written in Python), and the command line's fixed cost
(``python -m data_loaders --help``).
``--profile`` also imports the file once under cProfile and lists where the time goes.

Run (from the project's root; a full run takes about 5 minutes):

    python -m benchmarks.import_export              # 1,000,000 rows, 3 imports
    python -m benchmarks.import_export --quick      # 20,000 rows, 1 import: well under a minute
    python -m benchmarks.import_export --rows 200000 --repeats 1 --profile

Results go to the ``import-export`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (DATA_DIR, PROJECT_ROOT, command_line,  # noqa: E402
                               fixture_rows, machine, sqlite_url, stats, table, write_section)

GOAL_SECONDS = 60.0
GOAL_PEAK_MB = 500.0
CHUNK = 50_000
CSV_FLOOR = """
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    n = sum(1 for _ in csv.reader(handle))
print(n)
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="responses in the export")
    parser.add_argument("--repeats", type=int, default=3, help="timed imports (fresh store each)")
    parser.add_argument("--floor-repeats", type=int, default=3, help="timed plain csv reads")
    parser.add_argument("--profile", action="store_true",
                        help="also import once under cProfile and report the top functions")
    parser.add_argument("--quick", action="store_true", help="20,000 rows, one import")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows = min(args.rows, 20_000)
        args.repeats = min(args.repeats, 1)
        args.floor_repeats = min(args.floor_repeats, 1)
    return args


# --- The export --------------------------------------------------------------------------------


def write_fixture(rows: int) -> tuple[Path, float, float]:
    """The SurveyMonkey CSV of ``rows`` responses; seconds spent writing and generating rows."""
    from data_loaders.importers.surveymonkey import write_export

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"surveymonkey-{rows}.csv"
    generating = 0.0

    def generated() -> Iterator[dict]:
        nonlocal generating
        for index, start in enumerate(range(0, rows, CHUNK)):
            began = time.perf_counter()
            batch = fixture_rows(min(CHUNK, rows - start), 5_000 + index)
            generating += time.perf_counter() - began
            yield from batch

    print(f"Writing a SurveyMonkey export of {rows:,} responses to "
          f"{path.relative_to(PROJECT_ROOT)}...")
    began = time.perf_counter()
    written = write_export(path, generated())
    total = time.perf_counter() - began
    assert written == rows, (written, rows)
    return path, total - generating, generating


# --- Subprocesses ------------------------------------------------------------------------------


LAUNCHER = """
import json, os, subprocess, sys, time
report, argv = sys.argv[1], sys.argv[2:]
began = time.perf_counter()
child = subprocess.Popen(argv)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - began
with open(report, "w") as handle:
    json.dump({"wall": wall, "peak": usage.ru_maxrss * 1024,
               "code": os.waitstatus_to_exitcode(status)}, handle)
"""
"""Runs a command and reports its wall time, peak RSS and exit code. Linux starts a new
process's ``ru_maxrss`` from its parent's peak, so a command started by this benchmark (which
holds the rows it generated) would report at least this benchmark's own peak; started by this
small launcher, it reports its own, give or take the launcher's ten or so megabytes."""


def spawn(argv: list[str], *, env: dict[str, str] | None = None) -> dict:
    """Run ``argv`` to its end through :data:`LAUNCHER`: its wall time, peak RSS (bytes), exit
    code and output."""
    out_path = DATA_DIR / "subprocess.out"
    err_path = DATA_DIR / "subprocess.err"
    report_path = DATA_DIR / "subprocess.json"
    report_path.unlink(missing_ok=True)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        subprocess.run([sys.executable, "-c", LAUNCHER, str(report_path), *argv],
                       cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                       stderr=err, check=True)
    result = json.loads(report_path.read_text())
    result.update(stdout=out_path.read_text(errors="replace"),
                  stderr=err_path.read_text(errors="replace"))
    for path in (out_path, err_path, report_path):
        path.unlink(missing_ok=True)
    return result


def fresh_store(name: str) -> Path:
    path = DATA_DIR / name
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    result = spawn([sys.executable, "-m", "data_loaders", "--database-url", sqlite_url(path),
                    "init"])
    if result["code"] != 0:
        raise SystemExit(f"init failed: {result['stderr']}")
    return path


def remove_store(path: Path) -> None:
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)


def import_once(csv_path: Path, rows: int) -> dict:
    store_path = fresh_store("import-work.sqlite3")
    result = spawn([sys.executable, "-m", "data_loaders", "--database-url",
                    sqlite_url(store_path), "import", str(csv_path)])
    remove_store(store_path)
    if result["code"] != 0:
        raise SystemExit(f"the import failed ({result['code']}):\n{result['stdout']}\n"
                         f"{result['stderr'][-4000:]}")
    accepted = re.search(r"Accepted (\d+)", result["stdout"])
    result["accepted"] = int(accepted.group(1)) if accepted else None
    published = re.search(r"Published (\d+) more", result["stdout"])
    result["published"] = int(published.group(1)) if published else 0
    if result["accepted"] != rows:
        print(f"warning: accepted {result['accepted']} of {rows} rows:\n{result['stdout']}",
              file=sys.stderr)
    return result


def profile_import(csv_path: Path, top: int = 18) -> str:
    """One import in this process under cProfile; the top functions by cumulative time."""
    from data_loaders import importers
    from data_loaders.db import WRITE, make_engine, upgrade

    store_path = DATA_DIR / "import-profile.sqlite3"
    remove_store(store_path)
    engine = make_engine(sqlite_url(store_path))
    upgrade(engine)
    detected = importers.detect(csv_path)
    profiler = cProfile.Profile()
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        profiler.enable()
        importers.import_file(connection, detected)
        profiler.disable()
    engine.dispose()
    remove_store(store_path)
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(top)
    text = buffer.getvalue()
    text = text.replace(str(PROJECT_ROOT) + "/", "").replace(sys.prefix + "/", "")
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


# --- Main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import data_loaders.importers.surveymonkey as surveymonkey  # noqa: F401
        surveymonkey.write_export  # noqa: B018
    except (ImportError, AttributeError) as error:
        print(f"The SurveyMonkey importer is not there yet: {error}", file=sys.stderr)
        return 2
    csv_path, t_export, t_generate = write_fixture(args.rows)
    size = csv_path.stat().st_size
    print(f"  {size / 2**20:,.0f} MiB written in {t_export:.1f} s "
          f"(plus {t_generate:.1f} s generating rows)")

    print("CLI fixed cost: python -m data_loaders --help ...")
    fixed = [spawn([sys.executable, "-m", "data_loaders", "--help"]) for _ in range(3)]
    floors, imports = [], []
    # Interleaved, so that a slow patch of a noisy machine hits both alike.
    for i in range(max(args.repeats, args.floor_repeats)):
        if i < args.floor_repeats:
            print(f"Plain csv read {i + 1}/{args.floor_repeats}...")
            floor = spawn([sys.executable, "-c", CSV_FLOOR, str(csv_path)])
            assert floor["code"] == 0, floor["stderr"]
            floors.append(floor)
        if i < args.repeats:
            print(f"Import {i + 1}/{args.repeats}...")
            imports.append(import_once(csv_path, args.rows))
            print(f"  {imports[-1]['wall']:.1f} s, peak {imports[-1]['peak'] / 1e6:,.0f} MB")
    profile = profile_import(csv_path) if args.profile else None

    s_import = stats([r["wall"] for r in imports])
    s_floor = stats([r["wall"] for r in floors])
    s_fixed = stats([r["wall"] for r in fixed])
    peak_import = max(r["peak"] for r in imports)
    peak_floor = max(r["peak"] for r in floors)
    rate = args.rows / s_import["median"]
    time_goal = "met" if s_import["max"] <= GOAL_SECONDS else "**missed**"
    memory_goal = "met" if peak_import / 1e6 <= GOAL_PEAK_MB else "**missed**"
    rows = [
        ("**`python -m data_loaders import FILE`**", f"{s_import['median']:.1f}",
         f"{s_import['max']:.1f}", f"{peak_import / 1e6:,.0f}", f"{rate:,.0f}", len(imports)),
        ("plain `csv.reader` over the same file (floor)", f"{s_floor['median']:.1f}",
         f"{s_floor['max']:.1f}", f"{peak_floor / 1e6:,.0f}",
         f"{args.rows / s_floor['median']:,.0f}", len(floors)),
        ("`python -m data_loaders --help` (start-up cost)", f"{s_fixed['median']:.2f}",
         f"{s_fixed['max']:.2f}", f"{max(r['peak'] for r in fixed) / 1e6:,.0f}", "", len(fixed)),
        ("export: `surveymonkey.write_export` (in process, rows pre-generated)",
         f"{t_export:.1f}", "", "", f"{args.rows / t_export:,.0f}", 1),
    ]
    parts = [
        "## Import of a SurveyMonkey CSV into SQLite",
        "",
        f"Command: `{command_line()}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        "",
        *machine(),
        "",
        f"File: {args.rows:,} responses written by `surveymonkey.write_export` from "
        f"`demo.generate` rows ({size / 2**20:,.0f} MiB, two header rows, personal-data "
        "columns filled in). Each import goes into a fresh SQLite store (created by `init`, "
        "untimed) in its own process; wall time includes the interpreter's start. "
        "Peak memory is the child's own `ru_maxrss` (MB = 10^6 bytes), reaped by a small "
        "launcher process (Linux starts a child's `ru_maxrss` from its parent's peak, so a "
        "command started by the benchmark itself would report at least the benchmark's peak).",
        "",
        table(("What", "median s", "max s", "peak RSS MB", "rows/s", "runs"), rows),
        "",
        f"- Goal (at most {GOAL_SECONDS:.0f} s): {time_goal}: median {s_import['median']:.1f} s, "
        f"slowest {s_import['max']:.1f} s.",
        f"- Goal (peak memory at most {GOAL_PEAK_MB:.0f} MB): {memory_goal}: "
        f"{peak_import / 1e6:,.0f} MB.",
        f"- Import / plain csv read (medians): {s_import['median'] / s_floor['median']:.1f}x.",
        "- Rows accepted per import: " + ", ".join(f"{r['accepted']:,}" for r in imports)
        + "; published by the release the command makes at its end (included in its time): "
        + ", ".join(f"{r['published']:,}" for r in imports) + ".",
    ]
    if profile:
        parts += ["", "One import under cProfile (in process; cumulative time, top functions):",
                  "", "```", profile, "```"]
    markdown = "\n".join(parts)
    print(markdown)
    if not args.no_docs:
        write_section("import-export", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
