"""Links a steward follows: link sides to their object types, an entity to its commits
(the history titled by its name), release tags in the commit graph."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ontology.models import LinkType, ObjectType
from tests.versioning.support import seed_main
from versioning import releases
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
