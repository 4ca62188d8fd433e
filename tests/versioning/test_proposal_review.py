"""A proposal's discussion, as on a merge request: comments, and "request changes", which
withdraws the reviewer's approval and holds the merge until they approve again — in the
service (the rule, the event, the merge refusal) and on the admin's proposal page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from events.models import OutboxEvent
from tests.versioning.support import edit, seed_main
from versioning import services
from versioning.exceptions import InvalidStateError, NotAllowedError, VersioningError
from versioning.models import ProposalComment, ProposalStatus

from .test_admin_pages import login, proposal_page, staff, staff_steward, texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return staff_steward("author")


@pytest.fixture
def reviewer():
    return staff_steward("reviewer")


@pytest.fixture
def proposal(author):
    seed_main(3)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", display_name="Dev name")
    services.commit_changes(dev, author, "dev name")
    return services.open_proposal(dev, services.get_branch("main"), "Dev", author)


def comment_url(proposal) -> str:
    return reverse("admin:versioning_proposal_comment", args=[proposal.pk])


def test_a_request_for_changes_holds_the_merge_until_the_reviewer_approves(
    proposal, author, reviewer
):
    services.approve(proposal, reviewer)
    services.approve(proposal, staff_steward("second"))
    assert services.dry_run(proposal)["mergeable"]

    row = services.comment(proposal, reviewer, " Please name it Flight ", request_changes=True)
    assert (row.body, row.author_name, row.requests_changes) == (
        "Please name it Flight",
        "reviewer",
        True,
    )
    assert [a.user.username for a in proposal.approvals.all()] == ["second"]  # withdrawn
    run = services.dry_run(proposal)
    assert run["changesRequested"] == ["reviewer"] and not run["mergeable"]
    with pytest.raises(InvalidStateError, match="reviewer requested changes") as refused:
        services.merge_proposal(proposal, reviewer)
    assert refused.value.http_status == 409
    assert services.get_branch("main").head_id != services.get_branch("dev").head_id

    services.comment(proposal, author, "Renamed, have a look")  # a plain comment: no verdict
    assert services.changes_requested(proposal) == ["reviewer"]
    services.approve(proposal, reviewer)
    assert services.changes_requested(proposal) == []
    services.merge_proposal(proposal, reviewer)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.MERGED

    events = {
        e.data["comment"]: e for e in OutboxEvent.objects.filter(type=services.PROPOSAL_COMMENTED)
    }
    assert len(events) == 2 and events[row.pk].subject == f"proposals/{proposal.pk}"
    assert (events[row.pk].data["requestsChanges"], events[row.pk].data["actor"]) == (
        True,
        "reviewer",
    )


def test_who_may_comment_and_request_changes(proposal, author, reviewer):
    with pytest.raises(NotAllowedError):  # the author cannot judge their own proposal
        services.comment(proposal, author, "Looks fine to me", request_changes=True)
    with pytest.raises(NotAllowedError):  # a viewer reads, does not discuss
        services.comment(proposal, staff("viewer"), "Hello")
    for body in ("", "   ", None, 42, "x" * (services.MAX_COMMENT + 1)):
        with pytest.raises(VersioningError) as bad:
            services.comment(proposal, reviewer, body)
        assert bad.value.http_status == 400 and "'body'" in str(bad.value)
    services.close_proposal(proposal, author)
    with pytest.raises(InvalidStateError):
        services.comment(proposal, reviewer, "Too late", request_changes=True)
    services.comment(proposal, reviewer, "Why was it closed?")  # the discussion goes on
    assert ProposalComment.objects.filter(proposal=proposal).count() == 1


def test_the_proposal_page_has_a_thread_and_request_changes(client, proposal, author, reviewer):
    services.approve(proposal, reviewer)
    login(client, reviewer)
    html = client.get(proposal_page(proposal.pk)).content.decode()
    assert 'id="discussion"' in html and 'name="request_changes"' in html

    posted = client.post(comment_url(proposal), {"body": "Not yet", "request_changes": "1"})
    assert posted.status_code == 302 and posted.url.endswith("#discussion")
    assert texts(posted) == ["You requested changes: the merge waits for your approval."]
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN  # its only approval was withdrawn
    page = client.get(proposal_page(proposal.pk))
    html = page.content.decode()
    assert 'id="changes-requested"' in html and "requested changes" in html
    assert "reviewer requested changes and must approve" in " ".join(page.context["merge_blockers"])
    merge_button = html.split('name="merge"')[1].split(">")[0]
    assert "disabled" in merge_button

    login(client, author)
    html = client.get(proposal_page(proposal.pk)).content.decode()
    assert 'name="request_changes"' not in html and 'name="comment"' in html
    assert (
        client.post(comment_url(proposal), {"body": "x", "request_changes": "1"}).status_code == 403
    )
    posted = client.post(comment_url(proposal), {"body": "Done <b>now</b>"})
    assert texts(posted) == ["Comment added."]
    empty = client.post(comment_url(proposal), {"body": "  "})
    assert any("'body' is empty" in t for t in texts(empty))
    html = client.get(proposal_page(proposal.pk)).content.decode()
    thread = html.split('id="discussion"')[1]
    assert thread.index("Not yet") < thread.index(
        "Done &lt;b&gt;now&lt;/b&gt;"
    )  # escaped, in order
    assert "Discussion (2)" in html

    login(client, staff("viewer"))
    html = client.get(proposal_page(proposal.pk)).content.decode()
    assert "Not yet" in html and 'id="comment-form"' not in html
    assert client.post(comment_url(proposal), {"body": "Hi"}).status_code == 403
