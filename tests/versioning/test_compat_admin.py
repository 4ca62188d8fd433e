"""The admin's compatibility pages: the *Cut a release* page shows the branch's mode, the
findings publishing would meet, the consumers the breaking changes touch and, to a
steward allowed to, the override; the proposal page shows a remembered resolution."""

from __future__ import annotations

import pytest
from django.utils import timezone

from events.models import OutboxEvent
from tests.versioning.support import edit, seed_main, steward
from tests.versioning.test_releases_admin import CUT, logged_in, staff, texts
from versioning import consumers, releases, services
from versioning.models import Branch, Release
from versioning.releases import publish_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def renamed():
    """main at BACKWARD, released as 1.0.0, then Type1 renamed (a finding) and committed;
    a consumer reads Type1."""
    main = seed_main(3)
    Branch.objects.filter(pk=main.pk).update(compatibility_mode="BACKWARD")
    main.refresh_from_db()
    publish_release(main, None)
    owner = steward("fleet-owner")
    consumers.save_consumer(
        None, None, name="fleet-app", reads=["Type1"], owner=owner, contact="ops@x.org"
    )
    edit(main, "Type1", api_name="Vessel")
    services.commit_changes(main, None, "rename", system=True)
    main.refresh_from_db()
    return main


def test_cut_page_shows_mode_findings_and_touched_consumers(client, renamed):
    logged_in(client, staff("releaser", "versioning.release_branch"))
    html = client.get(CUT).content.decode()
    assert 'id="compatibility-findings"' in html and "BACKWARD · backward · against 1.0.0" in html
    assert "<strong>Vessel</strong>" in html and "MIGRATION_REQUIRED" in html
    assert 'id="consumer-impact"' in html and "fleet-app" in html and "fleet-owner" in html
    assert "ops@x.org" not in html and "•••" in html  # the contact masked: no view_pii
    assert 'id="release-override"' not in html  # no override permission
    posted = client.post(CUT, {"branch": "main", "commit": renamed.head_id, "override": "on"})
    assert posted.status_code == 403  # asked for the override without the permission
    assert any("override_compatibility" in t for t in texts(posted))
    refused = client.post(CUT, {"branch": "main", "commit": renamed.head_id})
    assert refused.status_code == 409 and Release.objects.count() == 1
    logged_in(client, staff("pii-reader", "versioning.release_branch", "versioning.view_pii"))
    assert "ops@x.org" in client.get(CUT).content.decode()  # view_pii: in clear


def test_cut_page_publishes_with_the_override_for_a_steward_allowed_to(client, renamed):
    logged_in(
        client,
        staff("boss", "versioning.release_branch", "versioning.override_compatibility"),
    )
    assert 'id="release-override"' in client.get(CUT).content.decode()
    posted = client.post(CUT, {"branch": "main", "commit": renamed.head_id, "override": "on"})
    assert posted.status_code == 302
    event = OutboxEvent.objects.get(type=releases.RELEASE_PUBLISHED, subject="releases/2.0.0")
    assert event.data["compatibilityOverride"]["by"] == "boss"
    assert event.data["brokenConsumers"] == ["fleet-app"]


def test_cut_page_without_findings_offers_no_override(client):
    main = seed_main(3)
    Branch.objects.filter(pk=main.pk).update(compatibility_mode="BACKWARD")
    publish_release(main, None)
    edit(main, "Type0", description="documented")
    services.commit_changes(main, None, "doc", system=True)
    logged_in(
        client,
        staff("boss", "versioning.release_branch", "versioning.override_compatibility"),
    )
    html = client.get(CUT).content.decode()
    assert 'id="release-mode"' in html and "BACKWARD" in html
    assert 'id="compatibility-findings"' not in html and 'id="release-override"' not in html


def test_proposal_page_shows_a_resolution_remembered_from_an_earlier_proposal(client):
    from django.urls import reverse

    author = steward("author")
    main = seed_main(3)
    dev = services.create_branch("dev", "main", author)
    edit(main, "Type0", description="main's")
    services.commit_changes(main, None, "main's", system=True)
    edit(dev, "Type0", description="dev's")
    services.commit_changes(dev, author, "dev's")
    first = services.open_proposal(dev, main, "First", author)
    (conflict,) = [c for c in services.dry_run(first)["conflicts"] if c["severity"] == "ERROR"]
    services.resolve(first, conflict["id"], "theirs", None, author)
    services.close_proposal(first, author)
    second = services.open_proposal(dev, main, "Again", author)
    viewer = staff("viewer", "versioning.view_proposal")
    client.force_login(viewer)
    html = client.get(reverse("admin:versioning_proposal_change", args=[second.pk])).content
    today = timezone.now().date().isoformat()
    assert f"resolved as before by author on {today}" in html.decode()
