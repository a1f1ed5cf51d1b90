"""The ``--format html`` report in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver`` packages) driven by Selenium.

The seed article's report is rendered by the CLI and opened from a file:// URL. The page must
highlight the three hand-labelled repeats of ``seed-article.expected.json`` (where the marks sit
is measured in the rendered text, in code points, so they are checked against the labelled
offsets), show its marks with their kind's colour, open a finding's detail panel on a click
(both passages and a word diff), and lay the Arabic source out right to left. A screenshot of
the opened panel is kept as an artifact (``DEDUP_TEST_ARTIFACTS``, else ``tests/output/``).
A second page checks that markup in a document is shown as text and never runs.

A day's batch (a generated one, ``tests/news_batch.py``: 1,049 findings in 474 documents, every
kind and scope) checks that the page stays usable at that size: first paint and each filter
under a second (measured in the page with its performance APIs, kept in
``batch-report-timing.json`` beside the screenshots), filtering by kind, severity and scope
(the counts, documents, index rows, marks and panels shown afterwards, against the report),
jumping to a document from the index, opening a finding's details and following it to the
earlier passage in another collapsed document, and printing what the filters show (every
document opened, every panel expanded, no controls). The page must log no error.

Without Chromium, chromedriver or selenium the tests are skipped, except under CI (CI=true),
where that is a failure: ``.ci/run`` installs the browser.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, dedup_command

CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1280,1600")
WAIT_S = 10
KIND_CLASSES = {"exact": {"kind-exact"}, "normalized": {"kind-normalized"}, "near": {"kind-near"},
                "contained": {"kind-contained"}, "conflict": {"kind-conflict"},
                "near-or-contained": {"kind-near", "kind-contained"}}

# Where each mark of the page's ``.source`` blocks lies in that block's text, in code points
# (as Python counts them: JS strings count UTF-16 units), with its finding/match number, its
# classes, its text, its size and colour. Continuation marks (reopened after a crossing span
# closed them) are listed too, without an id.
MARKS_JS = """
var out = [];
document.querySelectorAll(".source").forEach(function (source, block) {
  source.querySelectorAll("mark").forEach(function (mark) {
    var before = document.createRange();
    before.setStart(source, 0);
    before.setEndBefore(mark);
    var start = Array.from(before.toString()).length;
    var rect = mark.getBoundingClientRect();
    out.push({block: block, id: mark.id, finding: mark.getAttribute("data-finding"),
              match: mark.getAttribute("data-match"), classes: mark.className,
              start: start, end: start + Array.from(mark.textContent).length, text: mark.textContent,
              width: rect.width, height: rect.height,
              background: getComputedStyle(mark).backgroundColor});
  });
});
return out;
"""


# --- the browser -------------------------------------------------------------------------------

def find_browser() -> tuple[str | None, str | None, list[str]]:
    """Chromium, chromedriver (Debian's paths first, then PATH) and what is missing."""
    chromium = next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and os.access(p, os.X_OK)), None)
    driver = next((p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver"))
                   if p and os.access(p, os.X_OK)), None)
    missing = []
    if chromium is None:
        missing.append("chromium not found at /usr/bin/chromium or on PATH (apt-get install chromium)")
    if driver is None:
        missing.append("chromedriver not found at /usr/bin/chromedriver or on PATH (apt-get install chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium is not installed (pip install -e '.[test]')")
    return chromium, driver, missing


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """A headless Chromium session, quit at the end; skipped without Chromium, chromedriver or
    selenium, except under CI (CI=true), where that is a failure."""
    chromium, driver_path, missing = find_browser()
    if missing:
        message = "; ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must provide it (.ci/run installs it)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the page's console, for its errors
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")  # Selenium Manager must never go looking for downloads
        driver = webdriver.Chrome(service=Service(driver_path, log_output=str(log)), options=options)
        try:
            driver.set_page_load_timeout(30)
            driver.set_script_timeout(WAIT_S)
            yield driver
        finally:
            driver.quit()


def artifacts_dir() -> Path:
    """Where screenshots are kept: DEDUP_TEST_ARTIFACTS, else tests/output/ (git-ignored)."""
    path = Path(os.environ.get("DEDUP_TEST_ARTIFACTS") or REPO / "tests" / "output")
    path.mkdir(parents=True, exist_ok=True)
    return path


def render_html(path: Path, out: Path) -> Path:
    """`dedup check --format html -o out path` run from the repository root; `out`."""
    target = os.path.relpath(path, REPO)
    proc = subprocess.run([*dedup_command(), "check", "--format", "html", "-o", str(out), target], cwd=REPO,
                          capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert proc.returncode == 1, f"expected exit 1 (findings), got {proc.returncode}: {proc.stderr}"
    assert "Traceback" not in proc.stderr
    assert out.is_file() and out.stat().st_size > 0
    return out


def open_page(driver, page: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # what earlier pages logged is theirs
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script("return document.readyState") == "complete")


def hex_rgb(value: str) -> str:
    """A CSS ``#rrggbb`` colour as getComputedStyle writes it."""
    value = value.strip().lstrip("#")
    assert len(value) == 6, value
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


def css_var(driver, name: str) -> str:
    return driver.execute_script("return getComputedStyle(document.documentElement).getPropertyValue(arguments[0])",
                                 name)


def overlap(span: dict, start: int, end: int) -> int:
    return max(0, min(span["end"], end) - max(span["start"], start))


def covers(span: dict, start: int, end: int) -> bool:
    """The labelled case's rule: the reported span overlaps the labelled one by at least half of
    the shorter of the two."""
    return overlap(span, start, end) * 2 >= min(span["end"] - span["start"], end - start) > 0


def merged(marks: list[dict], attribute: str) -> dict[str, dict]:
    """The marks of each finding number in `attribute` ("finding" or "match") joined into one
    extent (a span split by nesting comes out as its first mark and its continuations)."""
    spans: dict[str, dict] = {}
    for m in marks:
        for n in (m[attribute] or "").split():
            s = spans.setdefault(n, {"start": m["start"], "end": m["end"], "marks": []})
            s["start"], s["end"] = min(s["start"], m["start"]), max(s["end"], m["end"])
            s["marks"].append(m)
    return spans


# --- the seed article --------------------------------------------------------------------------

@pytest.fixture
def seed(shared, tmp_path):
    """The seed article, its labels and its HTML report."""
    cases = shared / "cases"
    article, expected = cases / "seed-article.txt", cases / "seed-article.expected.json"
    missing = [str(p) for p in (article, expected) if not p.is_file()]
    if missing:
        pytest.skip(f"seed case files missing: {', '.join(missing)}")
    report = render_html(article, tmp_path / "report.html")
    return {"text": article.read_text(encoding="utf-8"),
            "required": json.loads(expected.read_text(encoding="utf-8"))["required"], "report": report}


def locate_required(driver, seed) -> list[tuple[dict, str, dict, dict]]:
    """For each required repeat: (repeat, finding number, its mark extent, its match's extent),
    checking that the page's source text is the article's."""
    sources = driver.execute_script("return Array.from(document.querySelectorAll('.source'), s => s.textContent)")
    assert sources == [seed["text"]], "the page should show the seed article's text exactly, once"
    marks = driver.execute_script(MARKS_JS)
    findings, matches = merged(marks, "finding"), merged(marks, "match")
    found = []
    for repeat in seed["required"]:
        a, b = repeat["a"], repeat["b"]
        hits = [n for n, s in findings.items() if covers(b, s["start"], s["end"])
                and n in matches and covers(a, matches[n]["start"], matches[n]["end"])]
        assert hits, (f"{repeat['name']!r}: no mark[data-finding] over {b['start']}-{b['end']} whose "
                      f"match mark covers {a['start']}-{a['end']}; marks: "
                      + repr([(m["id"], m["finding"] or m["match"], m["start"], m["end"]) for m in marks]))
        n = hits[0]
        found.append((repeat, n, findings[n], matches[n]))
    return found


def test_seed_report_highlights_the_required_repeats(browser, seed):
    from selenium.webdriver.common.by import By

    open_page(browser, seed["report"])
    assert browser.title == "dedup: repeated passages"
    match_colour = hex_rgb(css_var(browser, "--match"))
    numbers = set()
    for repeat, n, finding, match in locate_required(browser, seed):
        numbers.add(n)
        name = repeat["name"]
        # the first piece of each span carries its id; the text is the article's at those offsets
        assert finding["marks"][0]["id"] == f"f{n}" and match["marks"][0]["id"] == f"m{n}", name
        assert "".join(m["text"] for m in finding["marks"]) == seed["text"][finding["start"]:finding["end"]]
        assert "".join(m["text"] for m in match["marks"]) == seed["text"][match["start"]:match["end"]]
        # the kind the labels ask for, in its colour (the CSS variable of that kind)
        classes = set(finding["marks"][0]["classes"].split())
        kinds = classes & KIND_CLASSES[repeat["kind"]]
        assert kinds, f"{name!r}: mark f{n} has classes {classes}, expected one of {KIND_CLASSES[repeat['kind']]}"
        colour = hex_rgb(css_var(browser, "--" + kinds.pop().removeprefix("kind-")))
        for m in finding["marks"]:
            assert m["background"] == colour, f"{name!r}: f{n} background {m['background']}, expected {colour}"
        for m in match["marks"]:
            assert m["background"] == match_colour, f"{name!r}: m{n} background {m['background']}"
        assert colour != match_colour
        # really on screen: displayed, with a size
        for element_id in (f"f{n}", f"m{n}"):
            element = browser.find_element(By.ID, element_id)
            assert element.is_displayed(), f"{name!r}: #{element_id} is not displayed"
            assert element.size["width"] > 0 and element.size["height"] > 0, f"{name!r}: #{element_id} has no size"
        # and its details are there but closed
        panel = browser.find_element(By.ID, f"d{n}")
        assert panel.get_attribute("hidden") is not None and not panel.is_displayed()
    assert len(numbers) == len(seed["required"]), "each required repeat should have its own finding"


def test_seed_report_click_opens_the_details(browser, seed):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, seed["report"])
    located = locate_required(browser, seed)
    repeat, n, finding, match = next(r for r in located if "arrest" in r[0]["name"])
    mark = browser.find_element(By.ID, f"f{n}")
    panel = browser.find_element(By.ID, f"d{n}")
    assert panel.get_attribute("hidden") is not None and not panel.is_displayed(), "panel open before the click"
    assert mark.get_attribute("aria-expanded") == "false"

    mark.click()
    WebDriverWait(browser, WAIT_S).until(EC.visibility_of(panel))
    assert panel.get_attribute("hidden") is None
    assert mark.get_attribute("aria-expanded") == "true"
    # scrolled into view
    top, bottom, height = browser.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return [r.top, r.bottom, innerHeight]", panel)
    assert bottom > 0 and top < height, f"panel not in the viewport: top {top}, bottom {bottom}, height {height}"

    # both passages side by side: the later copy (the mark's text) and the earlier one (the match's)
    later_text = seed["text"][finding["start"]:finding["end"]]
    earlier_text = seed["text"][match["start"]:match["end"]]
    figures = panel.find_elements(By.CSS_SELECTOR, ".pair figure")
    assert len(figures) == 2
    passages = [f.find_element(By.CSS_SELECTOR, ".passage") for f in figures]
    assert all(p.is_displayed() for p in passages)
    texts = [browser.execute_script("return arguments[0].textContent", p) for p in passages]
    assert texts == [later_text, earlier_text]
    assert repeat["a"]["text"] in texts[1] and repeat["b"]["text"] in texts[0]
    left, right = (p.rect for p in passages)
    assert abs(left["y"] - right["y"]) < 5 and left["x"] != right["x"], "passages should sit side by side"
    link = figures[1].find_element(By.CSS_SELECTOR, "figcaption a")
    assert link.get_attribute("href").endswith(f"#m{n}")

    # the word diff: removed words in <del>, added ones in <ins>; without the ins it reads as
    # the earlier passage, without the del as the later one
    diff = panel.find_element(By.CSS_SELECTOR, ".diff")
    assert diff.is_displayed()
    dels = diff.find_elements(By.TAG_NAME, "del")
    inss = diff.find_elements(By.TAG_NAME, "ins")
    assert dels and inss, "a garbled repeat should have both removed and added words"
    assert all(e.is_displayed() for e in dels + inss)
    without = ("var c = arguments[0].cloneNode(true); c.querySelectorAll(arguments[1]).forEach(e => e.remove());"
               " return c.textContent")
    assert browser.execute_script(without, diff, "ins").split() == earlier_text.split()
    assert browser.execute_script(without, diff, "del").split() == later_text.split()

    # the other panels stay closed
    for other in browser.find_elements(By.CSS_SELECTOR, "section.detail"):
        if other.get_attribute("id") != f"d{n}":
            assert not other.is_displayed()

    shot = artifacts_dir() / "seed-article-report.png"
    shot.unlink(missing_ok=True)
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, f"{shot}: {len(data)} bytes"

    # a second click closes it again
    mark.click()
    WebDriverWait(browser, WAIT_S).until(EC.invisibility_of_element(panel))
    assert mark.get_attribute("aria-expanded") == "false"


def test_seed_report_lays_arabic_out_right_to_left(browser, seed):
    from selenium.webdriver.common.by import By

    open_page(browser, seed["report"])
    source = browser.find_element(By.CSS_SELECTOR, ".source")
    assert source.get_attribute("dir") == "auto"
    style = browser.execute_script(
        "var s = getComputedStyle(arguments[0]);"
        " return {bidi: s.unicodeBidi, direction: s.direction, whiteSpace: s.whiteSpace,"
        " rtl: arguments[0].matches(':dir(rtl)')}", source)
    assert style["bidi"] == "plaintext", style
    assert style["whiteSpace"] == "pre-wrap", style
    assert style["rtl"] and style["direction"] == "rtl", f"Arabic source not resolved right to left: {style}"
    # the panels' passages and diffs: dir=auto, each paragraph directed by its own text
    for element in browser.find_elements(By.CSS_SELECTOR, "section.detail .passage, section.detail .diff"):
        assert element.get_attribute("dir") == "auto"
        assert browser.execute_script("return getComputedStyle(arguments[0]).unicodeBidi", element) == "plaintext"
    # an Arabic line starts at the right: the first mark (the caption line, a line of its own)
    # hugs the source block's right edge
    edges = browser.execute_script(
        "var s = arguments[0].getBoundingClientRect(), m = document.getElementById('m1').getBoundingClientRect();"
        " var pad = parseFloat(getComputedStyle(arguments[0]).paddingRight);"
        " return [s.right - pad - m.right, m.left - s.left]", source)
    assert abs(edges[0]) < 8 and edges[1] > 100, f"caption line not right-aligned: {edges}"


# --- escaping ----------------------------------------------------------------------------------

INJECTED = ('The editor pasted <script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned=2"> '
            "into the story by mistake.")


def test_html_report_shows_markup_as_text(browser, tmp_path):
    from selenium.webdriver.common.by import By

    article = tmp_path / "injected.txt"
    article.write_text("The weekly newsletter opened with a short note about the harbour festival and its parade.\n"
                       f"{INJECTED}\n"
                       "Volunteers planted three thousand oak saplings along the riverbank during the spring festival.\n"
                       f"{INJECTED}\n", encoding="utf-8")
    open_page(browser, render_html(article, tmp_path / "injected.html"))
    state = browser.execute_script(
        "return {pwned: typeof window.__pwned, scripts: document.scripts.length, images: document.images.length}")
    assert state == {"pwned": "undefined", "scripts": 1, "images": 0}, state  # only the page's own script
    mark = browser.find_element(By.ID, "f1")
    assert mark.is_displayed()
    assert browser.execute_script("return arguments[0].textContent", mark) == INJECTED
    assert mark.text == INJECTED  # the visible text, literally
    body = browser.find_element(By.TAG_NAME, "body").text
    assert body.count(INJECTED) == 2
    mark.click()  # the details show it as text too (twice: both passages), with no diff
    panel = browser.find_element(By.ID, "d1")
    assert panel.is_displayed()
    assert [p.text for p in panel.find_elements(By.CSS_SELECTOR, ".passage")] == [INJECTED, INJECTED]
    assert browser.execute_script(
        "return {pwned: typeof window.__pwned, scripts: document.scripts.length, images: document.images.length}"
    ) == state


# --- the service's editor page ---------------------------------------------------------------

def test_editor_page_checks_a_pasted_draft(browser, tmp_path):
    """`dedup serve`'s page at /: paste a draft with a repeat, press Check, and the HTML report
    appears in the page's sandboxed frame with the repeat highlighted and clickable."""
    pytest.importorskip("fastapi", reason="the server extra is not installed (pip install -e '.[test]')")
    from dedup_server import dedup_server
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    repeated = "The city council approved a new budget for public libraries and swimming pools last week."
    draft = f"{repeated}\nFarmers in the northern valley expect a record wheat harvest this year.\n{repeated}\n"
    with dedup_server(tmp_path / "serve") as (url, log):
        browser.get(url + "/")
        browser.find_element(By.ID, "draft").send_keys(draft)
        browser.find_element(By.ID, "archive").click()  # only the draft itself
        browser.find_element(By.ID, "check").click()
        status = browser.find_element(By.ID, "status")
        WebDriverWait(browser, WAIT_S).until(lambda d: "found" in status.text or "Could not" in status.text)
        assert status.text == "1 repeat found.", status.text
        frame = browser.find_element(By.ID, "report")
        assert frame.is_displayed() and frame.get_attribute("sandbox") == "allow-scripts"
        browser.switch_to.frame(frame)
        try:
            mark = WebDriverWait(browser, WAIT_S).until(EC.visibility_of_element_located((By.ID, "f1")))
            assert mark.text == repeated and "kind-exact" in mark.get_attribute("class")
            mark.click()
            panel = WebDriverWait(browser, WAIT_S).until(EC.visibility_of_element_located((By.ID, "d1")))
            assert [p.text for p in panel.find_elements(By.CSS_SELECTOR, ".passage")] == [repeated, repeated]
        finally:
            browser.switch_to.default_content()
        shot = artifacts_dir() / "editor-page.png"
        assert browser.save_screenshot(str(shot))
        # an error from the service is shown, not swallowed
        browser.execute_script("document.getElementById('doc-id').value = 'x'.repeat(2000);")
        browser.find_element(By.ID, "check").click()
        WebDriverWait(browser, WAIT_S).until(lambda d: "Could not" in status.text)
        assert "422" in status.text and "id" in status.text
        assert not frame.is_displayed()
    assert "Traceback" not in log.read_text(encoding="utf-8")


def test_report_fits_the_window_with_long_words_and_on_a_narrow_screen(browser, tmp_path):
    from selenium.webdriver.common.by import By

    url = "https://example.org/" + "very-long-path-segment-" * 14 + "end"
    sentence = f"The full statement from the ministry was published at {url} on Monday morning."
    article = tmp_path / "long.txt"
    article.write_text(f"{sentence}\nOfficials declined to comment further on the matter.\n{sentence}\n",
                       encoding="utf-8")
    page = render_html(article, tmp_path / "long.html")
    try:
        for width in (1280, 420):
            browser.set_window_size(width, 1200)
            open_page(browser, page)
            browser.find_element(By.ID, "f1").click()
            panel = browser.find_element(By.ID, "d1")
            assert panel.is_displayed()
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"the page is {overflow}px wider than a {width}px window"
            left, right = (p.rect for p in panel.find_elements(By.CSS_SELECTOR, ".passage"))
            if width < 600:  # one column: the earlier passage below the later one
                assert right["y"] > left["y"] + left["height"] - 1
            else:
                assert abs(left["y"] - right["y"]) < 5
    finally:
        browser.set_window_size(1280, 1600)


# --- a day's batch: 1,000+ findings --------------------------------------------------------------
# The report of a generated day of news (tests/news_batch.py: 500 articles checked against an
# archive of 100 earlier ones), built with the library. Times are measured in the page with its
# performance APIs: the first contentful paint (Paint Timing) from the navigation's start, and
# for each filter, from the click event's timeStamp to the first task after the next frame
# (requestAnimationFrame, then a task), read with performance.now().

RESPONSIVE_MS = 1000
TIMING = {}  # what the batch tests measured, kept as an artifact

INSTALL_FILTER_CLOCK = """
window.__filterMs = [];
document.addEventListener("click", function (e) {
  if (!e.target.closest || !e.target.closest("#filters input")) return;
  var t0 = e.timeStamp;
  requestAnimationFrame(function () { setTimeout(function () { window.__filterMs.push(performance.now() - t0); }, 0); });
}, true);
"""

# What the page shows after a filter: the status line, the documents and index rows shown (with
# their findings counts), and for each finding's mark its background and whether its panel shows.
PAGE_STATE_JS = """
var shownDocs = [], rows = {}, marks = {};
document.querySelectorAll("details.document").forEach(function (d) { if (!d.hidden) shownDocs.push(d.id); });
document.querySelectorAll("#index tbody tr").forEach(function (r) {
  if (!r.hidden) rows[r.dataset.doc] = +r.cells[1].textContent;
});
document.querySelectorAll("mark[id^='f']").forEach(function (m) {
  marks[m.id.slice(1)] = getComputedStyle(m).backgroundColor;
});
return {status: document.getElementById("shown").textContent, docs: shownDocs, rows: rows, marks: marks};
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The day's report, its page (a file) and the number of each involved document."""
    from news_batch import day_report

    from dedup.formats import DEFAULT_SEVERITY, FormatContext, get_formatter
    from dedup.formats.html import involved_documents

    report, sources = day_report(tmp_path_factory.mktemp("archive") / "archive.sqlite")
    assert len(report.findings) >= 1000, len(report.findings)
    ctx = FormatContext(sources, DEFAULT_SEVERITY)
    page = tmp_path_factory.mktemp("batch") / "batch.html"
    with open(page, "w", encoding="utf-8") as out:
        get_formatter("html").write(report, out, ctx)
    number = {doc: i for i, doc in enumerate(involved_documents(report.findings), 1)}
    TIMING.update(findings=len(report.findings), documents=len(number), bytes=page.stat().st_size)
    return {"report": report, "page": page, "number": number, "level": ctx.level}


def page_errors(driver) -> list[str]:
    """Errors the page logged to its console since the last call."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def keep_timing() -> None:
    (artifacts_dir() / "batch-report-timing.json").write_text(json.dumps(TIMING, indent=2) + "\n", encoding="utf-8")


def expected_state(batch, shown) -> dict:
    """What the page should show when the findings for which `shown(finding)` holds are shown."""
    findings, number = batch["report"].findings, batch["number"]
    visible = [f for f in findings if shown(f)]
    docs = {number[f.sentence.doc] for f in visible} | {number[f.match.doc] for f in visible if f.scope != "archive"}
    rows = {str(d): 0 for d in docs}
    for f in visible:
        rows[str(number[f.sentence.doc])] += 1
    status = (f"All {len(findings)} findings shown." if len(visible) == len(findings) else
              f"Showing {len(visible)} of {len(findings)} findings, in {len(docs)} of {len(number)} documents.")
    return {"status": status, "docs": [f"doc{d}" for d in sorted(docs)], "rows": rows}


def test_batch_report_paints_within_a_second(browser, batch):
    open_page(browser, batch["page"])
    timing = browser.execute_script(
        "var n = performance.getEntriesByType('navigation')[0], p = {};"
        " performance.getEntriesByType('paint').forEach(function (e) { p[e.name] = e.startTime; });"
        " return {firstPaint: p['first-paint'], firstContentfulPaint: p['first-contentful-paint'],"
        " domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd}")
    TIMING.update({f"{k}Ms": round(v, 1) for k, v in timing.items() if v is not None})
    keep_timing()
    assert timing["firstContentfulPaint"] is not None, f"no paint timing entry: {timing}"
    assert timing["firstContentfulPaint"] < RESPONSIVE_MS, f"first contentful paint after {timing}"
    assert timing["firstPaint"] < RESPONSIVE_MS, timing


def test_batch_report_filters_by_kind_severity_and_scope(browser, batch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, batch["page"])
    browser.execute_script(INSTALL_FILTER_CLOCK)
    findings, level = batch["report"].findings, batch["level"]
    kind_colour = {k: hex_rgb(css_var(browser, f"--{k}")) for k in ("exact", "normalized", "near", "contained", "conflict")}
    # a panel opened before its kind is filtered out: hidden by the filter, back after
    near = next(n for n, f in enumerate(findings, 1) if f.kind == "near")
    browser.get(f"{batch['page'].resolve().as_uri()}#f{near}")  # the link opens its collapsed document
    browser.execute_script(INSTALL_FILTER_CLOCK)
    browser.find_element(By.ID, f"f{near}").click()
    panel = browser.find_element(By.ID, f"d{near}")
    assert panel.is_displayed()

    off: dict[str, set[str]] = {"kind": set(), "severity": set(), "scope": set()}
    steps = [("kind", "near"), ("severity", "error"), ("scope", "archive"), ("kind", "near"), ("severity", "error"),
             ("scope", "archive")]  # each unticked, then each ticked again
    times = []
    for group, value in steps:
        box = browser.find_element(By.CSS_SELECTOR, f"#filters input[name='{group}'][value='{value}']")
        was_checked = box.is_selected()
        box.click()
        WebDriverWait(browser, WAIT_S).until(lambda d: d.execute_script("return window.__filterMs.length") > len(times))
        times.append(browser.execute_script("return window.__filterMs[window.__filterMs.length - 1]"))
        assert box.is_selected() != was_checked
        off[group] ^= {value}

        def shown(f):
            return f.kind not in off["kind"] and level(f) not in off["severity"] and f.scope not in off["scope"]

        state = browser.execute_script(PAGE_STATE_JS)
        expected = expected_state(batch, shown)
        assert state["status"] == expected["status"]
        assert sorted(state["docs"], key=lambda d: int(d[3:])) == expected["docs"]
        assert state["rows"] == expected["rows"]
        for n, f in enumerate(findings, 1):  # a filtered-out mark loses its highlight
            want = kind_colour[f.kind] if shown(f) else "rgba(0, 0, 0, 0)"
            assert state["marks"][str(n)] == want, f"after {group}={value}: f{n} ({f.kind}) is {state['marks'][str(n)]}"
        assert panel.is_displayed() == shown(findings[near - 1])
    TIMING["filterMs"] = [round(t, 1) for t in times]
    keep_timing()
    assert all(t < RESPONSIVE_MS for t in times), f"filters took {times} ms"
    assert not any(off.values()) and panel.is_displayed()
    assert page_errors(browser) == []


def test_batch_report_jumps_from_the_index_and_opens_a_detail(browser, batch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, batch["page"])
    findings, number = batch["report"].findings, batch["number"]
    # a document in the second half whose first finding repeats a passage of another document
    n, finding = next((n, f) for n, f in enumerate(findings, 1)
                      if number[f.sentence.doc] > len(number) // 2 and f.scope == "corpus"
                      and next(g for g in findings if g.sentence.doc == f.sentence.doc) is f)
    doc, match_doc = f"doc{number[finding.sentence.doc]}", f"doc{number[finding.match.doc]}"
    section = browser.find_element(By.ID, doc)
    assert section.get_attribute("open") is None, "a batch's documents start collapsed"
    assert browser.find_element(By.ID, match_doc).get_attribute("open") is None

    browser.find_element(By.CSS_SELECTOR, f"#index a[href='#{doc}']").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: section.get_attribute("open") is not None)
    assert browser.execute_script("return location.hash") == f"#{doc}"
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", section)
    assert abs(top) < 5, f"the document is at {top}px, not at the top of the window"
    assert browser.find_element(By.CSS_SELECTOR, f"#{doc} h2").text == finding.sentence.doc

    mark = browser.find_element(By.ID, f"f{n}")
    assert mark.is_displayed() and mark.text.split() == finding.sentence.text.split()
    mark.click()
    panel = WebDriverWait(browser, WAIT_S).until(EC.visibility_of_element_located((By.ID, f"d{n}")))
    heading = panel.find_element(By.TAG_NAME, "h3").text
    assert finding.kind in heading and f"score {finding.score:.2f}" in heading and "across documents" in heading
    captions = [e.text for e in panel.find_elements(By.TAG_NAME, "figcaption")]
    s, m = finding.sentence, finding.match
    assert f"{s.doc}:{s.line}:{s.column}" in captions[0] and f"{m.doc}:{m.line}:{m.column}" in captions[1]
    texts = [browser.execute_script("return arguments[0].textContent", p)
             for p in panel.find_elements(By.CSS_SELECTOR, ".passage")]
    assert texts == [s.text, m.text]
    assert panel.find_element(By.CSS_SELECTOR, ".diff").is_displayed()

    # the earlier passage's place leads into its collapsed document, opened
    panel.find_element(By.CSS_SELECTOR, f"figcaption a[href='#m{n}']").click()
    WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_element(By.ID, match_doc).get_attribute("open") is not None)
    earlier = browser.find_element(By.ID, f"m{n}")
    WebDriverWait(browser, WAIT_S).until(lambda d: earlier.is_displayed())
    top, bottom, height = browser.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return [r.top, r.bottom, innerHeight]", earlier)
    assert bottom > 0 and top < height, f"#m{n} not in the window: {top}..{bottom} of {height}"
    shot = artifacts_dir() / "batch-report.png"
    assert browser.save_screenshot(str(shot))
    assert page_errors(browser) == []


def test_batch_report_prints_what_the_filters_show(browser, batch):
    """Printed (print media, and the beforeprint event a print sends): the controls go, the
    collapsed documents the filters show are opened with every panel expanded, and what the
    filters hide stays out."""
    from selenium.webdriver.common.by import By

    open_page(browser, batch["page"])
    findings, number = batch["report"].findings, batch["number"]
    browser.find_element(By.CSS_SELECTOR, "#filters input[name='kind'][value='near']").click()
    printed = {int(d.removeprefix("doc")) for d in expected_state(batch, lambda f: f.kind != "near")["docs"]}
    only_near = set(number.values()) - printed
    assert only_near, "the batch should have documents involved in near repeats only"
    shown = next(n for n, f in enumerate(findings, 1) if f.kind == "exact")
    hidden = next(n for n, f in enumerate(findings, 1) if f.kind == "near")
    try:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
        state = browser.execute_script(
            "function shows(el) { var r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; }"
            " var docs = Array.from(document.querySelectorAll('details.document'));"
            " return {filters: shows(document.getElementById('filters')), closed: docs.filter(function (d) {"
            "   return !d.hidden && !d.open; }).length,"
            " sources: docs.filter(function (d) { return !d.hidden && shows(d.querySelector('.source')); }).length,"
            " visible: docs.filter(function (d) { return !d.hidden; }).length,"
            " printed: docs.filter(function (d) { return shows(d); }).map(function (d) { return +d.id.slice(3); }),"
            " shownPanel: shows(document.getElementById(arguments[0])),"
            " hiddenPanel: shows(document.getElementById(arguments[1]))};", f"d{shown}", f"d{hidden}")
    finally:
        browser.execute_script("window.dispatchEvent(new Event('afterprint'))")
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert state["filters"] is False and state["closed"] == 0
    assert state["sources"] == state["visible"] == len(printed)
    assert set(state["printed"]) == printed, "the documents printed should be those the filters show"
    assert state["shownPanel"] and not state["hiddenPanel"]
    # after printing, the documents are collapsed again
    assert browser.execute_script("return document.querySelectorAll('details.document[open]').length") == 0
    assert page_errors(browser) == []
