"""Releases in the admin: the read-only list and page, and the "Cut a release" page
(preview, publish, refusals as messages, the release_branch permission)."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from guardian.shortcuts import assign_perm

from tests.factories import UserFactory
from tests.versioning.support import delete_object_type, edit
from versioning import services
from versioning.domain.compatibility import Compatibility
from versioning.models import Branch, Release
from versioning.releases import publish_release

pytestmark = pytest.mark.django_db

CUT = reverse("admin:versioning_release_add")
LIST = reverse("admin:versioning_release_changelist")
VIEW = ["versioning.view_release", "versioning.view_commit", "versioning.view_branch"]


def staff(name: str, *permissions: str):
    user = UserFactory(username=name, permissions=[*VIEW, *permissions])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def logged_in(client, user):
    client.force_login(user)
    return client


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_cut_page_previews_and_publishes(client, main):
    logged_in(client, staff("releaser", "versioning.release_branch"))
    page = client.get(CUT)
    assert page.status_code == 200
    html = page.content.decode()
    assert "backward compatible" in html and "<strong>1.0.0</strong>" in html
    assert "none: this is the first release" in html and 'id="release-form"' in html
    assert "New object type Type0." in html
    posted = client.post(
        f"{CUT}?branch=main", {"commit": main.head_id, "version": "", "notes": "First"}
    )
    release = Release.objects.get()
    assert posted.status_code == 302 and posted.url == reverse(
        "admin:versioning_release_change", args=[release.pk]
    )
    assert (release.version, release.notes, release.author_name) == ("1.0.0", "First", "releaser")

    # the next change: a rename, so a major bump and a migration plan
    edit(main, "Type1", api_name="Vessel")
    services.commit_changes(main, None, "rename", system=True)
    page = client.get(CUT).content.decode()
    assert "migration required" in page and "<strong>2.0.0</strong>" in page
    assert "Migration plan" in page and "The object type Type1 is now called Vessel." in page
    main.refresh_from_db()
    low = client.post(CUT, {"branch": "main", "commit": main.head_id, "version": "1.1.0"})
    assert low.status_code == 400
    assert any("at least 2.0.0" in t for t in texts(low))
    client.post(CUT, {"branch": "main", "commit": main.head_id, "version": "2.5.0"})
    assert Release.objects.filter(version="2.5.0", previous__version="1.0.0").exists()
    # the head is released: nothing left to publish
    page = client.get(CUT).content.decode()
    assert "already released as 2.5.0" in page and 'id="release-form"' not in page


def test_release_page_is_read_only_and_readable(client, main):
    publish_release(main, None, version="0.1.0")
    edit(main, "Type1", api_name="Vessel")
    services.commit_changes(main, None, "rename", system=True)
    release = publish_release(main, None)
    logged_in(client, staff("viewer"))
    listed = client.get(LIST)
    assert listed.status_code == 200
    assert "0.2.0" in listed.content.decode() and "migration required" in listed.content.decode()
    assert 'href="/admin/versioning/release/add/"' not in listed.content.decode()
    page = client.get(reverse("admin:versioning_release_change", args=[release.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Rename" in html and "<code>Type1</code> → <code>Vessel</code>" in html
    assert 'name="_save"' not in html  # view only
    assert (
        client.post(reverse("admin:versioning_release_delete", args=[release.pk])).status_code
        == 403
    )


def test_the_changelog_reads_worst_first_in_plain_words(client, main):
    publish_release(main, None, version="1.0.0")
    edit(main, "Type0", description="Seats and more")  # compatible
    edit(main, "Type2", api_name="Vessel")  # migration required
    delete_object_type(main, "Type1")  # incompatible
    services.commit_changes(main, None, "three kinds of change", system=True)
    logged_in(client, staff("viewer"))
    pages = [client.get(CUT)]  # the preview, then the published release
    # Type1 removed without an earlier deprecation: published despite the lifecycle
    release = publish_release(main, None, override=True)
    pages.append(client.get(reverse("admin:versioning_release_change", args=[release.pk])))
    for response in pages:
        html = response.content.decode().split('class="oms-release-changes"')[1]
        html = html.split("</table>")[0]
        classes = re.findall(r'oms-compat-(\w+)">([^<]*)<', html)
        ranks = [Compatibility(code).rank for code, _ in classes]
        assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) >= 3, classes
        assert classes[0] == ("INCOMPATIBLE", "incompatible")
        assert ("MIGRATION_REQUIRED", "migration required") in classes
        assert "description changed" in html and "removed" in html, html
        assert "_" not in re.sub(r"<[^>]*>", "", html), "an internal code is shown"
        assert "objectType" not in html


def test_cut_page_permissions(client, main):
    user = staff("reader")
    logged_in(client, user)
    page = client.get(CUT)
    assert page.status_code == 200
    assert "needs the <code>release_branch</code> permission" in page.content.decode()
    assert client.post(CUT, {"branch": "main", "commit": main.head_id}).status_code == 403
    assert not Release.objects.exists()
    # a grant on the branch is enough
    assign_perm("versioning.release_branch", user, main)
    client.force_login(type(user).objects.get(pk=user.pk))
    assert client.post(CUT, {"branch": "main", "commit": main.head_id}).status_code == 302
    assert Release.objects.count() == 1
    # no view permission on releases: no page at all
    logged_in(client, UserFactory(username="nobody", is_staff=True))
    assert client.get(CUT).status_code == 403


def test_refusals_are_messages_not_errors(client, main):
    logged_in(client, staff("releaser", "versioning.release_branch"))
    services.create_branch("dev", "main", None)
    page = client.get(CUT, {"branch": "dev"})
    assert "No protected branch to release from by that name" in page.content.decode()
    publish_release(main, None, version="1.0.0")
    edit(main, "Type0", description="more")
    services.commit_changes(main, None, "docs", system=True)
    main.refresh_from_db()
    taken = client.post(CUT, {"branch": "main", "commit": main.head_id, "version": "1.0.0"})
    assert taken.status_code == 409 and any("already released" in t for t in texts(taken))
    bad = client.post(CUT, {"branch": "main", "commit": main.head_id, "version": "soon"})
    assert bad.status_code == 400 and any("not a semantic version" in t for t in texts(bad))
    assert Branch.objects.get(name="main").head_id == main.head_id
    assert Release.objects.count() == 1
