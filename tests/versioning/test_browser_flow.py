"""The steward's whole flow in a real browser (Debian's headless Chromium, driven by
Playwright): create a branch, edit an object type on it, commit, open a proposal, resolve
its conflict, approve (as a second steward) and merge.

Skips on a laptop without Chromium or Playwright; fails in CI (``CI=true``). Set
``OMS_SCREENSHOT_DIR`` to keep a screenshot of each page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connections

from tests.conftest import IN_CI
from tests.factories import PASSWORD
from tests.versioning.support import edit, object_type, seed_main, steward
from versioning import services
from versioning.models import Branch, Proposal, ProposalStatus

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}: CI must run the browser tests.")
    pytest.skip(reason)


@pytest.fixture
def browser(monkeypatch):
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
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


class Steward:
    """One logged-in steward's browser tab."""

    def __init__(self, browser, base_url: str, username: str) -> None:
        self.base = base_url
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.go("/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("input[type=submit]")
        self.page.wait_for_selector("#oms-branch-select")

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        folder = os.environ.get("OMS_SCREENSHOT_DIR")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(folder) / f"oms-{name}.png"), full_page=True)

    def messages(self) -> str:
        return " ".join(self.page.locator("ul.messagelist li").all_inner_texts())


def admin_user(name: str):
    """A steward as the role group makes one (staff, versioning and view permissions)."""
    user = steward(name, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_branch_edit_commit_propose_resolve_merge(live_server, browser):
    try:
        flow(live_server.url, browser)
    finally:
        # Under Playwright's sync API the ORM calls of the test body get their own
        # connection (Django's connections are context-local); close it here, or
        # PostgreSQL refuses to drop the test database at the end of the session.
        connections.close_all()


def flow(base_url: str, browser) -> None:
    seed_main(3)
    alice_user = admin_user("alice")
    bob = admin_user("bob")
    alice = Steward(browser, base_url, "alice")
    page = alice.page

    # create a branch from main in the Branch admin
    alice.go("/admin/versioning/branch/add/")
    page.fill("#id_name", "feature")
    page.select_option("#id_create_from", "main")
    page.click("input[name=_save]")
    assert Branch.objects.filter(name="feature", created_from="main").exists()

    # meanwhile bob changes the same display name on main (through a merged proposal)
    other = services.create_branch("other", "main", bob)
    edit(other, "Type0", display_name="Bob's name")
    services.commit_changes(other, bob, "Bob names Type0")
    first = services.open_proposal(other, services.get_branch("main"), "Bob", bob)
    services.approve(first, alice_user)
    services.merge_proposal(first, bob)

    # select the branch in the header and edit an object type there
    with page.expect_navigation():
        page.select_option("#oms-branch-select", "feature")
    alice.go("/admin/ontology/objecttype/")
    page.click("text=Type0")
    page.fill("#id_display_name", "Alice's name")
    page.click("input[name=_save]")
    assert "was changed successfully" in alice.messages()

    # the changes page shows the field change; commit it
    alice.go("/admin/versioning/commit/changes/")
    card = page.locator("details.oms-card")
    assert card.count() == 1 and "Type0" in card.inner_text()
    assert "Alice's name" in page.locator("tr.oms-modified").first.inner_text()
    alice.shot("changes")
    page.fill("#id_message", "Alice renames Type0 for display")
    page.click("#commit-form input[type=submit]")
    assert "Committed" in alice.messages()
    feature = services.get_branch("feature")
    assert feature.head.message == "Alice renames Type0 for display"

    # open a proposal into main from the nav
    page.click("nav.oms-vc-nav >> text=New proposal")
    assert page.input_value("#id_source") == "feature"
    assert page.input_value("#id_target") == "main"
    page.fill("#id_title", "Better display name for Type0")
    page.select_option("#id_reviewers", "bob")
    page.click("#proposal-form input[type=submit]")
    assert "Opened proposal" in alice.messages()
    proposal = Proposal.objects.get(title="Better display name for Type0")

    # one ERROR conflict; merging is not possible yet
    conflict = page.locator("#severity-ERROR .oms-conflict")
    assert conflict.count() == 1
    assert "Bob's name" in conflict.inner_text() and "Alice's name" in conflict.inner_text()
    assert page.locator("input[name=merge]").is_disabled()
    assert page.locator("input[name=approve]").count() == 0  # not one's own
    alice.shot("proposal-conflict")

    # resolve it with an edited value
    conflict.locator("input[value=value]").check()
    conflict.locator("textarea[name=value]").fill('"Agreed name"')
    conflict.locator("input[type=submit]").click()
    assert "set an edited value" in alice.messages()
    assert "resolved" in page.locator("#severity-ERROR").inner_text()

    # bob approves and merges
    reviewer = Steward(browser, base_url, "bob")
    reviewer.go(f"/admin/versioning/proposal/{proposal.pk}/change/")
    reviewer.page.click("input[name=approve]")
    assert "You approved" in reviewer.messages()
    merge = reviewer.page.locator("input[name=merge]")
    assert merge.is_enabled()
    reviewer.shot("proposal-ready")
    merge.click()
    assert "Merged 'feature' into 'main'" in reviewer.messages()
    assert reviewer.page.inner_text("#proposal-status") == "Merged"

    proposal.refresh_from_db()
    main = services.get_branch("main")
    assert proposal.status == ProposalStatus.MERGED and main.head_id == proposal.merge_commit_id
    assert object_type(main, "Type0").display_name == "Agreed name"

    # the history shows the merge; the diff page compares two refs side by side
    reviewer.go("/admin/versioning/commit/history/?ref=main&scope=all")
    assert reviewer.page.locator("svg.oms-dag circle.oms-dag-merge").count() == 2
    reviewer.shot("history")
    reviewer.page.locator("svg.oms-dag a").first.click()
    assert main.head_id in reviewer.page.inner_text("#content")
    reviewer.go(f"/admin/versioning/commit/diff/?a={first.merge_commit_id}&b=main")
    assert "Agreed name" in reviewer.page.locator("tr.oms-modified").first.inner_text()
    reviewer.shot("diff")
