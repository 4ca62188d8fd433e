"""Links a steward follows: link sides to their object types, an entity to its commits
(the history titled by its name), release tags in the commit graph, change cards to the
entity and its history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ontology.models import LinkType, ObjectType
from tests.versioning.support import edit, seed_main
from versioning import releases, services
from versioning.models import Branch

pytestmark = pytest.mark.django_db


def test_link_sides_entity_history_and_release_tags_are_links(admin_client):
    main = seed_main(2)
    releases.publish_release(main, None, version="1.0.0")
    client = admin_client

    html = client.get(reverse("admin:ontology_linktype_changelist")).content.decode()
    link = LinkType.objects.get(branch=main, api_name="typeLink")
    source_url = reverse("admin:ontology_objecttype_change", args=[link.source_id])
    assert f'<a href="{source_url}">Type0</a>' in html

    type0 = ObjectType.objects.get(branch=main, api_name="Type0")
    page = client.get(source_url).content.decode()
    history = page.split('id="oms-entity-history"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert f"rid={type0.rid}" in history and "ref=main" in history
    response = client.get(history.replace("&amp;", "&"))
    assert response.context["title"] == "History of 'Type0' on 'main'"
    assert ">v1.0.0<" in response.content.decode()  # the release tag in the graph
    assert Branch.objects.get(name="main").head_id


def test_change_cards_link_the_entity_and_its_history(admin_client):
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type0", display_name="Changed")
    type0 = ObjectType.objects.get(branch=dev, api_name="Type0")
    page = admin_client.get(reverse("admin:versioning_changes") + "?branch=dev").content.decode()
    card = page.split(f'id="entity-{type0.rid}"')[1].split("</details>")[0]
    entity = reverse("admin:ontology_objecttype_change", args=[type0.pk])
    assert f'<a href="{entity}">open Type0</a>' in card
    history = reverse("admin:versioning_history") + f"?ref=dev&amp;rid={type0.rid}"
    assert f'<a href="{history}">history of Type0</a>' in card
    assert admin_client.get(history.replace("&amp;", "&")).status_code == 200
