"""Two consumers, one entity: entity tags, conditional requests and no lost updates."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connections
from rest_framework.test import APIClient

from oms_site.api import exception_handler
from ontology.models import ObjectType
from tests.factories import BranchFactory, ObjectTypeFactory
from tests.ontology.conftest import url
from tests.ontology.test_api_object_types import create_flight

pytestmark = pytest.mark.django_db


def test_reads_and_writes_carry_an_entity_tag_that_follows_the_content(api, dev):
    create_flight(api)
    first = api.get(url("dev", "object-types", "Flight"))
    tag = first.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    assert api.get(url("dev", "object-types", "flight")).headers["ETag"] == tag  # stable

    patched = api.patch(url("dev", "object-types", "Flight"), {"icon": "plane"}, format="json")
    assert patched.status_code == 200
    assert patched.headers["ETag"] != tag
    assert api.get(url("dev", "object-types", "Flight")).headers["ETag"] == patched.headers["ETag"]


def test_if_none_match_answers_304_until_the_entity_changes(api, dev):
    create_flight(api)
    tag = api.get(url("dev", "object-types", "Flight")).headers["ETag"]

    unchanged = api.get(url("dev", "object-types", "Flight"), HTTP_IF_NONE_MATCH=tag)
    assert unchanged.status_code == 304
    assert unchanged.headers["ETag"] == tag and not unchanged.content

    api.patch(url("dev", "object-types", "Flight"), {"icon": "plane"}, format="json")
    changed = api.get(url("dev", "object-types", "Flight"), HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed.json()["icon"] == "plane"


def test_a_child_change_changes_the_tag(api, dev):
    body = create_flight(api)
    tag = api.get(url("dev", "object-types", "Flight")).headers["ETag"]
    properties = [dict(p, description="new words") for p in body["properties"]]
    api.patch(url("dev", "object-types", "Flight"), {"properties": properties}, format="json")
    assert api.get(url("dev", "object-types", "Flight"), HTTP_IF_NONE_MATCH=tag).status_code == 200


def test_a_stale_if_match_is_refused_with_412_and_writes_nothing(api, dev):
    create_flight(api)
    stale = api.get(url("dev", "object-types", "Flight")).headers["ETag"]
    api.patch(url("dev", "object-types", "Flight"), {"icon": "plane"}, format="json")

    response = api.patch(
        url("dev", "object-types", "Flight"),
        {"description": "overwrites what I never saw"},
        format="json",
        HTTP_IF_MATCH=stale,
    )
    assert response.status_code == 412
    error = response.json()["error"]
    assert error["code"] == "precondition_failed" and "If-Match" in error["fields"]
    ot = ObjectType.objects.get(branch=dev, api_name="Flight")
    assert ot.description == "A scheduled flight." and ot.icon == "plane"

    gone = api.delete(url("dev", "object-types", "Flight"), HTTP_IF_MATCH=stale)
    assert gone.status_code == 412
    assert ObjectType.objects.filter(branch=dev, api_name="Flight").exists()


def test_a_current_if_match_or_a_star_lets_the_write_through(api, dev):
    create_flight(api)
    tag = api.get(url("dev", "object-types", "Flight")).headers["ETag"]
    ok = api.patch(
        url("dev", "object-types", "Flight"), {"icon": "plane"}, format="json", HTTP_IF_MATCH=tag
    )
    assert ok.status_code == 200 and ok.json()["icon"] == "plane"
    weak = f"W/{ok.headers['ETag']}"
    again = api.patch(
        url("dev", "object-types", "Flight"), {"icon": "jet"}, format="json", HTTP_IF_MATCH=weak
    )
    assert again.status_code == 200
    assert api.delete(url("dev", "object-types", "Flight"), HTTP_IF_MATCH="*").status_code == 204


def test_the_tag_is_per_resource_kind(api, dev):
    vt = api.post(
        url("dev", "value-types"),
        {"apiName": "Code", "displayName": "Code", "baseType": "string"},
        format="json",
    )
    assert vt.status_code == 201 and vt.headers["ETag"]
    tag = vt.headers["ETag"]
    assert api.get(url("dev", "value-types", "Code"), HTTP_IF_NONE_MATCH=tag).status_code == 304


def handle(exc):
    return exception_handler(exc, {})


class _Contended(Exception):
    def __init__(self, pgcode):
        self.pgcode = pgcode


@pytest.mark.parametrize(("pgcode", "expected"), [("40P01", 409), ("40001", 409), ("55P03", 409)])
def test_contention_is_a_409_to_retry_not_a_500(pgcode, expected):
    exc = OperationalError("deadlock detected")
    exc.__cause__ = _Contended(pgcode)
    response = handle(exc)
    assert response.status_code == expected
    assert response.data["error"]["code"] == "concurrent_change"
    assert response.headers["Retry-After"] == "1"


def test_a_locked_sqlite_file_is_a_503_to_retry():
    response = handle(OperationalError("database is locked"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"


def test_other_operational_errors_are_not_disguised():
    assert handle(OperationalError("disk I/O error")) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_of_different_fields_both_land(postgres_db, editor):
    """Each PATCH applies its own fields to the row as stored when it runs: no lost update."""
    dev = BranchFactory(name="dev")
    ObjectTypeFactory(branch=dev, api_name="Flight", properties=3)
    rounds = 6
    barrier = threading.Barrier(2)
    errors: list = []

    def patch(field: str):
        client = APIClient()
        client.force_authenticate(editor)
        try:
            for i in range(rounds):
                barrier.wait(10)
                response = client.patch(
                    url("dev", "object-types", "Flight"), {field: f"{field} {i}"}, format="json"
                )
                if response.status_code != 200:
                    errors.append(response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=patch, args=(f,)) for f in ("description", "icon")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    ot = ObjectType.objects.get(branch=dev, api_name="Flight")
    assert ot.description == f"description {rounds - 1}"
    assert ot.icon == f"icon {rounds - 1}"


def test_options_on_an_entity_describes_it_without_locking(api, dev):
    """DRF's metadata asks for the object as a PUT would, outside any transaction."""
    create_flight(api)
    response = api.options(url("dev", "object-types", "Flight"))
    assert response.status_code == 200
    assert "PUT" in response.json()["actions"]
    assert api.options(url("nope", "object-types", "Flight")).status_code == 404
