#!/usr/bin/env python3
"""Renders `semid report` pages in headless Chromium and checks them (part of `make test`).

For the bundled index (Codebooks/beauty.semid, with its trained model) alone, and compared with
two small indexes built here (RQ-KMeans 4x64 with sinkhorn collisions and user IDs; RQ-VAE 3x64,
a few epochs) so that every section of the page is drawn, it checks that:

  * the page loads from file:// without a single network request, console message of level
    error or warning, uncaught exception or Content-Security-Policy violation;
  * every figure has its SVG plot, a non-empty one-line reading, and drawn marks with a size;
  * every plot is non-empty in the rendered pixels (a screenshot of each figure has coloured
    pixels: the marks; axes, grid and text are grey);
  * the expected sections and figures are present.

It drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe), so it needs
only the Python standard library. Screenshots (full page and per figure) go to --out.

    python3 Tests/Browser/report_in_chromium.py --semid .build-tests/release/semid --out .build-tests/browser
"""
import argparse
import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEAUTY = os.path.join(ROOT, "Datasets", "amazon-beauty")
BUNDLED = os.path.join(ROOT, "Codebooks", "beauty.semid")


class Chromium:
    """A headless Chromium driven over the DevTools protocol on file descriptors 3 and 4."""

    def __init__(self, binary, width):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        self._profile = tempfile.mkdtemp(prefix="semid-chromium-")

        def wire_pipes():
            # Copy both ends above 4 first (either may be 3 or 4 itself), then onto 3 and 4.
            reading, writing = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        args = [binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + self._profile, "--window-size=%d,1000" % width, "about:blank"]
        self.process = subprocess.Popen(args, preexec_fn=wire_pipes, pass_fds=(3, 4),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []
        self.session = None

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            if time.time() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe (exit status %s)" % self.process.poll())
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=True, timeout=60):
        """Sends a command (to the attached page unless session=False) and returns its result."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError("%s failed: %s" % (method, reply["error"]))
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method, timeout=60):
        deadline = time.time() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def open_page(self):
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")

    def navigate(self, url):
        self.events = [e for e in self.events if e["method"] != "Page.loadEventFired"]
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError("script failed: %s" % result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, clip=None):
        params = {"format": "png", "captureBeyondViewport": True}
        if clip:
            params["clip"] = dict(clip, scale=1)
        return base64.b64decode(self.call("Page.captureScreenshot", params, timeout=120)["data"])


def png_pixels(data):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, "unsupported PNG layout %s" % (header,)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def coloured_pixels(png):
    """Pixels whose channels differ by more than 40 (marks; the page's greys and text do not)."""
    _, _, rows = png_pixels(png)
    return sum(1 for row in rows for (r, g, b) in row if max(r, g, b) - min(r, g, b) > 40)


FIGURES_JS = r"""
(() => {
  const out = [];
  for (const f of document.querySelectorAll('figure[data-plot]')) {
    const svg = f.querySelector('svg.plot');
    const r = (svg || f).getBoundingClientRect();
    let marks = 0;
    if (svg) for (const m of svg.querySelectorAll('.marks .mark')) {
      const b = m.getBBox();
      if (b.width > 0 || b.height > 0) marks++;
    }
    const reading = (f.querySelector('p.reading') || {}).textContent || '';
    out.push({id: f.dataset.plot, svg: !!svg, marks, reading: reading.trim(),
              empty: svg ? svg.querySelectorAll('text.empty').length : 0,
              x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height});
  }
  return JSON.stringify({figures: out, sections: [...document.querySelectorAll('section[id]')].map(s => s.id),
                         scripts: document.scripts.length, height: document.documentElement.scrollHeight,
                         title: document.title});
})()
"""


def check_page(browser, html, name, out, expected_sections, expected_figures, width):
    """Loads `html`, checks it, writes screenshots; returns a list of problems."""
    problems = []
    browser.events = []
    browser.navigate("file://" + os.path.abspath(html))
    time.sleep(0.3)
    page = json.loads(browser.evaluate(FIGURES_JS))
    # Console, exceptions, CSP violations and network use.
    for event in browser.events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            problems.append("console %s: %s" % (params["type"], [a.get("value", a.get("description")) for a in params.get("args", [])]))
        elif method == "Runtime.exceptionThrown":
            problems.append("uncaught exception: %s" % params.get("exceptionDetails", {}).get("text"))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            problems.append("console %s: %s" % (params["entry"]["level"], params["entry"].get("text")))
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith(("file://", "data:")):
                problems.append("network request: %s" % url)
    if page["scripts"]:
        problems.append("the page has %d <script> elements" % page["scripts"])
    for section in expected_sections:
        if section not in page["sections"]:
            problems.append("section #%s is missing (have %s)" % (section, page["sections"]))
    ids = [f["id"] for f in page["figures"]]
    for figure in expected_figures:
        if not any(i == figure or i.startswith(figure) for i in ids):
            problems.append("figure %s is missing" % figure)
    # Full-page screenshot.
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": int(page["height"]), "deviceScaleFactor": 1, "mobile": False})
    os.makedirs(out, exist_ok=True)
    full = browser.screenshot()
    with open(os.path.join(out, name + ".png"), "wb") as f:
        f.write(full)
    # Every figure: structure, then pixels.
    figures_dir = os.path.join(out, name + "-figures")
    os.makedirs(figures_dir, exist_ok=True)
    for f in page["figures"]:
        where = "%s: figure %s" % (name, f["id"])
        if not f["svg"]:
            problems.append(where + " has no svg.plot")
            continue
        if f["width"] < 100 or f["height"] < 100:
            problems.append(where + " is %dx%d px" % (f["width"], f["height"]))
        if f["marks"] == 0 or f["empty"]:
            problems.append(where + " draws no data")
        if len(f["reading"]) < 20:
            problems.append(where + " has no reading")
        shot = browser.screenshot({"x": f["x"], "y": f["y"], "width": f["width"], "height": f["height"]})
        with open(os.path.join(figures_dir, f["id"] + ".png"), "wb") as out_file:
            out_file.write(shot)
        coloured = coloured_pixels(shot)
        if coloured < 150:
            problems.append(where + " looks empty in the screenshot (%d coloured pixels)" % coloured)
    browser.call("Emulation.clearDeviceMetricsOverride")
    print("  %s: %d figures, %d sections, %d problems; screenshot %s" % (
        name, len(page["figures"]), len(page["sections"]), len(problems), os.path.join(out, name + ".png")))
    return problems


def run(command):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise SystemExit("failed: %s\n%s%s" % (" ".join(command), result.stdout, result.stderr))
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--semid", required=True, help="the semid binary")
    parser.add_argument("--out", required=True, help="directory for the reports, indexes and screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args()
    if not shutil.which(args.chromium) and not os.path.exists(args.chromium):
        raise SystemExit("chromium is not installed (make browser-deps installs it)")
    if not os.path.isdir(BUNDLED) or not os.path.isdir(BEAUTY):
        raise SystemExit("the bundled index %s or dataset %s is missing" % (BUNDLED, BEAUTY))
    out = os.path.abspath(args.out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    semid = os.path.abspath(args.semid)
    embeddings, items = os.path.join(BEAUTY, "embeddings.npy"), os.path.join(BEAUTY, "items.jsonl")
    print("browser test: building two small indexes and three reports in %s" % out)
    sinkhorn = os.path.join(out, "beauty-4x64-sinkhorn.semid")
    run([semid, "build", "--embeddings", embeddings, "--items", items, "--levels", "4", "--codebook-size", "64",
         "--collisions", "sinkhorn", "--seed", "3", "--out", sinkhorn, "--quiet"])
    run([semid, "users", sinkhorn, "--sequences", os.path.join(BEAUTY, "sequences.tsv"), "--quiet"])
    vae = os.path.join(out, "beauty-rqvae-3x64.semid")
    run([semid, "build", "--method", "rq-vae", "--embeddings", embeddings, "--items", items, "--levels", "3",
         "--codebook-size", "64", "--epochs", "8", "--eval-every", "2", "--seed", "3", "--out", vae, "--quiet"])
    bundled_html, compare_html = os.path.join(out, "bundled.html"), os.path.join(out, "compare.html")
    print("  " + run([semid, "report", BUNDLED, "--out", bundled_html, "--embeddings", embeddings, "--quiet"]).strip())
    print("  " + run([semid, "report", BUNDLED, "--compare", sinkhorn, vae, "--out", compare_html, "--quiet"]).strip())

    common = ["usage-level-1", "utilisation", "perplexity", "usage-map-0", "fan-out", "residual", "group-sizes"]
    browser = Chromium(args.chromium, args.width)
    problems = []
    try:
        browser.open_page()
        problems += check_page(browser, bundled_html, "bundled", out,
                               ["overview", "usage", "id-space", "collisions", "reconstruction", "model"],
                               common + ["reconstruction-errors", "model-loss-", "model-validation"], args.width)
        problems += check_page(browser, compare_html, "compare", out,
                               ["overview", "usage", "id-space", "collisions", "reconstruction", "rqvae", "model", "users"],
                               common + ["headline", "usage-level-4", "usage-map-2", "sinkhorn-rounds", "reconstruction-errors",
                                         "rqvae-losses-", "rqvae-collisions-", "rqvae-utilisation-", "model-validation",
                                         "users-utilisation", "users-fan-out", "users-group-sizes", "users-reconstruction-errors"],
                               args.width)
    finally:
        browser.close()
    if problems:
        print("browser test FAILED:")
        for p in problems:
            print("  - " + p)
        sys.exit(1)
    print("browser test passed: no console errors or network requests; every plot present and drawn")


if __name__ == "__main__":
    main()
