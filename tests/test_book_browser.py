"""The built book, opened in headless Chromium (``make browser``).

Serves ``_build/html`` on 127.0.0.1 and drives Chromium through the DevTools
protocol over ``--remote-debugging-pipe`` (no extra Python packages, no
WebDriver). For every page in the table of contents it checks that

* MathJax (the local copy, no CDN) has typeset every formula: an
  ``mjx-container`` for each ``.math`` element, no raw ``\\(`` or ``\\[`` left;
* every ``<img>`` has loaded (``naturalWidth > 0``), and each notebook page
  shows at least as many images as its notebook has image outputs;
* the previous/next links chain through the pages in table-of-contents order,
  and every sidebar link resolves to a page that exists;
* each notebook page's Colab buttons point at that notebook and at its student
  copy on GitHub;
* the page makes no request to any host but the local server (the book works
  offline) and raises no JavaScript error;
* the interactive regime chooser (``CHOOSER_PAGE``) loads Vega from the book's
  own ``_static`` (never a CDN), and the method it highlights changes exactly at
  each switch point ``rulkit.regimes`` computes, for every source and candidate set.

Skips when the book has not been built or Chromium is not installed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import http.server
import json
import math
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
import yaml
from _support import need

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
TOTAL_BUDGET_S = 60.0
PAGE_TIMEOUT_S = 20.0
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--remote-debugging-pipe",
]


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def toc_pages() -> list[str]:
    """HTML paths (relative to _build/html) of every TOC entry, in reading order."""

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    yield str(Path(node[key]).with_suffix("")) + ".html"
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []):
                    yield from walk(child)

    return list(walk(yaml.safe_load((ROOT / "_toc.yml").read_text())))


# --------------------------------------------------------------------------- local server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # e.g. the browser dropped a connection
        pass


@pytest.fixture(scope="module")
def server():
    need((HTML / "index.html").is_file(), f"{HTML} has not been built; run `make browser`")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


# --------------------------------------------------------------------------- DevTools over a pipe


class Browser:
    """Headless Chromium driven with the DevTools protocol over fds 3 and 4."""

    def __init__(self, executable: str, workdir: Path):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes():  # in the child: fd 3 = commands in, fd 4 = replies out
            # via copies above 9: a pipe end that already is fd 3 or 4 would keep its
            # close-on-exec flag (dup2 onto itself does nothing), or be overwritten
            high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.log_path = workdir / "chromium.log"
        # a file, not a pipe, so Chromium never blocks on a full pipe buffer
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={workdir / 'profile'}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            close_fds=False,
            preexec_fn=wire_pipes,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from Chromium")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    err = self.log_path.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"Chromium closed the DevTools pipe:\n{err}")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, timeout: float = PAGE_TIMEOUT_S):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = PAGE_TIMEOUT_S) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def open_tab(self) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable")

    def goto(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._log.close()


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    need(executable is not None, "Chromium is not installed (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="rulkit-chromium-") as workdir:
        b = Browser(executable, Path(workdir))
        try:
            b.open_tab()
            yield b
        finally:
            b.close()


# What each page reports once MathJax has finished and every image has settled.
INSPECT = r"""
(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const mathNodes = document.querySelectorAll("span.math, div.math");
  if (mathNodes.length) {
    // MathJax is a deferred script: after the load event it has run, or failed to load.
    const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
    const deadline = Date.now() + 2000;
    while (!ready() && Date.now() < deadline) await sleep(25);
    if (ready()) await Promise.race([MathJax.startup.promise, sleep(10000)]);
  }
  const images = Array.from(document.images);
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.complete ? null :
    new Promise((r) => { img.addEventListener("load", r); img.addEventListener("error", r);
                         setTimeout(r, 10000); })));
  const raw = [];
  const walker = document.createTreeWalker(document.querySelector("main") || document.body,
                                           NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest("pre, code, script, style, mjx-container, textarea")) continue;
    const text = n.textContent;
    if (/\\\(|\\\)|\\\[|\\\]|\\begin\{/.test(text)) raw.push(text.trim().slice(0, 80));
  }
  const link = (sel) => { const a = document.querySelector(sel); return a ? a.href : null; };
  return {
    mathjax: window.MathJax && MathJax.version ? MathJax.version : null,
    mathjaxSrc: Array.from(document.scripts).map((s) => s.src).filter((s) => /mathjax/i.test(s)),
    math: mathNodes.length,
    mjx: document.querySelectorAll("mjx-container").length,
    unrendered: Array.from(mathNodes).filter((m) => !m.querySelector("mjx-container")).length,
    raw,
    images: images.map((img) => ({src: img.currentSrc || img.src, width: img.naturalWidth,
                                  output: !!img.closest(".cell_output, .output")})),
    prev: link("a.left-prev"),
    next: link("a.right-next"),
    sidebar: Array.from(document.querySelectorAll(".bd-sidebar-primary a.reference.internal"))
      .map((a) => a.href),
    colab: Array.from(document.querySelectorAll("a[href*='colab.research.google.com']"))
      .map((a) => a.href),
  };
})()
"""


def notebook_image_outputs(page: str) -> int:
    nb = json.loads((ROOT / page.replace(".html", ".ipynb")).read_text())
    return sum(
        1
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
        if any(k.startswith("image/") for k in out.get("data", {}))
    )


def resolves(url: str) -> bool:
    try:
        with urllib.request.urlopen(urldefrag(url)[0], timeout=5) as response:
            return response.status == 200
    except urllib.error.URLError:
        return False


def test_book_in_browser(server, browser):
    start = time.monotonic()
    pages = toc_pages()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    owner_repo = urlsplit(config["repository"]["url"]).path.strip("/")
    branch = config["repository"].get("branch", "main")
    missing = [p for p in pages if not (HTML / p).is_file()]
    assert not missing, f"pages in _toc.yml missing from the build: {missing}"

    problems: list[str] = []
    reports: dict[str, dict] = {}
    for page in pages:
        url = urljoin(server, page)
        browser.goto(url)
        report = browser.evaluate(INSPECT)
        reports[page] = report
        events = list(browser.events)

        # MathJax: local, loaded and done
        if report["math"]:
            if not report["mathjax"] or not report["mathjax"].startswith("3"):
                problems.append(f"{page}: MathJax 3 did not load ({report['mathjaxSrc']})")
            if report["unrendered"] or report["mjx"] < report["math"]:
                problems.append(
                    f"{page}: {report['unrendered']} of {report['math']} formulas not typeset"
                )
        if report["raw"]:
            problems.append(f"{page}: raw TeX left in the page: {report['raw'][:3]}")
        external_mathjax = [s for s in report["mathjaxSrc"] if not s.startswith(server)]
        if external_mathjax:
            problems.append(f"{page}: MathJax loaded from outside the book: {external_mathjax}")

        # images
        broken = [i["src"] for i in report["images"] if i["width"] <= 0]
        if broken:
            problems.append(f"{page}: images that did not load: {broken}")
        if page.startswith("notebooks/"):
            expected = notebook_image_outputs(page)
            shown = sum(1 for i in report["images"] if i["output"])
            if shown < expected:
                problems.append(f"{page}: {shown} output images shown, notebook has {expected}")

        # Colab buttons: the chapter, and its student copy where there is one
        if page.startswith("notebooks/"):
            notebook = page.replace(".html", ".ipynb")
            colab = f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/"
            want = [colab + notebook]
            student = notebook.replace("notebooks/", "notebooks/student/", 1)
            if (ROOT / student).is_file():
                want.append(colab + student)
            if report["colab"] != want:
                problems.append(f"{page}: Colab links {report['colab']}, expected {want}")

        # offline and error-free
        for event in events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                req = params["request"]["url"]
                if not (req.startswith(server) or req.startswith(("data:", "blob:", "about:"))):
                    problems.append(f"{page}: request to the outside: {req}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                problems.append(f"{page}: JavaScript error: {text}")
        assert time.monotonic() - start < TOTAL_BUDGET_S, "browser test ran over its time budget"

    # navigation: prev/next chain in TOC order, sidebar links resolve
    urls = [urljoin(server, p) for p in pages]
    for i, page in enumerate(pages):
        want_prev = urls[i - 1] if i else None
        want_next = urls[i + 1] if i + 1 < len(urls) else None
        got_prev, got_next = reports[page]["prev"], reports[page]["next"]
        if i and got_prev != want_prev:
            problems.append(f"{page}: 'previous' goes to {got_prev}, expected {want_prev}")
        if got_next != want_next:
            problems.append(f"{page}: 'next' goes to {got_next}, expected {want_next}")
    links = [h for r in reports.values() for h in [*r["sidebar"], r["prev"], r["next"]] if h]
    targets = {urldefrag(h)[0] for h in links}
    dead = sorted(t for t in targets if not t.startswith(server) or not resolves(t))
    if dead:
        problems.append(f"navigation links that do not resolve: {dead}")
    root_sidebar = {urldefrag(h)[0] for h in reports[pages[0]]["sidebar"]}
    not_listed = [u for u in urls[1:] if u not in root_sidebar]
    if not_listed:
        problems.append(f"pages missing from the sidebar: {not_listed}")
    if not any(r["math"] for r in reports.values()):
        problems.append("no page has any maths: the MathJax check checked nothing")

    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- the regime chooser

# The page that holds the interactive regime chooser (rulkit.regimes.chooser_chart):
# chapter 13's notebook.
CHOOSER_PAGE = "notebooks/06_accuracy_vs_safety.html"
CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "esm.sh", "skypack.dev")
SLIDER_STEP = 0.001  # the step of the w slider in rulkit.regimes.chooser_spec

# Set controls of the chart, let Vega update, and report what it shows.
CHOOSER_JS = r"""
window.__chooser = {
  root: () => document.querySelector(".rulkit-chooser"),
  async ready(ms) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const root = this.root();
      const state = root && root.getAttribute("data-state");
      if (state === "ready" || state === "error") return state;
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.root() ? this.root().getAttribute("data-state") : "no chart";
  },
  async probe(settings) {
    const root = this.root();
    for (const [name, value] of settings) {
      const inputs = Array.from(root.querySelectorAll(`[name="${name}"]`));
      if (!inputs.length) throw new Error(`no control named ${name}`);
      const el = inputs.length > 1 ? inputs.find((i) => i.value === String(value)) : inputs[0];
      if (el.type === "checkbox") {
        if (el.checked !== value) el.click();
      } else if (el.type === "radio") {
        el.click();
      } else {
        el.value = String(value);
        el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", {bubbles: true}));
      }
    }
    await root.rulkitView.runAsync();
    const label = root.querySelector("svg g.chosen_label_marks text");
    const bold = Array.from(root.querySelectorAll("svg g.lines_marks path"))
      .filter((p) => parseFloat(p.getAttribute("stroke-width")) >= 4)
      .map((p) => p.getAttribute("stroke"));
    const rules = Array.from(root.querySelectorAll("svg g.switch_rules_marks line, " +
                                                   "svg g.switch_rules_marks path")).length;
    return {label: label ? label.textContent : null, bold, rules, w: root.rulkitView.signal("w")};
  },
};
"""


def chooser_expectations(spec: dict) -> dict:
    """Per source: the methods and their figures, from the chart's own data."""
    out: dict[str, dict] = {}
    for row in spec["datasets"]["methods"]:
        part = out.setdefault(row["source"], {"methods": [], "rmse": [], "nasa": [], "label": {}})
        part["methods"].append(row["method"])
        part["rmse"].append(row["rmse"])
        part["nasa"].append(row["nasa"])
        part["label"][row["method"]] = row["label"]
    return out


def test_regime_chooser_in_browser(server, browser):
    """The chooser draws from the bundled Vega (no CDN), and the highlighted method
    changes exactly at each switch point that rulkit.regimes computes, for every
    source, for the full candidate set and with each method unticked in turn."""
    assert CHOOSER_PAGE in toc_pages(), f"{CHOOSER_PAGE} is not in _toc.yml"
    check_chooser_page(server, browser, CHOOSER_PAGE, screenshot=True)


def test_regime_chooser_with_measured_figures(server, browser):
    """The same with two sources, as when results/ holds full runs: the source menu
    switches the figures, and the spread over seeds is drawn. The figures of the second
    source are invented; the page uses the book's bundled Vega and is removed after."""
    import pandas as pd

    from rulkit import regimes

    book_page = (HTML / CHOOSER_PAGE).read_text(encoding="utf-8")
    libs = json.loads(book_page.split('class="rulkit-chooser-libs">')[1].split("</script>")[0])
    invented = pd.DataFrame(
        {
            "source": regimes.SOURCE_MEASURED,
            "subset": "FD002+FD004",
            "method": ["baseline", "amnl", "gaba", "grace"],
            "seeds": 3,
            "rmse": [8.40, 7.60, 7.95, 7.85],
            "nasa": [410.0, 430.0, 250.0, 265.0],
            "rmse_std": [0.30, 0.25, 0.35, 0.30],
            "nasa_std": [40.0, 45.0, 20.0, 25.0],
        }
    )
    table = pd.concat([regimes.published_table("FD002+FD004"), invented], ignore_index=True)
    name = "rulkit-test-chooser-two-sources.html"  # at the root of the build, like index.html
    path = HTML / name
    regimes.chooser_chart(table).save_html(path, libs=[libs[0].removeprefix("../")])
    try:
        spread = check_chooser_page(server, browser, name, spread_of=regimes.SOURCE_MEASURED)
    finally:
        path.unlink()
    assert spread > 0, "no band of the spread over seeds is drawn for the measured figures"


# Wait until every chooser of the page has drawn (or failed); their states, in page order.
ALL_CHOOSERS_JS = r"""
(async () => {
  const deadline = Date.now() + 15000;
  const states = () => Array.from(document.querySelectorAll(".rulkit-chooser"))
    .map((root) => root.getAttribute("data-state"));
  while (Date.now() < deadline && states().some((s) => s !== "ready" && s !== "error")) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return states();
})()
"""


def test_every_chooser_of_the_page_draws(server, browser):
    """Chapter 13 has two choosers (the book's FD002/FD004 means; FD001, book against
    measured) sharing one copy of Vega: both must draw."""
    browser.goto(urljoin(server, CHOOSER_PAGE))
    states = browser.evaluate(ALL_CHOOSERS_JS)
    assert len(states) == 2 and states == ["ready", "ready"], states


def check_chooser_page(server, browser, page_path, screenshot=False, spread_of=None) -> int:
    """Drive the chooser on ``page_path`` (relative to _build/html) as the tests above say;
    returns the number of spread bands drawn for the source ``spread_of``."""
    from rulkit import regimes
    from rulkit.plots import METHOD_COLORS

    CHOOSER_PAGE = page_path  # noqa: N806 (the messages below name the page)
    page = (HTML / CHOOSER_PAGE).read_text(encoding="utf-8")
    assert 'class="rulkit-chooser"' in page, f"{CHOOSER_PAGE} holds no regime chooser"
    block = page.split('class="rulkit-chooser"', 1)[1].split("</script>\n</div>", 1)[0]
    cdn = [host for host in CDN_HOSTS if host in block]
    assert not cdn, f"the chooser still names a CDN: {cdn} (see book/_ext/rulkit_book.py)"
    libs = json.loads(page.split('class="rulkit-chooser-libs">')[1].split("</script>")[0])
    assert len(libs) == 1 and "_static/rulkit-vega/" in libs[0], f"chart scripts: {libs}"
    bundle = (HTML / CHOOSER_PAGE).parent / libs[0]
    assert bundle.resolve().is_file(), f"the chart's script {libs[0]} is missing from the build"
    assert bundle.resolve().stat().st_size > 100_000, f"{libs[0]} is too small to be Vega"

    browser.send(  # a desktop-sized window, so that the page needs no sideways scrolling
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
    )
    browser.goto(urljoin(server, CHOOSER_PAGE))
    browser.evaluate(CHOOSER_JS)
    state = browser.evaluate("__chooser.ready(15000)")
    assert state == "ready", f"the chart did not draw (state {state!r})"
    outside = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith((server, "data:", "blob:", "about:"))
    ]
    assert not outside, f"the chooser page fetched from outside: {outside}"
    scripts = browser.evaluate("Array.from(document.scripts).map((s) => s.src).filter(Boolean)")
    assert any("/_static/rulkit-vega/" in src for src in scripts), scripts
    assert all(src.startswith(server) for src in scripts), f"scripts from outside: {scripts}"

    spec = json.loads(page.split('class="rulkit-chooser-spec">')[1].split("</script>")[0])
    every = [p["name"][4:] for p in spec["params"] if p["name"].startswith("use_")]
    # the source menu is there only when the chart has several sources (book and measured)
    menu = any(p["name"] == "source" and "bind" in p for p in spec["params"])
    pick = lambda source: [["source", source]] if menu else []  # noqa: E731
    probe = lambda settings: browser.evaluate(f"__chooser.probe({json.dumps(settings)})")  # noqa: E731

    def chosen(reading) -> str:
        assert reading["label"], reading
        return reading["label"].rsplit("J chooses ", 1)[1]

    checked = 0
    for source, fig in chooser_expectations(spec).items():
        candidate_sets = [fig["methods"]] + [
            [m for m in fig["methods"] if m != drop] for drop in fig["methods"]
        ]
        for methods in candidate_sets:
            if not methods:
                continue
            k = [fig["methods"].index(m) for m in methods]
            rmse, nasa = [fig["rmse"][i] for i in k], [fig["nasa"][i] for i in k]
            ticks = [[f"use_{m}", m in methods] for m in every]
            base = [*pick(source), ["mode", "w"], *ticks]
            switches = regimes.switch_points(methods, rmse, nasa)
            reading = probe([*base, ["w_set", 0.0]])
            assert reading["rules"] == len(switches), (source, methods, reading)
            first = regimes.winner(0.0, methods, rmse, nasa)
            assert chosen(reading) == fig["label"][first], (source, methods, reading)
            for s in switches:
                below = math.floor(s.w / SLIDER_STEP) * SLIDER_STEP
                above = below + SLIDER_STEP
                if abs(below - s.w) < 1e-9:  # a switch exactly on the slider's grid
                    below -= SLIDER_STEP
                before = probe([*base, ["w_set", round(below, 3)]])
                after = probe([*base, ["w_set", round(above, 3)]])
                where = f"{source}, {methods}: switch {s.before}->{s.after} at {s.w:.5f}"
                assert chosen(before) == fig["label"][s.before], (where, before)
                assert chosen(after) == fig["label"][s.after], (where, after)
                assert after["bold"] == [METHOD_COLORS[s.after]], (where, after)
                checked += 1
            for w in (0.1, 0.3, 0.5, 0.7, 0.9):  # and in between, the winner of Python
                if any(abs(w - s.w) < 1e-9 for s in switches):
                    continue
                reading = probe([*base, ["w_set", w]])
                assert chosen(reading) == fig["label"][regimes.winner(w, methods, rmse, nasa)]
    assert checked >= 2, "no switch point was crossed: the test checked nothing"

    # w from the costs: c_late 3, c_early 1 -> w = 0.75
    reading = probe([["mode", "costs"], ["c_late", 3], ["c_early", 1]])
    assert reading["label"].startswith("w = 0.750"), reading
    assert abs(reading["w"] - 0.75) < 1e-12, reading

    bands = 0
    if spread_of is not None:
        assert menu, f"{CHOOSER_PAGE}: several sources but no source menu"
        probe(
            [*pick(spread_of), ["mode", "w"], ["w_set", 0.3], *[[f"use_{m}", True] for m in every]]
        )
        bands = browser.evaluate(  # a band is taller than its method's line (same colour)
            """(() => {
              const root = document.querySelector(".rulkit-chooser");
              const line = {};
              root.querySelectorAll("svg g.lines_marks path").forEach((p) => {
                line[p.getAttribute("stroke")] = p.getBBox().height;
              });
              return Array.from(root.querySelectorAll("svg g.spread_marks path")).filter((p) =>
                parseFloat(p.getAttribute("opacity") ?? 1) > 0 &&
                p.getBBox().height > (line[p.getAttribute("fill")] ?? Infinity) + 2).length;
            })()"""
        )

    shot = os.environ.get("RULKIT_CHOOSER_SCREENSHOT") if screenshot else None
    if shot:  # for a person to look at: the chart as the reader sees it
        source = os.environ.get("RULKIT_CHOOSER_SOURCE") or next(iter(chooser_expectations(spec)))
        ticks = [[f"use_{m}", True] for m in every]
        probe([*pick(source), ["mode", "w"], ["w_set", 0.3], *ticks])
        browser.evaluate("document.activeElement && document.activeElement.blur()")
        top = browser.evaluate(
            "document.querySelector('.rulkit-chooser').getBoundingClientRect().top + scrollY"
        )
        browser.evaluate(f"window.scrollTo(0, {top} - 60)")
        data = browser.send("Page.captureScreenshot", {"format": "png"})["data"]
        Path(shot).write_bytes(base64.b64decode(data))
    return bands
