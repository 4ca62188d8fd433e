"""Example values (issue 12): through REST, documents and the compatibility rules; those of
PII properties and owner contacts never stored in clear, and masked for users without
``view_pii`` on every surface."""

from __future__ import annotations

import re
import zlib

import pytest
import yaml
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from events import delivery
from ontology import bundles
from ontology import services as ontology
from ontology.bundles_import import import_bundle, parse
from ontology.compatibility import classify
from ontology.models import Property, SharedProperty
from tests.factories import BranchFactory, UserFactory
from tests.ontology.conftest import _client, url
from versioning import services as versioning
from versioning.consumers import save_consumer
from versioning.models import ProtectedValue
from versioning.protection import MASK, is_token, token

pytestmark = pytest.mark.django_db

EMAIL, PHONE, CONTACT = "ada.lovelace@example.org", "+44 20 7946 0958", "oncall@airline.example"
OTHER = "grace.hopper@example.org"
TOKEN = re.compile(r"pii:[0-9a-f]{64}")


def _admin_on_dev(client, user) -> None:
    client.force_login(user)
    client.post("/admin/select-branch/", {"branch": "dev", "next": "/admin/"})


@pytest.fixture
def steward(db):
    user = UserFactory(username="stew")
    user.groups.add(Group.objects.get(name="steward"))
    return user


@pytest.fixture
def reader(db):
    user = UserFactory(username="reader")
    user.groups.add(Group.objects.get(name="viewer"))
    return user


def _passenger(api, *, pii: bool = True, examples=(EMAIL, PHONE)):
    body = {
        "apiName": "Passenger",
        "displayName": "Passenger",
        "pluralDisplayName": "Passengers",
        "properties": [
            {"apiName": "id", "displayName": "Id", "baseType": "string"},
            {
                "apiName": "contact",
                "displayName": "Contact",
                "baseType": "string",
                "pii": pii,
                "examples": list(examples),
            },
            {
                "apiName": "seat",
                "displayName": "Seat",
                "baseType": "string",
                "examples": ["12A"],
            },
        ],
        "primaryKey": "id",
    }
    response = api.post(url("dev", "object-types"), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _props(body) -> dict:
    return {p["apiName"]: p for p in body["properties"]}


# --- examples through REST, documents and the rules --------------------------------------


def test_examples_round_trip_through_rest_and_documents(api, dev):
    created = _passenger(api, pii=False)
    assert _props(created)["seat"]["examples"] == ["12A"]
    assert _props(created)["id"]["examples"] == []
    versioning.commit_changes(dev, None, "Passenger", system=True)
    doc = api.get(f"/api/v1/refs/dev/documents/{created['rid']}/").json()["document"]
    by_name = {p["apiName"]: p for p in doc["properties"].values()}
    assert by_name["seat"]["examples"] == ["12A"]
    assert "examples" not in by_name["id"]  # empty: absent, so old documents keep their hash


@pytest.mark.parametrize(
    "examples, fragment",
    [(["x"] * 11, "limit 'examples'"), (["x" * 201], "limit 'example_length'"), ([5], "string")],
)
def test_examples_over_the_limits_are_a_400_naming_the_field(api, dev, examples, fragment):
    body = {"apiName": "code", "displayName": "Code", "baseType": "string", "examples": examples}
    response = api.post(url("dev", "shared-properties"), body, format="json")
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert any(k.startswith("examples") for k in fields), fields
    assert fragment in str(fields)


def test_a_made_up_token_is_refused(api, dev):
    body = {
        "apiName": "code",
        "displayName": "Code",
        "baseType": "string",
        "pii": True,
        "examples": ["pii:" + "0" * 64],
    }
    response = api.post(url("dev", "shared-properties"), body, format="json")
    assert response.status_code == 400, response.content
    assert "examples" in response.json()["error"]["fields"]


def test_a_changed_example_is_a_compatible_documentation_change():
    before = {
        "r": {
            "kind": "sharedProperty",
            "rid": "r",
            "apiName": "code",
            "baseType": "string",
            "examples": ["A"],
        }
    }
    after = {"r": {**before["r"], "examples": ["B"]}}
    (change,) = classify(before, after)
    assert change.kind == "examples_changed"
    assert change.compatibility.value == "COMPATIBLE"


# --- never in clear at rest ----------------------------------------------------------------


def _raw_text() -> str:
    """Every column of the tables that could hold the values, read with SQL (blobs
    decompressed): what an attacker with the database would see."""
    out = []
    with connection.cursor() as cursor:
        for table in (
            "ontology_property",
            "ontology_sharedproperty",
            "events_outboxevent",
            "versioning_consumer",
            "versioning_protectedvalue",
            "versioning_workingchange",
            "versioning_commit",
        ):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed names
            out.extend(str(row) for row in cursor.fetchall())
        cursor.execute("SELECT data FROM versioning_blob")
        out.extend(zlib.decompress(bytes(data)).decode() for (data,) in cursor.fetchall())
    return "\n".join(out)


def test_no_clear_text_at_rest_after_api_admin_and_bundle_writes(api, editor, dev, client):
    _passenger(api)  # the API
    versioning.commit_changes(dev, None, "Passenger", system=True)
    # the admin: a PII shared property with an example
    editor.is_staff = True
    editor.save()
    _admin_on_dev(client, editor)
    response = client.post(
        "/admin/ontology/sharedproperty/add/",
        {
            "api_name": "homePhone",
            "display_name": "Home phone",
            "description": "",
            "examples": f"{OTHER}\n",
            "base_type": "string",
            "pii": "on",
            "status": "ACTIVE",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert (
        SharedProperty.objects.get(branch=dev, api_name="homePhone").examples[0].startswith("pii:")
    )
    # a bundle import carrying clear text onto another branch
    BranchFactory(name="other")
    other = versioning.get_branch("other")
    bundle = bundles.export("dev")
    for doc in bundle["documents"]["objectType"]:
        for prop in doc["properties"].values():
            if prop["apiName"] == "contact":
                prop["examples"] = [EMAIL, "bundle.only@example.org"]
    import_bundle(other, parse(bundle), user=None, message="import", commit=True)
    save_consumer(None, None, name="app", contact=CONTACT)
    versioning.commit_changes(dev, None, "home phone", system=True)
    delivery.sequence_pending()

    raw = _raw_text()
    for clear in (EMAIL, PHONE, OTHER, "bundle.only@example.org", CONTACT):
        assert clear not in raw
    assert "12A" in raw  # examples of properties not flagged PII are not protected
    assert ProtectedValue.objects.filter(value=EMAIL).exists() is False  # encrypted column
    assert EMAIL in set(ProtectedValue.objects.values_list("value", flat=True))


def test_rotate_keys_re_encrypts_protected_values(api, dev, settings):
    from cryptography.fernet import Fernet

    old = Fernet.generate_key().decode()
    settings.OMS_ENCRYPTION_KEYS = [old]
    _passenger(api)
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM versioning_protectedvalue")
        before = {v for (v,) in cursor.fetchall()}
    settings.OMS_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.OMS_ENCRYPTION_KEYS = settings.OMS_ENCRYPTION_KEYS[:1]  # the old key dropped
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM versioning_protectedvalue")
        after = {v for (v,) in cursor.fetchall()}
    assert before.isdisjoint(after)
    assert set(ProtectedValue.objects.values_list("value", flat=True)) == {EMAIL, PHONE}


# --- masked without view_pii, clear with it -------------------------------------------------


def _surfaces(client: APIClient, rid: str, proposal: int, first: str) -> dict[str, str]:
    """The text each surface answers (entity GET, document, bundle, diff, proposal)."""
    return {
        "entity": client.get(url("dev", "object-types", "Passenger")).content.decode(),
        "document": client.get(f"/api/v1/refs/dev/documents/{rid}/").content.decode(),
        "bundle": client.get("/api/v1/refs/dev/bundle/", {"format": "yaml"}).content.decode(),
        "diff": client.get("/api/v1/diff/", {"from": first, "to": "dev"}).content.decode(),
        "proposal": client.get(f"/api/v1/proposals/{proposal}/dry-run/").content.decode(),
    }


def test_pii_examples_are_masked_for_users_without_view_pii(api, dev, steward, reader):
    created = _passenger(api, examples=[PHONE])
    first = versioning.commit_changes(dev, None, "Passenger", system=True).id
    prop = Property.objects.get(branch=dev, api_name="contact")
    prop.examples = [EMAIL, PHONE]
    ontology.save(prop, user=None)
    versioning.commit_changes(dev, None, "an example more", system=True)
    target = BranchFactory(name="target", head_id=first)  # the proposal's merge base: first
    proposal = versioning.open_proposal(dev, target, "p", None)
    masked = _surfaces(_client(reader), created["rid"], proposal.pk, first)
    clear = _surfaces(_client(steward), created["rid"], proposal.pk, first)
    for surface, text in masked.items():
        assert EMAIL not in text and PHONE not in text, surface
        assert TOKEN.search(text), surface
        if surface in ("entity", "document", "bundle"):  # other examples stay clear
            assert "12A" in text, surface
    for surface, text in clear.items():
        assert EMAIL in text, surface
        assert not TOKEN.search(text), surface

    # the bundle a steward exports (clear text) and a reader exports (tokens) read the
    # same: the reader's is the steward's with each protected example as its token
    def tokens_for_clear(value):
        if isinstance(value, dict):
            return {k: tokens_for_clear(v) for k, v in value.items()}
        if isinstance(value, list):
            return [tokens_for_clear(v) for v in value]
        return token(value) if value in (EMAIL, PHONE) else value

    steward_docs = yaml.safe_load(clear["bundle"])["documents"]
    assert steward_docs
    assert yaml.safe_load(masked["bundle"])["documents"] == tokens_for_clear(steward_docs)


def test_the_change_feed_always_carries_the_masked_form(api, dev, steward):
    _passenger(api)
    versioning.commit_changes(dev, None, "Passenger", system=True)
    delivery.sequence_pending()
    feed = _client(steward).get("/api/v1/events/").content.decode()
    assert "Passenger" in feed
    assert EMAIL not in feed and TOKEN.search(feed)


def test_owner_contacts_are_masked_for_users_without_view_pii(steward, reader):
    save_consumer(None, None, name="app", contact=CONTACT)
    shown = _client(reader).get("/api/v1/consumers/app/").json()
    assert shown["contact"] != CONTACT and is_token(shown["contact"])
    assert _client(steward).get("/api/v1/consumers/app/").json()["contact"] == CONTACT


def test_the_admin_shows_pii_examples_to_view_pii_only(api, dev, client, steward):
    _passenger(api)
    prop = Property.objects.get(branch=dev, api_name="contact")
    page = f"/admin/ontology/property/{prop.pk}/change/"
    editor = UserFactory(username="ed", is_staff=True)
    editor.groups.add(Group.objects.get(name="editor"))
    _admin_on_dev(client, editor)
    text = client.get(page).content.decode()
    assert EMAIL not in text and TOKEN.search(text)
    steward.is_staff = True
    steward.save()
    _admin_on_dev(client, steward)
    text = client.get(page).content.decode()
    assert EMAIL in text
    consumer = save_consumer(None, None, name="app", contact=CONTACT)
    consumer_page = f"/admin/versioning/consumer/{consumer.pk}/change/"
    assert CONTACT in client.get(consumer_page).content.decode()
    _admin_on_dev(client, editor)
    text = client.get(consumer_page).content.decode()
    assert CONTACT not in text and MASK in text


def test_json_schema_publishes_examples_of_non_pii_properties_only(api, dev):
    _passenger(api)
    schema = api.get("/api/v1/refs/dev/schema.json").json()
    props = schema["$defs"]["Passenger"]["properties"]
    assert props["seat"]["examples"] == ["12A"]
    assert "examples" not in props["contact"] and props["contact"]["x-pii"] is True
