"""Registered consumers: the API, whom a breaking change touches, the event on publish."""

from __future__ import annotations

import pytest

from events.models import OutboxEvent
from tests.factories import UserFactory
from tests.versioning.support import edit
from tests.versioning.test_api import client_for, error
from versioning import consumers, services
from versioning.consumers import CONSUMER_BROKEN
from versioning.domain.compatibility import ClassifiedChange, Compatibility
from versioning.models import Branch, Consumer
from versioning.protection import token
from versioning.releases import preview, publish_release

pytestmark = pytest.mark.django_db

URL = "/api/v1/consumers/"
MANAGER = [
    "versioning.add_consumer",
    "versioning.change_consumer",
    "versioning.delete_consumer",
]


def change(entity: str, compatibility=Compatibility.INCOMPATIBLE, **migration) -> ClassifiedChange:
    return ClassifiedChange(
        rid="r",
        entity_kind="objectType",
        entity=entity,
        path=(),
        kind="k",
        compatibility=compatibility,
        message=f"{entity} changed",
        migration=migration or None,
    )


def register(name: str, reads: list[str], **extra) -> Consumer:
    return consumers.save_consumer(None, None, name=name, reads=reads, **extra)


def test_a_breaking_change_touches_readers_of_the_entity_its_parent_or_its_children():
    register("whole", ["Flight"])
    register("one-field", ["Flight.number"])
    register("other", ["Flightless", "Airport.code"])
    touched = consumers.impact([change("Flight.number")])
    assert [t["consumer"] for t in touched] == ["one-field", "whole"]
    touched = consumers.impact([change("Flight")])
    assert [t["consumer"] for t in touched] == ["one-field", "whole"]
    # a rename touches the readers of the old name, and of the old name's children
    renamed = change(
        "Trip", Compatibility.MIGRATION_REQUIRED, action="rename", **{"from": "Flight"}
    )
    assert [t["consumer"] for t in consumers.impact([renamed])] == ["one-field", "whole"]
    # only breaking changes count
    assert consumers.impact([change("Flight", Compatibility.BACKWARD_COMPATIBLE)]) == []


def test_release_preview_lists_the_consumers_each_breaking_change_touches(main):
    owner = UserFactory(username="fleet-owner")
    register("fleet-app", ["Type1"], owner=owner, contact="fleet@example.org")
    register("docs-site", ["Type0"])
    publish_release(main, None)
    edit(main, "Type1", api_name="Vessel")
    edit(main, "Type0", description="only documentation")
    services.commit_changes(main, None, "rename", system=True)
    shown = preview("main").to_dict()
    (item,) = shown["impact"]
    # the contact as its token (masked; REST resolves it for view_pii, test_pii_examples.py)
    assert (item["consumer"], item["owner"], item["contact"]) == (
        "fleet-app",
        "fleet-owner",
        token("fleet@example.org"),
    )
    assert item["pinnedRelease"] is None
    assert [c["kind"] for c in item["changes"]] == ["renamed"]
    by_kind = {c["kind"]: c["consumers"] for c in shown["changelog"]}
    assert by_kind == {"renamed": ["fleet-app"], "description_changed": []}


def test_publishing_a_release_that_breaks_a_consumer_emits_an_event_naming_it(main):
    first = publish_release(main, None)
    register("fleet-app", ["Type1"], pinnedRelease="1.0.0")
    edit(main, "Type0", description="harmless")
    services.commit_changes(main, None, "doc", system=True)
    publish_release(main, None)
    assert not OutboxEvent.objects.filter(type=CONSUMER_BROKEN).exists()
    edit(main, "Type1", api_name="Vessel")
    services.commit_changes(main, None, "rename", system=True)
    release = publish_release(main, None)
    event = OutboxEvent.objects.get(type=CONSUMER_BROKEN)
    assert event.subject == "consumers/fleet-app"
    assert event.data["release"] == release.version == "2.0.0"
    assert event.data["pinnedRelease"] == first.version
    assert event.data["changes"][0]["entity"] == "Vessel"
    published = OutboxEvent.objects.get(subject="releases/2.0.0")
    assert published.data["brokenConsumers"] == ["fleet-app"]


def test_api_registers_changes_and_removes_consumers(main):
    publish_release(main, None)
    # view_pii: the contact in clear (without it, masked: tests/ontology/test_pii_examples.py)
    manager = UserFactory(username="manager", permissions=[*MANAGER, "versioning.view_pii"])
    api = client_for(manager)
    created = api.post(
        URL,
        {
            "name": "fleet-app",
            "owner": "manager",
            "contact": "ops@example.org",
            "pinnedRelease": "v1.0.0",
            "reads": ["Type1", "Type0.property0", "Type1"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json() == {
        "name": "fleet-app",
        "owner": "manager",
        "contact": "ops@example.org",
        "pinnedRelease": "1.0.0",
        "reads": ["Type1", "Type0.property0"],
        "description": "",
    }
    assert [c["name"] for c in api.get(URL).json()] == ["fleet-app"]
    patched = api.patch(f"{URL}fleet-app/", {"reads": ["Type2"]}, format="json")
    assert patched.status_code == 200 and patched.json()["reads"] == ["Type2"]
    assert patched.json()["pinnedRelease"] == "1.0.0"  # not sent: unchanged
    assert api.delete(f"{URL}fleet-app/").status_code == 204
    error(api.get(f"{URL}fleet-app/"), 404)


def test_api_refuses_bad_input_with_the_field_named(main):
    api = client_for(UserFactory(username="manager", permissions=MANAGER))

    def refused(body, status=400):
        return set(error(api.post(URL, body, format="json"), status)["fields"])

    assert refused({"name": "x", "reads": ["Ok", "not a path!"]}) == {"reads.1"}  # the item named
    assert refused({"name": "x", "reads": "Flight"}) == {"reads"}
    assert refused({"name": "x", "pinnedRelease": "9.9.9"}, 404) == {"pinnedRelease"}
    assert refused({"name": "x", "color": 1}) == {"color"}
    assert refused({"name": "x", "owner": "ghost"}) == {"owner"}
    register("taken", [])
    assert refused({"name": "taken"}, 409) == {"name"}  # a taken name is a conflict
    assert refused({"name": "   "}) == {"name"}
    assert not Consumer.objects.exclude(name="taken").exists()


def test_api_needs_the_consumer_permissions(main):
    register("fleet-app", ["Type1"])
    viewer = client_for(UserFactory(username="viewer"))
    assert viewer.get(URL).status_code == 200
    error(viewer.post(URL, {"name": "mine"}, format="json"), 403)
    error(viewer.patch(f"{URL}fleet-app/", {"reads": []}, format="json"), 403)
    error(viewer.delete(f"{URL}fleet-app/"), 403)
    error(client_for().get(URL), 401)
    assert Consumer.objects.get().reads == ["Type1"]
    assert Branch.objects.filter(name="main").exists()


def test_admin_registers_a_consumer_through_the_service(client, main):
    user = UserFactory(username="manager", permissions=[*MANAGER, "versioning.view_consumer"])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    add = "/admin/versioning/consumer/add/"
    form = {"name": "fleet-app", "contact": "ops@example.org", "reads": "Type1\nType0.x y"}
    refused = client.post(add, form)
    assert refused.status_code == 200 and "is not an api name" in refused.content.decode()
    assert not Consumer.objects.exists()
    saved = client.post(add, {**form, "reads": "Type1\n Type0.property0 \n"})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert Consumer.objects.get().reads == ["Type1", "Type0.property0"]
    assert client.get("/admin/versioning/consumer/").status_code == 200
