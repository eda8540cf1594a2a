#!/usr/bin/env python3
"""Screenshots the top of a `semid report` page in headless Chromium (the README's picture).

    python3 scripts/report-screenshot.py report.html docs/report-screenshot.png [--width 1200] [--height 1500] [--scale 0.6]

Renders the page `--width` CSS pixels wide and captures its first `--height` CSS pixels at `--scale`
(0.6: a 720-pixel-wide PNG). It drives Chromium through the browser test's DevTools client
(Tests/Browser/report_in_chromium.py), so it needs only Python's standard library and `chromium`.
"""
import argparse
import base64
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "Browser"))
from report_in_chromium import Chromium  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report")
    parser.add_argument("png")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--top", type=int, default=0, help="first CSS pixel row to capture")
    parser.add_argument("--scale", type=float, default=0.6)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    if not os.path.isfile(args.report):
        raise SystemExit("%s: no such report" % args.report)
    browser = Chromium(args.chromium, args.width)
    try:
        browser.open_page()
        browser.navigate("file://" + os.path.abspath(args.report))
        height = browser.evaluate("document.documentElement.scrollHeight")
        clip = {"x": 0, "y": args.top, "width": args.width, "height": min(args.height, height - args.top), "scale": args.scale}
        params = {"format": "png", "captureBeyondViewport": True, "clip": clip}
        data = base64.b64decode(browser.call("Page.captureScreenshot", params, timeout=120)["data"])
    finally:
        browser.close()
    with open(args.png, "wb") as f:
        f.write(data)
    print("wrote %s (%d kB, %d × %d CSS px at scale %.2f)" % (args.png, len(data) // 1024, args.width, clip["height"], args.scale))


if __name__ == "__main__":
    main()
