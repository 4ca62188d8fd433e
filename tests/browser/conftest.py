"""The admin in a real browser: Debian's headless Chromium driven by Playwright, with
axe-core (the npm package of package.json, ``npm ci``) run inside each page.

Skips on a laptop without Chromium, Playwright or ``node_modules/axe-core``; fails in CI
(``CI=true``). ``OMS_SCREENSHOT_DIR`` keeps a screenshot of each audited page in light and
dark mode (``make screenshots`` writes them under var/screenshots/).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from ontology.management.commands.ensure_admin import role_permissions
from tests.conftest import IN_CI
from tests.factories import PASSWORD, UserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORT = {"width": 1280, "height": 800}
#: axe-core impacts that fail a page (colour contrast is "serious")
FAILING_IMPACTS = ("serious", "critical")
SCHEMES = ("light", "dark")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}: CI must run the browser tests.")
    pytest.skip(reason)


@pytest.fixture
def browser(monkeypatch):
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    if not AXE.exists():
        _unavailable(f"{AXE} is missing (npm ci)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made from the
    # test between page actions are synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => (n.failureSummary || "").split("\\n").slice(0, 2).join(" ")
      + " @ " + n.target.join(" ")),
  }));
}"""

#: lists, tables of children and diffs must fit too, not scroll inside their box
SCROLLERS = "#changelist .results, .inline-group .tabular, table.oms-sbs, .oms-conflict table"
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const inner = [...document.querySelectorAll(SCROLLERS)]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.tagName.toLowerCase() + "." + e.className.split(" ")[0]
      + " " + e.scrollWidth + " px in " + e.clientWidth);
  const wide = [...document.querySelectorAll("#content *")]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
      + (e.className && typeof e.className === "string" ? "." + e.className.split(" ")[0] : ""));
  return {scroll: document.documentElement.scrollWidth, width: window.innerWidth, wide, inner};
}""".replace("SCROLLERS", repr(SCROLLERS))
#: colours are read once they settled: Django's admin fades link colours in 0.15 s
NO_TRANSITIONS = "*, *::before, *::after { transition: none !important; }"


class Steward:
    """One logged-in steward's browser tab, at 1280×800."""

    def __init__(self, browser, base_url: str, username: str) -> None:
        self.base = base_url
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.on("dialog", lambda dialog: dialog.accept())  # confirm() of merge, close
        self.findings: list[str] = []
        self.go("/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("input[type=submit]")
        self.page.wait_for_selector("#oms-branch-select")

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def submit(self, target) -> None:
        """Click a submit button (a selector or a locator) and wait for the next page."""
        with self.page.expect_navigation():
            if isinstance(target, str):
                self.page.click(target)  # the first match (the admin repeats Save on top)
            else:
                target.click()

    def shot(self, name: str) -> None:
        folder = os.environ.get("OMS_SCREENSHOT_DIR")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(folder) / f"oms-{name}.png"), full_page=True)

    def messages(self) -> str:
        return " ".join(self.page.locator("ul.messagelist li").all_inner_texts())

    def audit(self, name: str) -> None:
        """The page as it is, in light and in dark mode: no horizontal overflow at 1280 px
        and no serious or critical axe-core violation; findings are collected (the test
        asserts them at the end, so one run names every page's problems)."""
        if not self.page.evaluate("() => typeof axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
            self.page.add_style_tag(content=NO_TRANSITIONS)
        for scheme in SCHEMES:
            self.page.emulate_media(color_scheme=scheme)
            size = self.page.evaluate(OVERFLOW)
            if size["scroll"] > size["width"]:
                self.findings.append(
                    f"{name} ({scheme}): {size['scroll']} px wide at {size['width']} px, "
                    f"e.g. {', '.join(size['wide'])}"
                )
            for scroller in size["inner"]:
                self.findings.append(f"{name} ({scheme}): {scroller} scrolls sideways")
            for v in self.page.evaluate(AXE_RUN):
                if v["impact"] in FAILING_IMPACTS:
                    self.findings.append(
                        f"{name} ({scheme}): axe {v['impact']} {v['id']} ({v['help']}): "
                        + " | ".join(v["nodes"])
                    )
            self.shot(f"{name}-{scheme}")
        self.page.emulate_media(color_scheme="light")


def admin_user(name: str):
    """A steward as ``ensure_admin``'s role group makes one (staff, the steward role)."""
    user = UserFactory(username=name, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(role_permissions()["steward"]))
    return user
