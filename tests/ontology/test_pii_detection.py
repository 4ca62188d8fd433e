"""Suspected PII (issue 12): the detectors, the WARN findings, and the steward's answers —
confirm (flag PII) or dismiss (remembered for every branch) — over the API and the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from ontology.models import PiiDismissal, Property
from ontology.pii_detection import detect, luhn
from ontology.rule_set.pii import pii_findings
from tests.factories import BranchFactory, ObjectTypeFactory, PropertyFactory, UserFactory
from tests.ontology.conftest import _client
from versioning.domain.policy import Severity


@pytest.mark.parametrize(
    "holder, reason",
    [
        ({"apiName": "email"}, "email"),
        ({"apiName": "contactEmailAddress"}, "email"),
        ({"apiName": "mobileNumber"}, "phone"),
        ({"apiName": "ssn"}, "national_id"),
        ({"apiName": "nationalId"}, "national_id"),
        ({"apiName": "cardNumber"}, "card_number"),
        ({"apiName": "clientIp"}, "ip_address"),
        ({"apiName": "firstName"}, "person_name"),
        ({"apiName": "surname"}, "person_name"),
        ({"apiName": "homeAddress"}, "postal_address"),
        ({"apiName": "zipCode"}, "postal_address"),
        ({"apiName": "dob"}, "birth_date"),
        ({"apiName": "dateOfBirth"}, "birth_date"),
        ({"apiName": "x", "displayName": "Date of birth"}, "birth_date"),
        ({"apiName": "x", "description": "The passenger's full name."}, "person_name"),
        ({"apiName": "x", "examples": ["ada@example.org"]}, "email"),
        ({"apiName": "x", "examples": ["+44 20 7946 0958"]}, "phone"),
        ({"apiName": "x", "examples": ["078-05-1120"]}, "national_id"),
        ({"apiName": "x", "examples": ["4111 1111 1111 1111"]}, "card_number"),
        ({"apiName": "x", "examples": ["192.0.2.7"]}, "ip_address"),
        ({"apiName": "x", "examples": ["2001:db8::1"]}, "ip_address"),
    ],
)
def test_detects_what_looks_like_pii(holder, reason):
    assert reason in detect(holder)


@pytest.mark.parametrize(
    "holder, expected",
    [
        ({"apiName": "flightNumber", "examples": ["BA117"]}, {}),
        ({"apiName": "name", "displayName": "Name", "description": "The airport's name."}, {}),
        # an e-mail, not a postal address
        ({"apiName": "emailAddress"}, {"email": "api name"}),
        ({"apiName": "ipAddress"}, {"ip_address": "api name"}),
        ({"apiName": "x", "examples": ["4111 1111 1111 1112"]}, {}),  # fails the Luhn check
        ({"apiName": "departureDate", "examples": ["2024-05-01"]}, {}),
        ({"apiName": "x", "examples": ["pii:" + "a" * 64]}, {}),  # a token is not looked into
    ],
)
def test_does_not_flag_what_is_not(holder, expected):
    assert detect(holder) == expected


def test_luhn():
    assert luhn("4111111111111111") and not luhn("4111111111111112")


def test_findings_are_warn_violations_of_unflagged_properties_not_dismissed():
    docs = {
        "ot": {
            "kind": "objectType",
            "apiName": "Passenger",
            "properties": {
                "p1": {"apiName": "email", "pii": False},
                "p2": {"apiName": "phone", "pii": True},
                "p3": {"apiName": "seat", "pii": False},
            },
        },
        "sp": {"kind": "sharedProperty", "apiName": "surname", "pii": False},
    }
    found = pii_findings(docs)
    assert {(f.entity, f.reason) for f in found} == {("p1", "email"), ("sp", "person_name")}
    assert all(f.violation.severity is Severity.WARN for f in found)
    assert found[0].violation.path == ("properties", "p1")
    assert pii_findings(docs, {("p1", "email")})[0].entity == "sp"


# --- the API and the admin ---------------------------------------------------------------


@pytest.fixture
def world(db):
    dev = BranchFactory(name="dev")
    other = BranchFactory(name="other")
    for branch in (dev, other):
        ot = ObjectTypeFactory(branch=branch, api_name="Passenger", properties=1)
        PropertyFactory(branch=branch, object_type=ot, api_name="email", position=5)
    rid = Property.objects.get(branch=dev, api_name="email").rid
    Property.objects.filter(branch=other, api_name="email").update(rid=rid)  # one entity
    return rid


def _user(name, group, **kw):
    user = UserFactory(username=name, **kw)
    user.groups.add(Group.objects.get(name=group))
    return user


def _findings(client, branch="dev"):
    response = client.get(f"/api/v1/branches/{branch}/pii-findings/")
    assert response.status_code == 200, response.content
    return [(f["apiName"], f["reason"], f["severity"]) for f in response.json()["findings"]]


def test_the_api_lists_confirms_and_dismisses_findings(world):
    steward = _client(_user("stew", "steward"))
    assert _findings(steward) == [("Passenger.email", "email", "WARN")]

    response = steward.post(f"/api/v1/branches/dev/pii-findings/{world}/confirm/")
    assert response.status_code == 200, response.content
    assert Property.objects.get(branch__name="dev", rid=world).pii is True
    assert _findings(steward) == []
    assert _findings(steward, "other") == [("Passenger.email", "email", "WARN")]

    response = steward.post(
        f"/api/v1/branches/other/pii-findings/{world}/dismiss/", {}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["dismissed"] == ["email"]
    assert PiiDismissal.objects.filter(rid=world, reason="email").exists()
    assert _findings(steward, "other") == []
    # remembered by rid: a branch made later (or a re-import) does not bring it back
    later = BranchFactory(name="later")
    ot = ObjectTypeFactory(branch=later, api_name="Passenger", properties=1)
    PropertyFactory(branch=later, object_type=ot, api_name="email", position=5)
    Property.objects.filter(branch=later, api_name="email").update(rid=world)
    assert _findings(steward, "later") == []


def test_dismissing_is_a_stewards_call_and_bodies_are_strict(world):
    editor = _client(_user("ed", "editor", permissions=["versioning.edit_branch"]))
    dismiss = f"/api/v1/branches/dev/pii-findings/{world}/dismiss/"
    assert editor.post(dismiss, {}, format="json").status_code == 403
    steward = _client(_user("stew", "steward"))
    bad = steward.post(dismiss, {"reason": "shoe size"}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()["error"]["fields"]
    unknown = steward.post(dismiss, {"why": "x"}, format="json")
    assert unknown.status_code == 400 and "why" in unknown.json()["error"]["fields"]
    gone = "00000000-0000-0000-0000-000000000000"
    assert steward.post(f"/api/v1/branches/dev/pii-findings/{gone}/confirm/").status_code == 404
    assert not PiiDismissal.objects.exists()


def test_the_admin_shows_the_finding_and_answers_it(world, client):
    steward = _user("stew", "steward", is_staff=True)
    client.force_login(steward)
    client.post("/admin/select-branch/", {"branch": "dev", "next": "/admin/"})
    prop = Property.objects.get(branch__name="dev", rid=world)
    page = client.get(f"/admin/ontology/property/{prop.pk}/change/")
    assert "looks like an e-mail address" in page.content.decode()
    changelist = "/admin/ontology/property/"
    client.post(changelist, {"action": "dismiss_pii", "_selected_action": [prop.pk]})
    assert PiiDismissal.objects.filter(rid=world, reason="email").exists()
    other = Property.objects.get(branch__name="dev", api_name="email")
    PiiDismissal.objects.all().delete()
    client.post(changelist, {"action": "confirm_pii", "_selected_action": [other.pk]})
    assert Property.objects.get(pk=other.pk).pii is True
