"""Look at the fleet report the way a person does: in a real headless browser, from a screenshot.

`make browser` installs Debian's chromium-headless-shell when no Chromium is on PATH (ARCML_BROWSER names
another). The screenshot is read back with Pillow and its pixels counted by the report's stage colours, so a
page that renders empty (a template that produced nothing, a stylesheet that no longer applies, rows that lost
their stage cells) fails instead of passing on the HTML text alone.
"""

import os
import shutil
import subprocess

import pytest

BROWSER_NAMES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
BROWSER_TIMEOUT = 120
# The stage colours of playbooks/templates/fleet_report.html.j2 (CSS .st-*), as RGB.
STAGE_COLOURS = {
    "ok": (0x2D, 0xA4, 0x4E),
    "drift": (0xD4, 0xA7, 0x2C),
    "pending": (0x21, 0x8B, 0xFF),
    "missing": (0x8C, 0x95, 0x9F),
    "failed": (0xCF, 0x22, 0x2E),
}
WHITE = (0xFF, 0xFF, 0xFF)


class EmptyRender(AssertionError):
    """The screenshot shows no report: too little painted, or none of the stage colours that were expected."""


def browser_path():
    named = os.environ.get("ARCML_BROWSER")
    if named:
        return named
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("No headless Chromium found: run `make browser` (installs Debian's chromium-headless-shell) "
                "or set ARCML_BROWSER to one.")  # fmt: skip


def _run_browser(tmp_path, *args):
    profile = tmp_path / "browser-profile"
    command = [browser_path(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False)


def screenshot(html_file, tmp_path, width=1400, height=1800):
    """A PNG of the page's first `height` pixels at `width`, as the browser painted it."""
    out = tmp_path / (html_file.stem + ".png")
    out.unlink(missing_ok=True)
    run = _run_browser(tmp_path, f"--window-size={width},{height}", f"--screenshot={out}", html_file.as_uri())
    assert out.exists(), f"the browser wrote no screenshot (rc {run.returncode}): {run.stderr[-2000:]}"
    return out


def rendered_dom(html_file, tmp_path):
    """The document as the browser built it (--dump-dom)."""
    run = _run_browser(tmp_path, "--dump-dom", html_file.as_uri())
    assert run.returncode == 0 and "<body" in run.stdout, f"the browser could not load the page: {run.stderr[-2000:]}"
    return run.stdout


def painted(png):
    """(fraction of pixels that are not white, {state: pixel count of its exact colour})."""
    from PIL import Image

    with Image.open(png) as image:
        counts = image.convert("RGB").getcolors(maxcolors=1 << 24)
    total = sum(count for count, _ in counts)
    by_colour = {colour: count for count, colour in counts}
    states = {state: by_colour.get(rgb, 0) for state, rgb in STAGE_COLOURS.items()}
    return 1 - by_colour.get(WHITE, 0) / total, states


def assert_report_painted(png, expected_states, min_ink=0.03, min_pixels=400):
    """Fail unless the screenshot shows a report: enough ink, and each expected stage colour in cells, not specks.

    A blank page paints nothing; a two-site report about 6% of a 1400 x 1800 screen. `min_pixels` is a few grid
    cells' worth at the report's cell size (about 80 x 20 pixels each); the legend's swatches are fewer.
    """
    ink, states = painted(png)
    if ink < min_ink:
        raise EmptyRender(f"the page is {ink:.1%} painted: it rendered empty")
    missing = {state: states[state] for state in expected_states if states[state] < min_pixels}
    if missing:
        raise EmptyRender(f"stage colours missing or only specks (pixels): {missing}; painted: {states}")
    return states
