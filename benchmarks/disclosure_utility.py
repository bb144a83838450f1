"""What the disclosure rule leaves the public: the share of (filter, question) pairs shown for
the filters people use most, before and after releases.

The filters: each role code on its own; each role with social-media use yes and with no; the
role presets of dashboard/shell.py (frontline practitioners, managers and leaders, students,
everyone); and social-media use yes and no alone: 39 filters, each over the eight questions
(312 pairs), and each with the six UK and US comparisons (234). A pair is shown when the question
is not suppressed in the filter's summary; a comparison when it has a UK figure. A filter naming
a role that is pooled shows the pooled group, as the pages do (the filter is resolved against the
grouping): its pairs count as shown when the pooled group's are.

Two data sets: the demo data (``data_loaders.demo.generate(1500, seed=1)``, what the app writes
on an empty store) and ``benchmarks.datasets.realistic()`` (2,950 responses shaped as a national
professional survey's, with more item non-response and small roles).

* **After** (this version): the rows are stored in a fresh SQLite store and published as the app
  publishes demo data (``data_loaders.bootstrap.seed_releases``: a release tried every two hours
  of the data's own history; for the realistic set, whose history ended years ago, the same
  replay ends at its last submission, since the tries after it could publish nothing new), then
  the summaries are read from a ``dashboard.live.LiveData`` snapshot, as the pages read them.
* **Before** (commit d1aff47, the last one without releases): a git worktree of that commit
  (``git worktree add``, at ``--before-tree``, made if missing and removed afterwards if this
  script made it) runs the same measurement against that version's API, where every stored
  response was counted and small roles were pooled by ``group_roles``.

Run (from the project's root, in a git checkout; under a minute):

    python -m benchmarks.disclosure_utility

Results go to the ``disclosure-utility`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.benchmark import compare, load_study  # noqa: E402
from analysis.summary import summarise  # noqa: E402
from analysis.views import POOLED, Filter  # noqa: E402
from benchmarks.common import (DATA_DIR, FIXTURE_SOURCE, PROJECT_ROOT,  # noqa: E402
                               command_line, machine, release_settings, sqlite_url, table,
                               write_section)
from benchmarks.datasets import realistic  # noqa: E402
from benchmarks.freshness import KINDS as WAITING_KINDS, kind_of  # noqa: E402
from dashboard.live import LiveData  # noqa: E402
from dashboard.shell import ROLE_PRESETS  # noqa: E402
from data_loaders import bootstrap, demo, releases, store  # noqa: E402
from data_loaders.db import WRITE, make_engine, upgrade  # noqa: E402
from data_loaders.loader import waiting_classes  # noqa: E402
from survey.questionnaire import ROLE_CODES  # noqa: E402

BEFORE_COMMIT = "d1aff47"
MINIMUM = 10
KINDS = ("role", "role+social_media", "preset", "social_media")
KIND_LABELS = {"role": "a role", "role+social_media": "a role, social media yes or no",
               "preset": "a preset", "social_media": "social media yes or no"}


def filters() -> list[tuple[str, str, tuple[str, ...], str | None]]:
    """(label, kind, role codes, social-media value) of every filter measured."""
    out = [(f"role={r}", "role", (r,), None) for r in ROLE_CODES]
    out += [(f"role={r}&social_media={s}", "role+social_media", (r,), s)
            for r in ROLE_CODES for s in ("yes", "no")]
    out += [(f"preset={key}", "preset", codes, None)
            for key, (_label, codes) in ROLE_PRESETS.items()]
    out += [(f"social_media={s}", "social_media", (), s) for s in ("yes", "no")]
    return out


def datasets() -> dict[str, tuple[list[dict], bool]]:
    """Name -> (rows, stored as demo data)."""
    return {"demo-1500": (demo.generate(1500, seed=1), True),
            "realistic-2950": (realistic(), False)}


# --- After: this version -----------------------------------------------------------------------


def publish_as_the_app_does(engine, settings, is_demo: bool) -> int:
    """Releases as :func:`data_loaders.bootstrap.seed_releases` makes them; see the module's
    docstring for the realistic set."""
    if is_demo:
        return bootstrap.seed_releases(engine, settings)
    with engine.connect() as connection:
        first, last = store.submission_span(connection)
    step = bootstrap.DEMO_RELEASE_STEP
    return releases.replay(engine, settings, start=first - step, end=last, step=step)


def measure_after(name: str, rows: list[dict], is_demo: bool) -> dict:
    path = DATA_DIR / f"utility-{name}.sqlite3"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    engine = make_engine(sqlite_url(path))
    upgrade(engine)
    settings = release_settings(min_cell_size=MINIMUM)
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        source = demo.DEMO_SOURCE if is_demo else FIXTURE_SOURCE
        stored = store.store_responses(connection, source, rows, is_demo=is_demo).accepted
    made = publish_as_the_app_does(engine, settings, is_demo)
    snapshot = LiveData(engine, settings).snapshot()
    with engine.connect() as connection:
        status = releases.status(connection)
        waiting = Counter()
        for key, n in waiting_classes(connection).items():
            waiting[kind_of(key.role, key.social_media, key.pattern)] += n
    engine.dispose()
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)

    study = load_study()
    result = {"pairs": 0, "shown": 0, "comparisons": 0, "comparisons_shown": 0,
              "by_kind": {}, "responses": stored, "published": int(snapshot.total),
              "releases": made, "pooled": sorted(snapshot.grouping.pooled),
              "pooled_filters": [], "suppressed": Counter(), "too_few": [],
              "withheld": 0, "waiting": dict(waiting)}
    for label, kind, roles, social_media in filters():
        view = Filter.parse(list(roles), social_media)
        resolved = snapshot.grouping.resolve(view)
        if POOLED in resolved.roles:
            result["pooled_filters"].append(label)
        summary = summarise(snapshot.cube, snapshot.grouping, view, MINIMUM, snapshot.safety)
        if summary.suppressed:
            result["too_few"].append(label)
        counts = result["by_kind"].setdefault(kind, [0, 0])
        for question in summary.questions:
            result["pairs"] += 1
            counts[1] += 1
            if not question.suppressed:
                result["shown"] += 1
                counts[0] += 1
            else:
                result["suppressed"][question.question.id] += 1
                check = snapshot.safety.get(question.question.id)
                if check is not None and not check.allows(resolved, snapshot.grouping):
                    result["withheld"] += 1
        for comparison in compare(summary, study):
            result["comparisons"] += 1
            result["comparisons_shown"] += comparison.uk_percent is not None
    assert status.published == result["published"], (status.published, result["published"])
    result["suppressed"] = dict(result["suppressed"])
    return result


# --- Before: commit d1aff47 --------------------------------------------------------------------

BEFORE = r'''
"""The measurement of benchmarks/disclosure_utility.py against the API of commit d1aff47."""
import json, sys
sys.path.insert(0, sys.argv[1])  # the old checkout
sys.path.insert(1, sys.argv[2])  # where benchmarks/datasets.py lives
from collections import Counter
from analysis.cube import Cube
from analysis.summary import summarise, safety
from analysis.views import POOLED, Filter, group_roles
from analysis.benchmark import compare, load_study
from data_loaders.loader import to_frame
from data_loaders.demo import generate
from datasets import realistic
from survey.questionnaire import QUESTION_IDS

filters = json.loads(sys.argv[3])
minimum = int(sys.argv[4])

def cube_of(rows):
    records = [(i + 1, r["submitted_at"], True, *[r[q] for q in QUESTION_IDS])
               for i, r in enumerate(rows)]
    return Cube.from_frame(to_frame(records))

out = {}
study = load_study()
for name, rows in (("demo-1500", generate(1500, seed=1)), ("realistic-2950", realistic())):
    cube = cube_of(rows)
    grouping = group_roles(cube, minimum)
    safe = safety(cube, grouping, minimum)
    result = {"pairs": 0, "shown": 0, "comparisons": 0, "comparisons_shown": 0, "by_kind": {},
              "responses": len(rows), "published": int(cube.total),
              "pooled": sorted(grouping.pooled), "pooled_filters": [],
              "social_media_filter": bool(grouping.social_media_filter),
              "suppressed": Counter(), "too_few": [], "withheld": 0}
    for label, kind, roles, social_media in filters:
        view = Filter.parse(list(roles), social_media)
        resolved = grouping.resolve(view)
        if POOLED in resolved.roles:
            result["pooled_filters"].append(label)
        summary = summarise(cube, grouping, view, minimum, safe)
        if summary.suppressed:
            result["too_few"].append(label)
        counts = result["by_kind"].setdefault(kind, [0, 0])
        for question in summary.questions:
            result["pairs"] += 1
            counts[1] += 1
            if not question.suppressed:
                result["shown"] += 1
                counts[0] += 1
            else:
                result["suppressed"][question.question.id] += 1
                check = safe.get(question.question.id)
                if check is not None and not check.allows(resolved, grouping):
                    result["withheld"] += 1
        for comparison in compare(summary, study):
            result["comparisons"] += 1
            result["comparisons_shown"] += comparison.uk_percent is not None
    out[name] = result
print(json.dumps(out))
'''


def git(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *argv], cwd=PROJECT_ROOT, capture_output=True, text=True)


def measure_before(tree: Path) -> dict:
    """The measurement in a worktree of :data:`BEFORE_COMMIT` (made if missing, and removed
    afterwards if made here)."""
    made = False
    if not (tree / "analysis" / "views.py").exists():
        added = git("worktree", "add", "--detach", str(tree), BEFORE_COMMIT)
        if added.returncode != 0:
            raise SystemExit(f"git worktree add {tree} {BEFORE_COMMIT} failed:\n{added.stderr}")
        made = True
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree,
                              capture_output=True, text=True, check=True).stdout.strip()
        if not BEFORE_COMMIT.startswith(head) and not head.startswith(BEFORE_COMMIT):
            raise SystemExit(f"{tree} is at {head}, not {BEFORE_COMMIT}")
        done = subprocess.run(
            [sys.executable, "-c", BEFORE, str(tree), str(PROJECT_ROOT / "benchmarks"),
             json.dumps(filters()), str(MINIMUM)],
            cwd=tree, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the measurement at {BEFORE_COMMIT} failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if made:
            git("worktree", "remove", "--force", str(tree))


# --- Reporting ---------------------------------------------------------------------------------


def share(shown: int, total: int) -> str:
    return f"{shown} of {total} ({shown / total:.0%})" if total else "–"


def report(before: dict, after: dict, wall: float) -> str:
    names = list(after)
    summary_rows, kind_rows, pooled_rows = [], [], []
    for name in names:
        for version, data in (("before (d1aff47)", before[name]), ("after (releases)",
                                                                    after[name])):
            published = data["published"]
            summary_rows.append([
                name, version, share(data["shown"], data["pairs"]),
                share(data["comparisons_shown"], data["comparisons"]),
                f"{published:,} of {data['responses']:,} ({published / data['responses']:.1%})",
                data.get("releases", "–")])
            kind_rows.append([name, version, *(share(*data["by_kind"].get(kind, (0, 0)))
                                               for kind in KINDS)])
            pooled = [code for code in data["pooled"] if code != "no_answer"]
            pooled_rows.append([name, version, ", ".join(pooled) or "none",
                                len(data["pooled_filters"]), len(data["too_few"]),
                                data["withheld"],
                                ", ".join(f"{q} {n}" for q, n in sorted(
                                    data["suppressed"].items(), key=lambda item: -item[1]))
                                or "none"])
    lines = [
        "## Disclosure rule: what the public may see, before and after releases",
        "",
        f"Command: `{command_line()}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        "",
        *machine(),
        "",
        f"{len(filters())} filters (each role code, each role with social media yes and no, "
        "the four presets of the role filter, social media yes and no alone), each over the "
        "eight questions and the six UK and US comparisons; minimum cell size "
        f"{MINIMUM}. A pair is shown when its question is not suppressed in the filter's "
        "summary (a comparison: when it has a UK figure). A filter naming a pooled role shows "
        "the pooled group, as the pages do, and counts as shown where the pooled group's "
        "figures are. Before: commit d1aff47, every stored response counted, small roles "
        "pooled by `group_roles`. After: the rows stored and published as the app publishes "
        "demo data (`bootstrap.seed_releases`, a release tried every two hours of the data's "
        "history), the summaries read from a `LiveData` snapshot; only published responses "
        f"count. The whole run took {wall:.0f} s.",
        "",
        table(["data set", "version", "(filter, question) pairs shown", "UK–US comparisons shown",
               "responses published", "releases"], summary_rows),
        "",
        "By kind of filter (pairs shown):",
        "",
        table(["data set", "version", *(KIND_LABELS[kind] for kind in KINDS)], kind_rows),
        "",
        "Pooled roles (besides \"no answer\"), the filters that resolve to the pooled group, the "
        f"filters with fewer than {MINIMUM} respondents in them (every question suppressed), "
        "the pairs withheld by the per-question check (`question_safety`: the view would single "
        "out a small part of some atom), and the suppressed pairs by question, over every "
        "filter:",
        "",
        table(["data set", "version", "pooled roles", "filters showing the pooled group",
               f"filters of fewer than {MINIMUM}", "withheld by the check",
               "suppressed pairs by question"],
              pooled_rows),
    ]
    lines.append("")
    for name in names:
        b, a = before[name], after[name]
        waiting = a["responses"] - a["published"]
        kinds = ", ".join(f"{a['waiting'].get(kind, 0)} {kind}" for kind in WAITING_KINDS)
        lines.append(
            f"- {name}: after / before, pairs shown {a['shown']} / {b['shown']} "
            f"({a['shown'] - b['shown']:+d}); comparisons shown {a['comparisons_shown']} / "
            f"{b['comparisons_shown']} ({a['comparisons_shown'] - b['comparisons_shown']:+d}); "
            f"responses counted {a['published']:,} / {b['published']:,}: {waiting:,} wait "
            f"({kinds})." + (f" Filters of fewer than {MINIMUM} after: "
                             + ", ".join(f"`{label}`" for label in a["too_few"]) + "."
                             if a["too_few"] else ""))
    lines += [
        "- Why more pairs are shown after, from fewer responses: a release adds to every atom "
        "(a role group with one answer to question 2), and to those in it who answered, left "
        "blank or were not asked each question (and each pair of questions), nobody or at "
        f"least {MINIMUM}, so no view can "
        "single out a small part of an atom and the per-question check (`question_safety`) "
        + ("withheld nothing after (0 in the table above)"
           if not any(after[name]["withheld"] for name in names)
           else "should withhold nothing after, yet withheld "
           + ", ".join(f"{after[name]['withheld']} ({name})" for name in names))
        + ". Before, that check withheld a question from every view "
        "that would have singled out a small part of some atom, and small roles were pooled by "
        "their size at the moment. What is suppressed after is what has fewer than "
        f"{MINIMUM} in the view itself: a role group with nothing published yet in one answer "
        "to question 2 (the filters of fewer than ten), and question 6 where nobody in the "
        "view has a published answer to it yet (its groups too hold 0 or at least ten).",
        "- The cost is in responses, not in pairs: those of a kind still too few to publish "
        "wait (those who left a question blank until ten of the same atom left the same "
        "question blank; the others until their part of their role group has ten), and a role "
        "with nothing published once "
        "`POOL_AFTER` (500) responses were is pooled for good, even after it has grown.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-tree", type=Path, default=Path("/tmp/utility-before"),
                        help="where the worktree of the previous version is (or is made)")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--quick", action="store_true",
                        help="accepted for symmetry with the other benchmarks: the full run is already short")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    print(f"Before: commit {BEFORE_COMMIT} in {args.before_tree}...")
    before = measure_before(args.before_tree)
    after = {}
    for name, (rows, is_demo) in datasets().items():
        print(f"After: {name}, stored, published and summarised...")
        after[name] = measure_after(name, rows, is_demo)
    for name in after:
        for version, data in (("before", before[name]), ("after", after[name])):
            print(f"  {name} {version}: {data['shown']} of {data['pairs']} pairs, "
                  f"{data['comparisons_shown']} of {data['comparisons']} comparisons, "
                  f"{data['published']:,} of {data['responses']:,} responses")
    markdown = report(before, after, time.perf_counter() - began)
    print(markdown)
    if not args.no_docs:
        write_section("disclosure-utility", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
