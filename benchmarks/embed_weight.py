"""Weight and speed of an embed against the full dashboard page, in headless Chromium.

Measures, for `/embed/<chart>` and for the dashboard page `/` that shows the same chart, the bytes
transferred (response bodies as encoded on the wire, plus headers) and the time from navigation to
the first drawn chart is visible (the embed's server-drawn bars, the dashboard's first plotly
`.main-svg`), each a median over fresh browser contexts (empty cache).
Goals: an embed transfers at most 30% of the dashboard page's bytes and shows its chart within
1.5 s on loopback.

    python -m benchmarks.embed_weight            # 7 runs each
    python -m benchmarks.embed_weight --quick    # 2 runs each
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import time
import urllib.request

from playwright.sync_api import Error as PlaywrightError

from benchmarks import common
from data_loaders import releases
from data_loaders.db import make_engine

PAGES = {"embed": "/embed/viewed_profile?role=social_worker",
         "dashboard": "/?role=social_worker"}
CHART = {"embed": "#chart .bar", "dashboard": ".main-svg"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking",
                 "--disable-component-update", "--disable-gpu"]


def measure(browser, url: str, chart: str) -> tuple[int, float]:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    sizes: list[int] = []

    def finished(request) -> None:
        try:
            info = request.sizes()
        except PlaywrightError:  # the request was cancelled: nothing arrived
            return
        sizes.append(info["responseBodySize"] + info["responseHeadersSize"])

    page.on("requestfinished", finished)
    page.goto(url, wait_until="commit")
    page.wait_for_selector(chart, state="visible", timeout=60_000)
    shown_ms = page.evaluate("performance.now()")
    page.wait_for_load_state("networkidle")
    context.close()
    return sum(sizes), shown_ms / 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--responses", type=int, default=1_000)
    args = parser.parse_args(argv)
    runs = 2 if args.quick else 7
    from playwright.sync_api import sync_playwright

    store = common.sqlite_store(args.responses)
    engine = make_engine(common.sqlite_url(store))
    with engine.connect() as connection:
        published = releases.status(connection).published
    engine.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": common.sqlite_url(store), "DEMO_RESPONSES": "0"}
    base = f"http://127.0.0.1:{port}"
    results: dict[str, list[tuple[int, float]]] = {name: [] for name in PAGES}
    with common.process([sys.executable, "-m", "gunicorn", "app:server", "--workers", "1",
                         "--bind", f"127.0.0.1:{port}"], env=env):
        wait_until_up(base)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                 args=CHROMIUM_ARGS)
            for name, path in PAGES.items():  # one warm-up each: server-side caches filled
                measure(browser, base + path, CHART[name])
            for _ in range(runs):
                for name, path in PAGES.items():
                    results[name].append(measure(browser, base + path, CHART[name]))
            browser.close()

    rows = []
    medians = {}
    for name, samples in results.items():
        sizes = [s for s, _ in samples]
        times = [t for _, t in samples]
        medians[name] = (statistics.median(sizes), statistics.median(times))
        rows.append([name, PAGES[name], f"{medians[name][0]:,.0f}", f"{medians[name][1]:.2f}",
                     f"{max(times):.2f}", len(samples)])
    share = medians["embed"][0] / medians["dashboard"][0]
    markdown = "\n".join([
        "## Embed weight and time to chart",
        "",
        f"Command: `{common.command_line()}`  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        *common.machine({"Server": "gunicorn app:server, 1 worker, responses compressed "
                                   "(gzip) as the app sends them, loopback"}),
        "",
        f"Store: SQLite, {args.responses:,} responses, {published:,} of them published (as a "
        "dashboard would have published them while they arrived). Fresh browser context (empty "
        "cache) for "
        "every run; bytes are response bodies as transferred plus headers.",
        "",
        common.table(["page", "URL", "bytes (median)", "s to first chart (median)",
                      "s to first chart (slowest)", "runs"], rows),
        "",
        f"- Goal (embed at most 30% of the dashboard page's bytes): "
        f"{'met' if share <= 0.30 else '**missed**'}: {share:.1%}.",
        f"- Goal (embed shows its chart within 1.5 s): "
        f"{'met' if medians['embed'][1] <= 1.5 else '**missed**'}: median "
        f"{medians['embed'][1]:.2f} s (the dashboard page, same runs: "
        f"{medians['dashboard'][1]:.2f} s).",
    ])
    common.write_section("embed-weight", markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
