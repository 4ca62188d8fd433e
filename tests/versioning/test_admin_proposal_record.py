"""The proposal page as a steward reads it: the proposal's own branch in the bar, conflicts
and messages by name, a merge that asks first, the predicted release, and a merged
proposal that keeps its record (diff, conflicts with who resolved them how, approvals)."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.versioning.support import edit
from versioning import services
from versioning.models import Branch

from .test_admin_conflict_groups import fix_the_block, proposal  # noqa: F401  (the fixture)
from .test_admin_pages import login, select, staff_steward

pytestmark = pytest.mark.django_db


def page(client, pk: int):
    return client.get(reverse("admin:versioning_proposal_change", args=[pk]))


def test_the_bar_shows_the_proposal_branch_not_the_session_one(client, proposal):  # noqa: F811
    proposal, author = proposal
    login(client, author)
    select(client, "main")
    response = page(client, proposal.pk)
    assert response.context["branch"].name == "dev"
    assert "Branch <strong>dev</strong>" in response.content.decode()


def test_conflicts_and_resolve_messages_use_names(client, proposal):  # noqa: F811
    proposal, author = proposal
    error, warn = fix_the_block(proposal, author)
    login(client, author)
    html = page(client, proposal.pk).content.decode()
    # the WARN conflict's path names the property and the strategy's value reads as a label
    (item,) = [
        c
        for g in page(client, proposal.pk).context["groups"]
        for c in g["items"]
        if c["id"] == warn["id"]
    ]
    assert item["where"].endswith("› baseType") and warn["rid"] not in item["where"]
    assert item["proposed_text"] == "long"
    assert "edited value &quot;long" not in html
    resolve = reverse("admin:versioning_proposal_resolve", args=[proposal.pk])
    response = client.post(resolve, {"conflict": error["id"], "choice": "value", "value": '"Both"'})
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == "Conflict on Type0 › displayName: set the edited value Both."
    assert error["rid"] not in message


def test_merge_asks_for_confirmation_and_the_page_predicts_the_release(client, proposal):  # noqa: F811
    proposal, author = proposal
    fix_the_block(proposal, author)
    reviewer = staff_steward("reviewer2")
    login(client, reviewer)
    response = page(client, proposal.pk)
    html = response.content.decode()
    merge_form = html.split('value="merge"')[0].rsplit("<form", 1)[1]
    assert "onsubmit=\"return confirm('Merge" in merge_form
    predicted = response.context["predicted"]
    assert predicted.changes and predicted.compatibility.value in html
    assert 'id="predicted"' in html


def test_a_merged_proposal_keeps_its_diff_conflicts_resolutions_and_approvals(client, proposal):  # noqa: F811
    proposal, author = proposal
    error, warn = fix_the_block(proposal, author)
    services.resolve(proposal, error["id"], "theirs", None, author)
    reviewer = staff_steward("reviewer2")
    services.approve(proposal, reviewer)
    login(client, author)
    before = page(client, proposal.pk).context
    services.merge_proposal(proposal, reviewer)

    response = page(client, proposal.pk)
    assert response.status_code == 200
    html = response.content.decode()
    after = response.context
    assert after["run"]["merged"] and 'id="merged-record"' in html
    assert [c["rid"] for c in after["cards"]] == [c["rid"] for c in before["cards"]]
    kept = {c["id"]: c for g in after["groups"] for c in g["items"]}
    assert set(kept) == {c["id"] for g in before["groups"] for c in g["items"]}
    assert kept[error["id"]]["chosen"] == "theirs" and kept[error["id"]]["chosen_by"] == "author"
    assert "✓ resolved: theirs" in html and "(by author)" in html
    assert "reviewer2" in html.split('id="approvals"')[1].split("</dd>")[0]
    assert 'class="oms-resolve"' not in html  # a record: nothing to decide any more
    # the target's compatibility check belongs to an open proposal; the record has none
    assert 'id="compatibility"' not in html and "has no release yet" not in html


def test_conflicts_and_cards_name_kinds_in_words_not_codes(client, proposal):  # noqa: F811
    proposal, author = proposal
    fix_the_block(proposal, author)
    login(client, author)
    html = page(client, proposal.pk).content.decode()
    heads = re.findall(r'<div class="oms-conflict-head">(.*?)</div>', html, flags=re.S)
    assert heads and all("object type" in h for h in heads)
    assert any("changed on both sides" in h for h in heads)
    for code in ("modify_modify", "objectType"):
        assert all(code not in h for h in heads), code
    summaries = re.findall(r"<summary>(.*?)</summary>", html, flags=re.S)
    assert summaries and all('class="oms-kind">object type<' in s for s in summaries)
    edit(Branch.objects.get(name="dev"), "Type0", description="Not committed")
    changes = client.get(reverse("admin:versioning_changes") + "?branch=dev").content.decode()
    discard = changes.split('class="oms-discard-choices"')[1].split("</ul>")[0]
    assert 'class="oms-kind">object type<' in discard
