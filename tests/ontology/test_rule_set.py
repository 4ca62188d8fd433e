"""One rule set over documents at every door: the defects of issue 9 that slipped past
the merge's smaller copy of the rules and past the services' per-row checks."""

import pytest
from django.core.exceptions import ValidationError

from ontology import services
from ontology.documents import to_documents
from ontology.models import (
    Interface,
    InterfaceLinkConstraint,
    LinkType,
    ObjectType,
    Property,
    SharedProperty,
)
from ontology.rule_set.rows import RuleViolation, check_documents
from ontology.workspace import apply
from tests.factories import (
    BranchFactory,
    InterfaceFactory,
    InterfaceLinkConstraintFactory,
    ObjectTypeFactory,
    PropertyFactory,
    SharedPropertyFactory,
)
from tests.versioning.support import steward
from versioning import services as versioning
from versioning.exceptions import UnresolvedConflictsError

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return steward("author"), steward("reviewer")


def _merge(branch, author, reviewer):
    main = versioning.get_branch("main")
    proposal = versioning.open_proposal(branch, main, f"from {branch.name}", author)
    versioning.approve(proposal, reviewer)
    return proposal, versioning.merge_proposal(proposal, reviewer)


def test_interface_property_and_implementer_from_two_branches_is_a_block(people):
    """(a) a adds a required shared property to Coded, b makes Thing implement Coded:
    each is valid alone; together Thing lacks `code`. The second merge is a BLOCK."""
    author, reviewer = people
    main = BranchFactory(name="main", protected=True)
    code = SharedPropertyFactory(branch=main, api_name="code")
    InterfaceFactory(branch=main, api_name="Coded")
    ObjectTypeFactory(branch=main, api_name="Thing", properties=1)
    versioning.commit_changes(main, None, "coded and thing", system=True)

    a = versioning.create_branch("a", "main", author)
    b = versioning.create_branch("b", "main", author)
    coded_a = Interface.objects.get(branch=a, api_name="Coded")
    services.save_interface(
        a,
        {},
        instance=coded_a,
        properties=[SharedProperty.objects.get(branch=a, rid=code.rid)],
    )
    versioning.commit_changes(a, author, "Coded asks for code")
    thing_b = ObjectType.objects.get(branch=b, api_name="Thing")
    services.save_object_type(
        b,
        {},
        instance=thing_b,
        interfaces=[Interface.objects.get(branch=b, rid=coded_a.rid)],
    )
    versioning.commit_changes(b, author, "Thing implements Coded")

    _merge(a, author, reviewer)
    proposal = versioning.open_proposal(b, main, "from b", author)
    blocks = [c for c in versioning.dry_run(proposal)["conflicts"] if c["severity"] == "BLOCK"]
    assert [(c["apiName"], c["path"]) for c in blocks] == [
        ("Thing", ["interfaces", str(coded_a.rid)])
    ]
    assert "interface-properties" in blocks[0]["message"] and "code" in blocks[0]["message"]
    versioning.approve(proposal, reviewer)
    with pytest.raises(UnresolvedConflictsError):
        versioning.merge_proposal(proposal, reviewer)
    thing = ObjectType.objects.get(branch=main, api_name="Thing")
    assert not thing.interfaces.exists()


def _link(api_name, cardinality, source, target, sides, fk=None) -> LinkType:
    """A link type saved through the services; ``sides``: (source side, target side)."""
    link = LinkType(
        branch=source.branch,
        api_name=api_name,
        cardinality=cardinality,
        source=source,
        target=target,
        source_api_name=sides[0],
        source_display_name=sides[0],
        target_api_name=sides[1],
        target_display_name=sides[1],
        foreign_key_property=fk,
    )
    services.save(link)
    return link


def _one_to_many(branch):
    """Order -> Customer, 1:N, the foreign key Order.customerId (string) holding
    Customer's primary key `id` (string)."""
    customer = ObjectTypeFactory(branch=branch, api_name="Customer", properties=1)
    order = ObjectTypeFactory(branch=branch, api_name="Order", properties=1)
    fk = PropertyFactory(object_type=order, api_name="customerId", position=1)
    link = _link("orderCustomer", "ONE_TO_MANY", order, customer, ("customer", "orders"), fk)
    return customer, link


def test_changing_a_target_primary_key_type_under_a_foreign_key_is_refused(dev):
    """(b) the target's primary key turns integer: the link's foreign key (string) no
    longer matches. Refused, naming the link; nothing changes."""
    customer, link = _one_to_many(dev)
    pk = customer.primary_key
    pk.base_type = "integer"
    with pytest.raises(ValidationError) as exc:
        services.save(pk)
    shown = str(exc.value)
    assert "orderCustomer" in shown and "foreign-key" in shown
    assert f"{link.rid}.foreignKeyProperty" in exc.value.message_dict
    assert Property.objects.get(pk=pk.pk).base_type == "string"
    LinkType.objects.get(pk=link.pk).full_clean()  # still valid


def test_the_same_change_through_the_api_is_a_400_naming_the_link(dev, api):
    customer, link = _one_to_many(dev)
    response = api.patch(
        "/api/v1/branches/dev/object-types/Customer/",
        {
            "properties": [
                {
                    "rid": str(customer.primary_key.rid),
                    "apiName": customer.primary_key.api_name,
                    "baseType": "integer",
                    "displayName": "id",
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "orderCustomer" in response.content.decode()


def _constrained(branch, *, required=True, cardinality="ONE"):
    """Interface Owned asks for a link `owner` to Person; Car implements Owned."""
    person = ObjectTypeFactory(branch=branch, api_name="Person", properties=1)
    owned = InterfaceFactory(branch=branch, api_name="Owned")
    InterfaceLinkConstraintFactory(
        interface=owned,
        api_name="owner",
        target_object_type=person,
        cardinality=cardinality,
        required=required,
    )
    car = ObjectTypeFactory(branch=branch, api_name="Car", properties=1)
    return person, owned, car


def test_implementing_an_interface_needs_its_required_link_constraints(dev):
    """(c) required link constraints are checked against the implementing types."""
    person, owned, car = _constrained(dev)
    with pytest.raises(ValidationError) as exc:
        services.save_object_type(dev, {}, instance=car, interfaces=[owned])
    assert "interface-link-constraints" in str(exc.value) and "owner" in str(exc.value)
    assert not car.interfaces.exists()

    fk = PropertyFactory(object_type=car, api_name="ownerId", position=1)
    _link("carOwners", "MANY_TO_MANY", car, person, ("owners", "cars"))
    with pytest.raises(ValidationError, match="ONE"):  # many owners: not the one asked for
        services.save_object_type(dev, {}, instance=car, interfaces=[owned])
    one = _link("carOwner", "ONE_TO_MANY", car, person, ("owner", "ownedCars"), fk)
    services.save_object_type(dev, {}, instance=car, interfaces=[owned])
    assert list(car.interfaces.all()) == [owned]

    # and the link that fulfils it cannot go while Car implements Owned
    with pytest.raises(ValidationError, match="interface-link-constraints"):
        services.delete(one)
    assert LinkType.objects.filter(branch=dev, api_name="carOwner").exists()


def test_making_a_constraint_required_rechecks_the_implementers(dev):
    person, owned, car = _constrained(dev, required=False)
    car.interfaces.add(owned)
    constraint = InterfaceLinkConstraint.objects.get(interface=owned)
    constraint.required = True
    with pytest.raises(ValidationError) as exc:
        services.save(constraint)
    assert f"{car.rid}.interfaces.{owned.rid}" in exc.value.message_dict


def test_apply_refuses_documents_that_break_the_rules_and_writes_nothing(dev):
    """workspace.apply (merge, update, revert, discard, branch from a commit) checks the
    rule set before it writes: a 409 in versioning, no row changed."""
    customer, link = _one_to_many(dev)
    doc = to_documents(dev.pk, [str(customer.rid)])[str(customer.rid)]
    pk_rid = doc["primaryKey"]
    broken = {
        **doc,
        "properties": {
            **doc["properties"],
            pk_rid: {**doc["properties"][pk_rid], "baseType": "integer"},
        },
    }
    assert [v.rule for v in check_documents(dev.pk, {str(customer.rid): broken})] == ["foreign-key"]
    with pytest.raises(RuleViolation) as exc:
        apply(dev, {str(customer.rid): broken})
    assert isinstance(exc.value, ValueError) and "orderCustomer" in str(exc.value)
    assert Property.objects.get(rid=pk_rid, branch=dev).base_type == "string"
