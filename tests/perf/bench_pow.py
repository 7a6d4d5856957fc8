"""How long the browser's proof-of-work solver takes at each adaptive level.

Runs the real Web Worker in the system Chromium against a real daphne and prints
hashes per second and the expected solve time per difficulty, here and for a
phone-class device estimated at a fifth of this machine's single-core speed
(Chromium's CPU throttling does not reach Web Workers, so it cannot stand in).

    .venv/bin/python tests/perf/bench_pow.py
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import CHROMIUM, DaphneServer  # noqa: E402

PHONE_FACTOR = 5

SOLVE = """async ([difficulty, runs]) => {
  const { solve } = await import('/static/js/pow.js');
  const results = [];
  for (let i = 0; i < runs; i++) {
    const challenge = crypto.randomUUID().replaceAll('-', '');
    const worker = new Worker('/static/js/pow-worker.js');
    const started = performance.now();
    const out = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({ challenge, difficulty });
    });
    worker.terminate();
    results.push({ tries: out.tries, ms: performance.now() - started });
  }
  return results;
}"""


def measure(page, difficulty: int, runs: int) -> tuple[float, list[float]]:
    results = page.evaluate(SOLVE, [difficulty, runs])
    tries = sum(r["tries"] for r in results)
    ms = sum(r["ms"] for r in results)
    return tries / (ms / 1000), [r["ms"] for r in results]


def main() -> None:
    server = DaphneServer().start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            page.goto(server.url + "/about")
            speed, times = measure(page, 4, 16)
            browser.close()
            rows = [
                ("this machine", speed, statistics.median(times), max(times)),
                ("phone-class (estimate, 1/5)", speed / PHONE_FACTOR, None, None),
            ]
    finally:
        server.stop()
    print("\nProof of work in the browser (difficulty 4 = POW_DIFFICULTY default)")
    print(f"{'device':<30} {'hashes/s':>10} {'median ms':>10} {'max ms':>8}")
    for label, speed, median, worst in rows:
        measured = (
            f"{median:>10,.0f} {worst:>8,.0f}" if median is not None else f"{'-':>10} {'-':>8}"
        )
        print(f"{label:<30} {speed:>10,.0f} {measured}")
    print("\nExpected solve time by level (16^d hashes on average):")
    print(f"{'difficulty':<11}" + "".join(f"{label:>30}" for label, *_ in rows))
    for difficulty in range(3, 8):
        cells = "".join(f"{16**difficulty / speed:>29.2f}s" for _, speed, *_ in rows)
        print(f"{difficulty:<11}{cells}")


if __name__ == "__main__":
    main()
