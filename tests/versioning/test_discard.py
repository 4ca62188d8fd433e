"""Discarding a branch's uncommitted changes: the service, the REST endpoint and the admin.

After a discard the discarded entities' rows read back as exactly their documents at the
branch head (compared document by document), their marks are gone, and one event says so.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from events.models import OutboxEvent
from ontology import services as ontology
from ontology.models import Interface, LinkType, ObjectType, Property, ValueType
from tests.factories import BranchFactory, UserFactory
from tests.ontology.test_workspace import build_ontology
from tests.versioning.support import link
from tests.versioning.test_concurrency import race
from versioning import services
from versioning.exceptions import InvalidStateError, NotAllowedError, ProtectedBranchError
from versioning.models import Branch, WorkingChange
from versioning.workspace import get_workspace

pytestmark = pytest.mark.django_db

DISCARDED = "com.oms.versioning.changes.discarded.v1"


def committed_main() -> Branch:
    main = BranchFactory(name="main", protected=True)
    build_ontology(main)
    services.commit_changes(main, None, "ontology", system=True)
    main.refresh_from_db()
    return main


def rows_of(branch: Branch) -> dict:
    return get_workspace().all_documents(branch)


def head_of(branch: Branch) -> dict:
    branch.refresh_from_db()
    return services.documents_at(branch.head_id)


def rid(branch: Branch, model, api_name: str) -> str:
    return str(model.objects.get(branch=branch, api_name=api_name).rid)


def change_everything(dev: Branch) -> None:
    """Create, update, rename and delete entities of several kinds, through the services."""
    airport = ObjectType.objects.get(branch=dev, api_name="Airport")
    airport.description = "changed"
    ontology.save(airport)
    ontology.delete(Property.objects.get(object_type=airport, api_name="code"))
    prop = Property.objects.filter(object_type=airport).order_by("position").first()
    prop.display_name = "Renamed property"
    ontology.save(prop)
    flight = ObjectType.objects.get(branch=dev, api_name="Flight")
    flight.api_name = "Trip"
    ontology.save(flight)
    ontology.delete(LinkType.objects.get(branch=dev, api_name="flightAirport"))
    ontology.delete(ObjectType.objects.get(branch=dev, api_name="OldFlight"))
    ontology.save(ValueType(branch=dev, api_name="Fresh", display_name="Fresh", base_type="string"))
    ontology.save_object_type(
        dev,
        {"api_name": "Gate", "display_name": "Gate", "plural_display_name": "Gates"},
        properties=[{"api_name": "gateId", "display_name": "Gate id", "base_type": "string"}],
        primary_key="gateId",
    )
    iface = Interface.objects.get(branch=dev, api_name="Trackable")
    ontology.save_interface(dev, {"description": "no parent"}, instance=iface, extends=[])


@pytest.fixture
def dev():
    committed_main()
    dev = services.create_branch("dev", "main", None)
    change_everything(dev)
    assert rows_of(dev) != head_of(dev)
    return dev


def test_discarding_everything_restores_exactly_the_head_documents(dev):
    marked = {
        str(r) for r in WorkingChange.objects.filter(branch=dev).values_list("rid", flat=True)
    }
    before = set(OutboxEvent.objects.values_list("pk", flat=True))
    discarded = services.discard_changes(dev, None)
    assert set(discarded) == marked and len(marked) == 7
    assert rows_of(dev) == head_of(dev)
    assert not WorkingChange.objects.filter(branch=dev).exists()
    assert services.changes(dev).changes == []
    events = list(OutboxEvent.objects.exclude(pk__in=before))
    assert [e.type for e in events] == [DISCARDED]
    assert events[0].data["rids"] == sorted(marked) and events[0].data["discarded"] == 7
    assert events[0].data["head"] == dev.head_id
    # nothing left: a second discard is a no-op, and there is nothing to commit
    assert services.discard_changes(dev, None) == []
    assert OutboxEvent.objects.count() == len(before) + 1


def test_discarding_selected_entities_leaves_the_others(dev):
    chosen = [rid(dev, ObjectType, "Trip"), rid(dev, ValueType, "Fresh")]
    gate = rid(dev, ObjectType, "Gate")
    unchanged = gate[:-1] + ("1" if gate.endswith("0") else "0")  # a rid without a change
    discarded = services.discard_changes(dev, None, [*chosen, unchanged])
    assert sorted(discarded) == sorted(chosen)  # a rid without a change is skipped
    rows, head = rows_of(dev), head_of(dev)
    flight = chosen[0]
    assert rows[flight] == head[flight] and rows[flight]["apiName"] == "Flight"
    assert chosen[1] not in rows and chosen[1] not in head
    assert rows[gate]["apiName"] == "Gate"  # still there, still marked
    left = {str(r) for r in WorkingChange.objects.filter(branch=dev).values_list("rid", flat=True)}
    assert left.isdisjoint(chosen) and gate in left and len(left) == 5
    assert ObjectType.objects.filter(branch=dev, api_name="Airport", description="changed").exists()


def test_a_partial_discard_that_would_break_what_stays_is_refused_whole(dev):
    fresh = ObjectType.objects.get(branch=dev, api_name="Gate")
    link(dev, "gateAirport", "Gate", "Airport")
    snapshot = rows_of(dev)
    with pytest.raises(InvalidStateError, match="gateAirport"):
        services.discard_changes(dev, None, [str(fresh.rid)])
    assert rows_of(dev) == snapshot
    assert WorkingChange.objects.filter(branch=dev, rid=fresh.rid).exists()
    # a restored name taken meanwhile
    ontology.save_object_type(
        dev,
        {"api_name": "Flight", "display_name": "New flight", "plural_display_name": "New"},
    )
    with pytest.raises(InvalidStateError, match="name"):
        services.discard_changes(dev, None, [rid(dev, ObjectType, "Trip")])
    # all of it together is fine
    services.discard_changes(dev, None)
    assert rows_of(dev) == head_of(dev)


def test_discard_is_refused_on_protected_or_archived_branches_and_without_the_grant(dev):
    main = Branch.objects.get(name="main")
    with pytest.raises(ProtectedBranchError):
        services.discard_changes(main, None)
    stranger = UserFactory(username="stranger")
    with pytest.raises(NotAllowedError) as refused:
        services.discard_changes(dev, stranger)
    assert refused.value.extra["permission"] == "versioning.edit_branch"
    assert WorkingChange.objects.filter(branch=dev).count() == 7
    assign_perm("versioning.edit_branch", stranger, dev)
    assert len(services.discard_changes(dev, stranger)) == 7
    services.archive_branch(dev, None)
    with pytest.raises(ProtectedBranchError):
        services.discard_changes(Branch.objects.get(name="dev"), None)


def test_a_branch_without_commits_has_nothing_to_go_back_to(db):
    empty = BranchFactory(name="empty")
    ontology.save(ValueType(branch=empty, api_name="Fresh", display_name="F", base_type="string"))
    with pytest.raises(InvalidStateError, match="no commit"):
        services.discard_changes(empty, None)


# --- REST ------------------------------------------------------------------------------------

URL = "/api/v1/branches/{}/changes/discard/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_discards_all_or_selected_changes(dev):
    owner = UserFactory(username="owner")
    assign_perm("versioning.edit_branch", owner, dev)
    api = client_for(owner)
    flight = rid(dev, ObjectType, "Trip")
    response = api.post(URL.format("dev"), {"rids": [flight]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"branch": "dev", "head": dev.head_id, "discarded": [flight]}
    assert ObjectType.objects.filter(branch=dev, api_name="Flight").exists()
    response = api.post(URL.format("dev"))  # no body: everything
    assert response.status_code == 200 and len(response.json()["discarded"]) == 6
    assert rows_of(dev) == head_of(dev)


def test_api_discard_errors(dev):
    owner = UserFactory(username="owner")
    assign_perm("versioning.edit_branch", owner, dev)
    api = client_for(owner)

    def error(response, status):
        assert response.status_code == status, response.content
        return response.json()["error"]

    body = error(api.post(URL.format("dev"), {"rids": ["not-a-uuid"]}, format="json"), 400)
    assert list(body["fields"]) == ["rids.0"]
    body = error(api.post(URL.format("dev"), {"rids": []}, format="json"), 400)
    assert list(body["fields"]) == ["rids"]
    body = error(api.post(URL.format("dev"), {"rids": "x"}, format="json"), 400)
    assert list(body["fields"]) == ["rids"]
    error(api.post(URL.format("nope")), 404)
    assert error(api.post(URL.format("main")), 403)["code"] == "protected_branch"
    other = client_for(UserFactory(username="other"))
    body = error(other.post(URL.format("dev")), 403)
    assert body["permission"] == "versioning.edit_branch"
    assert APIClient().post(URL.format("dev")).status_code in (401, 403)
    assert WorkingChange.objects.filter(branch=dev).count() == 7
    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/branches/{branch}/changes/discard/"]["post"]
    assert operation["operationId"] == "branches_changes_discard"
    assert {"200", "400", "403", "404", "409"} <= set(operation["responses"])


def test_the_event_type_is_in_the_catalogue(db):
    from events.registry import get

    entry = get(DISCARDED)
    assert "rids" in entry.schema["required"]


# --- admin -----------------------------------------------------------------------------------


def staff_with_grant(name: str, branch: Branch):
    user = UserFactory(
        username=name,
        permissions=["versioning.view_commit", "versioning.view_branch"],
    )
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    assign_perm("versioning.edit_branch", user, branch)
    return user


def test_admin_discard_confirms_then_discards(client, dev):
    client.force_login(staff_with_grant("owner", dev))
    page = client.get(reverse("admin:versioning_changes") + "?branch=dev").content.decode()
    assert 'id="discard-form"' in page and page.count('name="rid"') == 7
    url = reverse("admin:versioning_discard")
    flight = rid(dev, ObjectType, "Trip")
    confirm = client.post(url, {"branch": "dev", "scope": "selected", "rid": [flight]})
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert 'id="discard-confirm"' in text and "Trip" in text and "Gate" not in text
    assert ObjectType.objects.filter(branch=dev, api_name="Trip").exists()  # not yet
    done = client.post(
        url, {"branch": "dev", "scope": "selected", "rid": [flight], "confirm": "yes"}
    )
    assert done.status_code == 302
    assert ObjectType.objects.filter(branch=dev, api_name="Flight").exists()
    assert WorkingChange.objects.filter(branch=dev).count() == 6
    client.post(url, {"branch": "dev", "scope": "all", "confirm": "yes"})
    assert rows_of(dev) == head_of(dev)


def test_admin_discard_needs_the_grant_and_a_choice(client, dev):
    other = BranchFactory(name="other")
    client.force_login(staff_with_grant("elsewhere", other))
    url = reverse("admin:versioning_discard")
    page = client.get(reverse("admin:versioning_changes") + "?branch=dev").content.decode()
    assert 'id="discard-form"' not in page
    assert client.post(url, {"branch": "dev", "scope": "all", "confirm": "yes"}).status_code == 403
    assert client.post(url, {"branch": "main", "scope": "all"}).status_code == 403
    client.force_login(staff_with_grant("owner", dev))
    response = client.post(url, {"branch": "dev", "scope": "selected"}, follow=True)
    assert "Tick the entities" in response.content.decode()
    response = client.post(url, {"branch": "dev", "rid": ["x"]}, follow=True)
    assert "Not an entity id" in response.content.decode()
    assert WorkingChange.objects.filter(branch=dev).count() == 7


# --- concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_discards_and_a_commit_serialise_on_the_branch_lock(postgres_db):
    committed_main()
    dev = services.create_branch("dev", "main", None)
    change_everything(dev)
    before = OutboxEvent.objects.filter(type=DISCARDED).count()

    def work(i):
        branch = Branch.objects.get(name="dev")
        if i == 0:
            return services.commit_changes(branch, None, "race", allow_empty=True)
        return services.discard_changes(branch, None)

    outcomes = race(5, work)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    discards = [o for o in outcomes[1:] if o]
    assert len(discards) <= 1  # the first one in discards everything; the rest find nothing
    assert OutboxEvent.objects.filter(type=DISCARDED).count() == before + len(discards)
    dev.refresh_from_db()
    assert not WorkingChange.objects.filter(branch=dev).exists()
    assert rows_of(dev) == services.documents_at(dev.head_id)
