"""The PII flag travels with the ontology (issue 12): marking a property PII on a branch
shows in its document, in the change feed, in the bundle and in the generated schemas."""

from __future__ import annotations

import pytest
import yaml
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from events import delivery
from ontology import services as ontology
from ontology.models import Property
from tests.factories import BranchFactory, ObjectTypeFactory, UserFactory
from versioning import services as versioning

pytestmark = pytest.mark.django_db


def test_marking_a_property_pii_travels_everywhere_a_consumer_reads():
    dev = BranchFactory(name="dev")
    ot = ObjectTypeFactory(branch=dev, api_name="Passenger", properties=2)
    email = Property.objects.get(object_type=ot, position=1)
    email.api_name, email.display_name = "email", "Email"
    ontology.save(email, user=None)
    versioning.commit_changes(dev, None, "Passenger", system=True)
    email.pii = True
    ontology.save(email, user=None)
    versioning.commit_changes(dev, None, "email is PII", system=True)
    api = APIClient()
    reader = UserFactory(username="reader")
    reader.groups.add(Group.objects.get(name="viewer"))  # the feed needs view_outboxevent
    api.force_authenticate(reader)
    rid, prop = str(ot.rid), str(email.rid)

    document = api.get(f"/api/v1/refs/dev/documents/{rid}/").json()["document"]
    assert document["properties"][prop]["pii"] is True

    delivery.sequence_pending()  # what the worker does after each commit
    feed = api.get("/api/v1/events/", {"type": "com.oms.ontology.object_type.updated.v1"}).json()
    changes = [e["data"] for e in feed["events"] if e["data"]["rid"] == rid]
    marked = [
        c for c in changes if (c["after"] or {}).get("properties", {}).get(prop, {}).get("pii")
    ]
    assert marked, changes
    assert marked[-1]["before"]["properties"][prop]["pii"] is False

    bundle = yaml.safe_load(api.get("/api/v1/refs/dev/bundle/").content)
    (passenger,) = [d for d in bundle["documents"]["objectType"] if d["rid"] == rid]
    assert passenger["properties"][prop]["pii"] is True

    schema = api.get("/api/v1/refs/dev/schema.json").json()
    assert schema["$defs"]["Passenger"]["properties"]["email"]["x-pii"] is True
    assert "x-pii" not in schema["$defs"]["Passenger"]["properties"][ot.primary_key.api_name]
    sdl = api.get("/api/v1/refs/dev/schema.graphql").content.decode()
    assert "email: String @pii" in sdl
