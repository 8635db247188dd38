"""Debian's Chromium driven by Playwright, and where the screenshots go.

Playwright drives the system browser at /usr/bin/chromium; it never downloads one. Where the
browser is missing, browser tests are skipped with the reason, except in CI, where that fails.

Screenshots go to test-artifacts/screenshots (ignored by git) so a test run leaves the checkout
clean; `RI_SCREENSHOT_DIR=docs/screenshots ./scripts/test -m browser` refreshes the README's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser tests (apt-get install -y chromium)")
    pytest.skip(reason)


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("RI_SCREENSHOT_DIR") or ROOT / "test-artifacts" / "screenshots")
    folder = folder if folder.is_absolute() else ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def refused_by_csp(page) -> list[str]:
    """The Content-Security-Policy refusals Chromium reports on this page, from now on (an
    inline script or style the policy blocks is logged to the console, nothing else fails)."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: refused.append(f"script error: {error}"))
    return refused


def page_for_new_user(browser, live_server, username: str, role: str, display_name: str,
                      password: str, **context_options):
    """A user of `role` made with the CLI, and a page in a browser context of its own, returned
    with the list of CSP refusals it will collect. Timeouts are patient: other suites may share
    these two cores, and a slow first answer is not a failure here."""
    from playwright.sync_api import expect

    live_server.cli("user", "create", "--username", username, "--role", role,
                    "--display-name", display_name, "--password", password)
    context = browser.new_context(**context_options)
    page = context.new_page()
    refused = refused_by_csp(page)
    page.set_default_timeout(90_000)
    expect.set_options(timeout=90_000)
    return context, page, refused


# The text colour of each visible button and its background: the nearest ancestor's that is
# painted (a transparent button shows the page behind it), alpha blended over white.
_BUTTON_COLOURS = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const painted = e => { for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3); }
    return [255, 255, 255]; };
  return [...document.querySelectorAll('main button')].filter(b => b.offsetWidth > 0)
    .map(b => ({text: b.innerText.trim(), ink: rgb(getComputedStyle(b).color),
                paper: painted(b)}));
}"""


def _luminance(rgb) -> float:
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def unreadable_buttons(page, minimum: float = 4.5) -> list[str]:
    """Buttons in the page's main part whose text contrast with what is behind it is below
    WCAG AA's 4.5:1 (text colour blended over the background when it is translucent)."""
    found = []
    for b in page.evaluate(_BUTTON_COLOURS):
        ink, paper = b["ink"], b["paper"]
        if len(ink) == 4:  # rgba text: blend it over what is behind it
            ink = [i * ink[3] + p * (1 - ink[3]) for i, p in zip(ink[:3], paper, strict=True)]
        light, dark = sorted((_luminance(ink), _luminance(paper)), reverse=True)
        ratio = (light + 0.05) / (dark + 0.05)
        if ratio < minimum:
            found.append(f"{b['text']!r} {ratio:.1f}:1")
    return found
