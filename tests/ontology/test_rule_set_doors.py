"""The rule set at the doors that write rows from documents or forms, end to end: a steward's
admin save, update from target, revert and discard each refuse what would leave the branch
invalid, and change nothing. (The merge and the API writes: ``test_rule_set.py``.)"""

import pytest
from rest_framework.test import APIClient

from ontology import services
from ontology.models import Interface, ObjectType, Property, SharedProperty
from tests.factories import (
    BranchFactory,
    InterfaceFactory,
    ObjectTypeFactory,
    SharedPropertyFactory,
)
from tests.ontology.test_admin import form_data, select, url
from tests.ontology.test_rule_set import _one_to_many
from tests.versioning.support import steward
from versioning import services as versioning
from versioning.exceptions import InvalidStateError, UnresolvedConflictsError
from versioning.models import Branch

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return steward("author"), steward("reviewer")


def _coded_main(bystanders: int = 0):
    """main with the shared property `code`, interface Coded (asking for nothing yet) and
    object type Thing (implementing nothing), and as many other object types as
    ``bystanders``, committed."""
    main = BranchFactory(name="main", protected=True)
    for i in range(bystanders):
        ObjectTypeFactory(branch=main, api_name=f"Bystander{i}", properties=1)
    SharedPropertyFactory(branch=main, api_name="code")
    InterfaceFactory(branch=main, api_name="Coded")
    ObjectTypeFactory(branch=main, api_name="Thing", properties=1)
    versioning.commit_changes(main, None, "coded and thing", system=True)
    return main


def _on(branch, model, api_name):
    return model.objects.get(branch=branch, api_name=api_name)


def _ask_for_code(branch, user=None):
    services.save_interface(
        branch,
        {},
        instance=_on(branch, Interface, "Coded"),
        properties=[_on(branch, SharedProperty, "code")],
        user=user,
    )


def _implement_coded(branch, user=None):
    services.save_object_type(
        branch,
        {},
        instance=_on(branch, ObjectType, "Thing"),
        interfaces=[_on(branch, Interface, "Coded")],
        user=user,
    )


def _use_code(branch, user=None):
    """Thing gets a property `code` that uses the shared property `code`."""
    thing = _on(branch, ObjectType, "Thing")
    row = Property(
        branch=branch,
        object_type=thing,
        api_name="code",
        display_name="Code",
        base_type="string",
        shared_property=_on(branch, SharedProperty, "code"),
        position=5,
    )
    services.save(row, user=user)


def test_an_admin_save_that_breaks_a_dependent_is_refused_on_the_form(admin_client, dev):
    """The steward turns Customer's primary key integer under Order's foreign key: the
    form comes back with the rule named (no 500), and nothing is written."""
    customer, link = _one_to_many(dev)
    select(admin_client, dev)
    change = url(ObjectType, "change", customer.pk)
    data = form_data(admin_client.get(change))
    assert data["properties-0-api_name"] == customer.primary_key.api_name
    data["properties-0-base_type"] = "integer"
    response = admin_client.post(change, data)
    assert response.status_code == 200
    shown = response.content.decode()
    assert "orderCustomer" in shown and "foreign-key" in shown
    assert Property.objects.get(pk=customer.primary_key.pk).base_type == "string"


def test_update_from_target_that_would_break_the_source_is_a_block(people):
    """a (merged) makes Coded ask for `code`; b made Thing implement Coded. Updating b from
    main would leave Thing without `code`: refused, b unchanged."""
    author, reviewer = people
    main = _coded_main()
    a = versioning.create_branch("a", "main", author)
    b = versioning.create_branch("b", "main", author)
    _ask_for_code(a)
    versioning.commit_changes(a, author, "Coded asks for code")
    _implement_coded(b)
    versioning.commit_changes(b, author, "Thing implements Coded")
    merged = versioning.open_proposal(a, main, "from a", author)
    versioning.approve(merged, reviewer)
    versioning.merge_proposal(merged, reviewer)

    proposal = versioning.open_proposal(b, main, "from b", author)
    head = versioning.get_branch("b").head_id
    with pytest.raises(UnresolvedConflictsError) as exc:
        versioning.update_from_target(proposal, author)
    assert any(
        c["severity"] == "BLOCK" and "interface-properties" in c["message"]
        for c in exc.value.conflicts
    )
    assert versioning.get_branch("b").head_id == head
    assert not _on(b, Interface, "Coded").properties.exists()


def test_reverting_what_an_implementer_needs_is_a_block(people):
    """Coded asks for `code`; Thing gets `code`, then implements Coded: reverting the
    commit that gave Thing `code` would leave it without. Refused, the branch unchanged."""
    author, _ = people
    _coded_main()
    dev = versioning.create_branch("work", "main", author)
    _ask_for_code(dev)
    versioning.commit_changes(dev, author, "Coded asks for code")
    _use_code(dev)
    first = versioning.commit_changes(dev, author, "Thing uses code")
    _implement_coded(dev)
    head = versioning.commit_changes(dev, author, "Thing implements Coded")
    with pytest.raises(UnresolvedConflictsError) as exc:
        versioning.revert_commit(dev, first, author)
    assert any("interface-properties" in c["message"] for c in exc.value.conflicts)
    assert versioning.get_branch("work").head_id == head.id
    assert _on(dev, ObjectType, "Thing").properties.filter(api_name="code").exists()


def test_discarding_what_a_kept_change_needs_is_refused(people):
    """Uncommitted: Thing gets `code`, then Coded (implemented by Thing) asks for it.
    Discarding only Thing's change would break Coded's implementer: 409, nothing goes."""
    author, _ = people
    _coded_main()
    dev = versioning.create_branch("work", "main", author)
    _implement_coded(dev)
    versioning.commit_changes(dev, author, "Thing implements Coded")
    _use_code(dev)
    _ask_for_code(dev)
    thing = _on(dev, ObjectType, "Thing")
    with pytest.raises(InvalidStateError, match="interface-properties"):
        versioning.discard_changes(dev, author, [str(thing.rid)])
    assert thing.properties.filter(api_name="code").exists()
    assert {str(c.rid) for c in versioning.changes(dev).changes} == {
        str(thing.rid),
        str(_on(dev, Interface, "Coded").rid),
    }


def _forged_commit(main, changes):
    """A commit on top of main's head whose tree may break today's rule set (as a commit
    made before a rule existed would): the documents of ``changes`` (``(model, api name) ->
    keys``) changed and written to the store directly, past every door."""
    from versioning import store

    rows = {_on(main, model, name).rid: keys for (model, name), keys in changes.items()}
    docs = store.documents_at(main.head_id, [str(rid) for rid in rows])
    delta = store.write_blobs({str(rid): {**docs[str(rid)], **keys} for rid, keys in rows.items()})
    return store.new_commit(
        parent=main.head,
        merge_parent=None,
        delta=delta,
        user=None,
        message="forged",
        branch_name="gone",
    )


@pytest.mark.parametrize("bystanders", [0, 6], ids=["whole-tree", "closest-branch-copy"])
def test_branching_from_a_commit_that_breaks_the_rules_is_refused(people, bystanders):
    """Branch from a commit is a door too: the documents it writes pass the rule set, or the
    branch is not made (409 naming the rule) and nothing is left behind. The commit: Coded
    asks for the shared property `code`, and Thing implements Coded without having it.
    With bystanders, main is close enough to the commit to be copied set-based and only the
    two changed documents are written: they are checked all the same."""
    main = _coded_main(bystanders)
    code = _on(main, SharedProperty, "code")
    coded = _on(main, Interface, "Coded")
    forged = _forged_commit(
        main,
        {
            (Interface, "Coded"): {"properties": {str(code.rid): True}},
            (ObjectType, "Thing"): {"interfaces": {str(coded.rid): True}},
        },
    )
    api = APIClient()
    api.force_authenticate(people[0])
    answer = api.post("/api/v1/branches/", {"name": "fix", "from": forged.id}, format="json")
    assert answer.status_code == 409, answer.content
    assert "code" in answer.content.decode()
    assert not Branch.objects.filter(name="fix").exists()
    assert not ObjectType.objects.filter(branch__name="fix").exists()


def test_branching_from_a_valid_commit_writes_its_tree(people):
    """The same door lets a valid commit through: the new branch's Thing is the commit's."""
    main = _coded_main()
    forged = _forged_commit(main, {(ObjectType, "Thing"): {"description": "As it was."}})
    branch = versioning.create_branch("fix", forged.id, people[0])
    assert _on(branch, ObjectType, "Thing").description == "As it was."
