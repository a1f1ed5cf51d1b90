"""The HTML report of a day's news: its size, the time to write it, and in headless Chromium
the time to first paint and to apply each filter.

Takes a "day" of real articles from ../shared/corpora (the first --ar Arabic and --en English
articles in corpus order, default 2,400 and 600), checks them together with the library, writes
the ``html`` report and reports findings, documents on the page, bytes (and bytes per finding)
and the median time to render it. With Chromium, chromedriver and selenium (the test extra),
it then opens the page --repeats times and reads, in the page, the first contentful paint
(Paint Timing, from the navigation's start) and, for each kind's tick box unticked then ticked
again, the time from the click to the frame after it (the click event's timeStamp to a task
after the next requestAnimationFrame, with performance.now()). Without them the browser rows
are left out, with a note.

    python benchmarks/bench_html_report.py [--ar 2400] [--en 600] [--repeats 3] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

CLICK_CLOCK = """
window.__filterMs = [];
document.addEventListener("click", function (e) {
  if (!e.target.closest || !e.target.closest("#filters input")) return;
  var t0 = e.timeStamp;
  requestAnimationFrame(function () { setTimeout(function () { window.__filterMs.push(performance.now() - t0); }, 0); });
}, true);
"""
PAINT = ("var p = performance.getEntriesByName('first-contentful-paint')[0];"
         " var n = performance.getEntriesByType('navigation')[0];"
         " return [p ? p.startTime : null, n.loadEventEnd];")


def day_of_news(ar: int, en: int) -> list[tuple[str, str]]:
    taken: dict[str, list[tuple[str, str]]] = {"ar": [], "en": []}
    wanted = {"ar": ar, "en": en}
    for article in common.iter_articles():
        lang = article["lang"]
        if len(taken[lang]) < wanted[lang]:
            taken[lang].append((f"{lang}/{article['id']}", article["text"]))
        if all(len(taken[k]) >= wanted[k] for k in wanted):
            break
    return taken["ar"] + taken["en"]


def browser():
    """A headless Chromium session, or None (with the reason) when it cannot be had."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None, "selenium is not installed (pip install -e '.[test]')"
    chromium, driver = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    if not (chromium.exists() and driver.exists()):
        return None, "no /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(driver)), options=options), None


def in_browser(driver, page: Path, kinds: list[str]) -> tuple[float, float, list[float]]:
    """First contentful paint, load end, and the time of each filter click, in ms."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    paint, load = driver.execute_script(PAINT)
    driver.execute_script(CLICK_CLOCK)
    times: list[float] = []
    for kind in kinds + kinds:  # each unticked, then ticked again
        driver.find_element(By.CSS_SELECTOR, f"#filters input[name='kind'][value='{kind}']").click()
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return window.__filterMs.length") > len(times))
        times.append(driver.execute_script("return window.__filterMs[window.__filterMs.length - 1]"))
    return paint, load, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ar", type=int, default=2400)
    ap.add_argument("--en", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=3)
    common.add_output_args(ap)
    args = ap.parse_args()

    import dedup
    from dedup.formats import DEFAULT_SEVERITY, FormatContext, get_formatter
    from dedup.formats.html import involved_documents

    docs = day_of_news(args.ar, args.en)
    check_s, report = common.timed(lambda: dedup.Detector().check_many(docs))
    ctx = FormatContext(dict(docs), DEFAULT_SEVERITY)
    renders = []
    for _ in range(args.repeats):
        out = io.StringIO()
        started = time.perf_counter()
        get_formatter("html").write(report, out, ctx)
        renders.append(time.perf_counter() - started)
    page_text = out.getvalue()
    size = len(page_text.encode("utf-8"))
    findings = len(report.findings)
    kinds = sorted({f.kind for f in report.findings})
    results = {"articles": len(docs), "findings": findings, "documents_on_page": len(involved_documents(report.findings)),
               "bytes": size, "bytes_per_finding": round(size / max(findings, 1)), "check_s": round(check_s, 2),
               "render_s": [round(r, 3) for r in renders]}
    rows = [["articles checked", len(docs)], ["findings", findings],
            ["documents on the page", results["documents_on_page"]], ["page size (MB)", size / 1e6],
            ["bytes per finding", results["bytes_per_finding"]], ["render (s, median)", statistics.median(renders)]]
    notes = []
    driver, why_not = browser()
    if driver is None:
        notes.append(f"browser rows left out: {why_not}")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            page = Path(tmp) / "report.html"
            page.write_text(page_text, encoding="utf-8")
            try:
                runs = [in_browser(driver, page, kinds) for _ in range(args.repeats)]
            finally:
                driver.quit()
        paints = [r[0] for r in runs]
        filters = [t for r in runs for t in r[2]]
        results.update(first_contentful_paint_ms=[round(p, 1) for p in paints],
                       load_ms=[round(r[1], 1) for r in runs], filter_ms=[round(t, 1) for t in filters])
        rows += [["first contentful paint (ms, median)", statistics.median(paints)],
                 ["each filter (ms, median)", statistics.median(filters)],
                 ["each filter (ms, slowest)", max(filters)]]
        notes.append("goal: first paint and each filter under 1,000 ms: "
                     + ("met" if max(paints + filters) < 1000 else "NOT met"))
    common.emit(args, "HTML report of a day's news", ["measure", "value"], rows, results, notes)


if __name__ == "__main__":
    main()
