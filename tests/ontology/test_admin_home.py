"""The admin's home page: a steward's review queue, their branches, open proposals, the
latest release, overdue deprecations of the selected branch; Ontology and Versioning first."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from tests.factories import ObjectTypeFactory
from tests.versioning.support import edit, seed_main
from tests.versioning.test_admin_pages import login, staff_steward
from versioning import services

pytestmark = pytest.mark.django_db


def test_home_lists_what_awaits_the_steward_and_overdue_deprecations(client):
    main = seed_main(2)
    alice, bob = staff_steward("alice"), staff_steward("bob")
    today = timezone.localdate()
    ObjectTypeFactory(
        branch=main,
        api_name="Legacy",
        status="DEPRECATED",
        deprecation_message="Use Type0.",
        deprecation_deadline=today - datetime.timedelta(days=3),
    )
    ObjectTypeFactory(
        branch=main,
        api_name="Later",
        status="DEPRECATED",
        deprecation_message="Soon.",
        deprecation_deadline=today + datetime.timedelta(days=3),
    )
    dev = services.create_branch("dev", "main", alice)
    edit(dev, "Type0", description="x")
    services.commit_changes(dev, alice, "x")
    proposal = services.open_proposal(dev, main, "Describe Type0", alice, reviewers=[bob])

    login(client, bob)
    html = client.get("/admin/").content.decode()
    review = html.split('id="home-review"')[1].split("</section>")[0]
    assert f"/admin/versioning/proposal/{proposal.pk}/change/" in review
    overdue = html.split('id="home-overdue"')[1].split("</section>")[0]
    assert "Legacy" in overdue and "3 days ago" in overdue and "Later" not in overdue
    assert "dev" not in html.split('id="home-branches"')[1].split("</section>")[0]
    apps = re.findall(r"<caption>\s*<a[^>]*>([^<]*)", html)
    assert apps[:2] == ["Ontology", "Versioning"]

    services.approve(proposal, bob)
    html = client.get("/admin/").content.decode()
    assert "Nothing waits for you." in html
    login(client, alice)
    mine = client.get("/admin/").content.decode().split('id="home-branches"')[1]
    assert "?branch=dev" in mine.split("</section>")[0]
