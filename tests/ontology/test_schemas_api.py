"""Generated schemas over REST: /api/v1/refs/{ref}/schema.graphql, /schema.json,
/openapi.json — cached per commit (immutable, strong ETag, 304), per state for a branch."""

from __future__ import annotations

import io
import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from graphql import build_schema, validate_schema
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from ontology import services as ontology_services
from ontology.models import ObjectType
from ontology.schemas import serving
from versioning import services
from versioning.models import Branch
from versioning.releases import publish_release

pytestmark = pytest.mark.django_db

URL = "/api/v1/refs/{ref}/{name}"


@pytest.fixture
def demo():
    cache.clear()
    serving.local.clear()
    call_command("load_demo_ontology", stdout=io.StringIO())
    return Branch.objects.get(name="main")


@pytest.fixture
def renders(monkeypatch):
    """How many times a schema was generated (not answered from the cache)."""
    calls = []
    real = serving._render

    def counting(*args):
        calls.append(args[0])
        return real(*args)

    monkeypatch.setattr(serving, "_render", counting)
    return calls


def get(api, ref, name, **headers):
    return api.get(URL.format(ref=ref, name=name), **headers)


def test_the_three_schemas_are_served_valid(api, demo):
    sdl = get(api, "main", "schema.graphql")
    assert sdl.status_code == 200 and sdl["Content-Type"].startswith("application/graphql")
    assert validate_schema(build_schema(sdl.content.decode())) == []
    schema = get(api, "main", "schema.json")
    assert schema["Content-Type"] == "application/schema+json"
    Draft202012Validator.check_schema(json.loads(schema.content))
    doc = get(api, "main", "openapi.json")
    validate_openapi(json.loads(doc.content))
    assert "/objects/Flight" in json.loads(doc.content)["paths"]


def test_a_commit_or_release_is_immutable_with_a_strong_etag_and_304(api, demo, renders):
    head = demo.head_id
    first = get(api, head, "schema.graphql")
    assert first["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = first["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = get(api, head, "schema.graphql", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and not again.content
    release = publish_release(demo, None)
    by_release = get(api, release.version, "schema.graphql")
    assert by_release["Cache-Control"] == first["Cache-Control"]
    assert by_release["ETag"] == etag
    # the clean branch main shares its head's answer (but must be revalidated)
    by_branch = get(api, "main", "schema.graphql")
    assert by_branch["ETag"] == etag and "no-cache" in by_branch["Cache-Control"]
    assert renders == ["graphql"]  # generated once, every other answer from the cache


def test_a_commit_prefix_is_not_immutable(api, demo):
    response = get(api, demo.head_id[:10], "schema.json")
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]


def test_a_branch_answers_its_uncommitted_edits_and_never_a_stale_state(api, demo, renders):
    dev = services.create_branch("dev", "main", None)
    clean = get(api, "dev", "schema.graphql")
    flight = ObjectType.objects.get(branch=dev, api_name="Flight")
    ontology_services.save_object_type(dev, {"description": "Edited on dev."}, instance=flight)
    edited = get(api, "dev", "schema.graphql")
    assert edited["ETag"] != clean["ETag"]
    assert "Edited on dev." in edited.content.decode()
    assert "Edited on dev." not in clean.content.decode()
    stale = get(api, "dev", "schema.graphql", HTTP_IF_NONE_MATCH=clean["ETag"])
    assert stale.status_code == 200
    same = get(api, "dev", "schema.graphql", HTTP_IF_NONE_MATCH=edited["ETag"])
    assert same.status_code == 304
    # a second edit of the same entity is a new state too
    flight.refresh_from_db()
    ontology_services.save_object_type(dev, {"description": "Edited twice."}, instance=flight)
    assert "Edited twice." in get(api, "dev", "schema.graphql").content.decode()
    # discarding goes back to the head's answer
    services.discard_changes(dev, None)
    assert get(api, "dev", "schema.graphql")["ETag"] == clean["ETag"]
    assert renders.count("graphql") == 3


def test_unknown_ref_is_404_and_reads_need_a_login(api, anon_api, demo):
    assert get(api, "nope", "openapi.json").status_code == 404
    assert get(anon_api, "main", "openapi.json").status_code in (401, 403)


def test_download_as_a_file(api, demo):
    response = api.get(URL.format(ref="main", name="schema.graphql") + "?download=1")
    assert response["Content-Disposition"] == 'attachment; filename="main-schema.graphql"'


def test_branch_and_release_pages_offer_the_downloads(admin_client, api, demo):
    page = admin_client.get(f"/admin/versioning/branch/{demo.pk}/change/").content.decode()
    for url in (
        "/api/v1/refs/main/bundle/?download=1",
        "/api/v1/refs/main/bundle/?download=1&amp;format=yaml",
        "/api/v1/refs/main/schema.graphql?download=1",
        "/api/v1/refs/main/schema.json?download=1",
        "/api/v1/refs/main/openapi.json?download=1",
    ):
        assert f'href="{url}"' in page, url
    release = publish_release(demo, None)
    page = admin_client.get(f"/admin/versioning/release/{release.pk}/change/").content.decode()
    link = f"/api/v1/refs/{release.version}/openapi.json?download=1"
    assert f'href="{link}"' in page
    assert api.get(link).status_code == 200
