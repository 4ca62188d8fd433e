"""Each ontology rule, both ways, at the services (the door the admin and the API write
through): the rule set over the documents written, the rows' own rules (``clean()``,
a name's unique index). The admin's and the API's answers: ``test_rules_at_the_doors.py``."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from events.models import OutboxEvent
from ontology import services
from ontology.admin.errors import model_field, route_errors
from ontology.models import LinkType, ObjectType, Property, StructType, ValueType
from tests.factories import (
    BranchFactory,
    InterfaceFactory,
    LinkTypeFactory,
    ObjectTypeFactory,
    PropertyFactory,
    SharedPropertyFactory,
    StructFieldFactory,
    StructTypeFactory,
    ValueTypeFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev():
    return BranchFactory(name="dev")


def refusal_of(row) -> ValidationError:
    """Saving ``row`` through the services is refused; nothing is written."""
    adding = row._state.adding
    with pytest.raises(ValidationError) as exc:
        services.save(row, system=True)
    if adding:  # rolled back: still a new row
        row.pk, row._state.adding = None, True
    return exc.value


def rule_errors_of(row) -> dict[str, list[str]]:
    """Saving ``row`` through the services is refused, each message under the model field
    of ``row`` it is about, as the admin routes it (a child's document path,
    ``properties.<rid>.baseType``, to the child's ``base_type``; the API keeps the path).
    Messages about other rows keep their document path."""
    rows = {str(row.rid): None, str(services.top_level(row).rid): None}
    routed = route_errors(refusal_of(row), rows).get(None, {})
    return {model_field(path): messages for path, messages in routed.items()}


def test_api_name_case_per_kind(dev):
    assert "api_name" in rule_errors_of(
        ObjectType(branch=dev, api_name="flight", display_name="F", plural_display_name="F")
    )
    ot = ObjectTypeFactory(branch=dev, api_name="Flight")
    prop = Property(
        branch=dev, object_type=ot, api_name="Number", display_name="N", base_type="string"
    )
    assert "api_name" in rule_errors_of(prop)
    prop.api_name = "number"
    services.save(prop, system=True)
    assert "api_name" in rule_errors_of(
        ValueType(branch=dev, api_name="code", display_name="c", base_type="string")
    )


def test_api_name_unique_per_branch_case_insensitively(dev):
    ObjectTypeFactory(branch=dev, api_name="Flight")
    dup = ObjectType(branch=dev, api_name="FLIGHT", display_name="F", plural_display_name="F")
    refused = refusal_of(dup)  # by the unique index, as the row is written
    assert "already used" in refused.message_dict["api_name"][0]
    assert refused.error_dict["api_name"][0].code == "duplicate"
    # the same name on another branch is fine
    other = BranchFactory(name="other")
    services.save(
        ObjectType(branch=other, api_name="Flight", display_name="F", plural_display_name="F"),
        system=True,
    )


def test_a_childs_name_is_unique_in_its_parent(dev):
    ot = ObjectTypeFactory(branch=dev, api_name="Flight", properties=2)
    first, second = ot.properties.order_by("position")
    second.api_name = first.api_name.upper()
    assert "already used" in rule_errors_of(second)["api_name"][0]
    other = ObjectTypeFactory(branch=dev, api_name="Airport")
    services.save(PropertyFactory.build(object_type=other, branch=dev, api_name=first.api_name))


def test_reserved_words_refused(dev):
    assert (
        "reserved"
        in rule_errors_of(
            ObjectType(branch=dev, api_name="Ontology", display_name="O", plural_display_name="O")
        )["api_name"][0]
    )


def test_deprecated_needs_message_and_deadline(dev):
    ot = ObjectTypeFactory(branch=dev)
    ot.status = "DEPRECATED"
    errors = rule_errors_of(ot)
    assert {"deprecation_message", "deprecation_deadline"} <= set(errors)
    ot.deprecation_message = "Use Flight"
    ot.deprecation_deadline = dt.date(2027, 1, 1)
    services.save(ot, system=True)


def test_replaced_by_only_when_deprecated(dev):
    new = ObjectTypeFactory(branch=dev)
    old = ObjectTypeFactory(branch=dev)
    old.replaced_by = new
    assert "replaced_by" in rule_errors_of(old)
    old.status, old.deprecation_message, old.deprecation_deadline = (
        "DEPRECATED",
        "m",
        dt.date(2027, 1, 1),
    )
    services.save(old, system=True)
    old.replaced_by = old
    assert "replaced_by" in rule_errors_of(old)


@pytest.mark.parametrize("base", ["float", "double", "decimal", "geopoint", "vector", "attachment"])
def test_forbidden_primary_key_types(dev, base):
    ot = ObjectTypeFactory(branch=dev, properties=1)
    prop = PropertyFactory(object_type=ot, api_name="bad", base_type=base)
    ot.primary_key = prop
    assert "primary_key" in rule_errors_of(ot)


def test_primary_key_with_warning_is_allowed(dev):
    ot = ObjectTypeFactory(branch=dev, properties=1)
    ot.primary_key = PropertyFactory(object_type=ot, api_name="seq", base_type="long")
    assert services.save(ot, system=True), "a long primary key carries a warning"


def test_primary_key_must_belong_to_the_object_type(dev):
    ot = ObjectTypeFactory(branch=dev, properties=1)
    other = ObjectTypeFactory(branch=dev, properties=1)
    ot.primary_key = other.primary_key
    assert "primary_key" in rule_errors_of(ot)


def test_title_property_must_be_primitive(dev):
    ot = ObjectTypeFactory(branch=dev, properties=1)
    st = StructTypeFactory(branch=dev, fields=1)
    ot.title_property = PropertyFactory(
        object_type=ot, api_name="addr", base_type="struct", struct_type=st
    )
    assert "title_property" in rule_errors_of(ot)


def test_experimental_object_type_cannot_have_active_properties(dev):
    ot = ObjectTypeFactory(branch=dev, properties=1)
    active = ot.properties.get()
    ot.status = "EXPERIMENTAL"
    # on each active property's status (the admin: on its inline row)
    assert f"properties.{active.rid}.status" in refusal_of(ot).message_dict
    ot.properties.update(status="EXPERIMENTAL")
    services.save(ot, system=True)
    prop = Property(branch=dev, object_type=ot, api_name="x", display_name="x", base_type="string")
    assert "status" in rule_errors_of(prop)


def test_property_type_shape(dev):
    ot = ObjectTypeFactory(branch=dev)
    arr = Property(branch=dev, object_type=ot, api_name="tags", display_name="t", base_type="array")
    assert "item_type" in rule_errors_of(arr)
    arr.item_type = "vector"
    assert "item_type" in rule_errors_of(arr)
    arr.item_type = "string"
    services.save(arr, system=True)
    struct = Property(
        branch=dev, object_type=ot, api_name="addr", display_name="a", base_type="struct"
    )
    assert "struct_type" in rule_errors_of(struct)


def test_value_type_must_match_property_type(dev):
    vt = ValueTypeFactory(branch=dev, base_type="integer")
    ot = ObjectTypeFactory(branch=dev)
    prop = Property(
        branch=dev,
        object_type=ot,
        api_name="n",
        display_name="n",
        base_type="string",
        value_type=vt,
    )
    assert "value_type" in rule_errors_of(prop)
    prop.base_type = "integer"
    services.save(prop, system=True)


def test_a_reference_to_a_row_of_another_branch_is_the_rows_own_rule(dev):
    """Documents name rids, which every branch shares: only the row sees the branch."""
    other = BranchFactory(name="other")
    ot = ObjectTypeFactory(branch=dev)
    prop = PropertyFactory.build(
        object_type=ot, branch=dev, api_name="seats", value_type=ValueTypeFactory(branch=other)
    )
    assert "another branch" in rule_errors_of(prop)["value_type"][0]
    ot.status, ot.deprecation_message, ot.deprecation_deadline = "DEPRECATED", "m", "2030-01-01"
    ot.replaced_by = ObjectTypeFactory(branch=other)
    assert "another branch" in rule_errors_of(ot)["replaced_by"][0]


def test_value_type_constraints_must_fit_base_type(dev):
    vt = ValueType(
        branch=dev,
        api_name="Code",
        display_name="c",
        base_type="integer",
        constraints={"regex": {"pattern": "x"}},
    )
    assert "constraints" in rule_errors_of(vt)
    vt.base_type = "string"
    services.save(vt, system=True)
    vt.constraints = {"range": {"min": 3, "max": 1}}
    vt.base_type = "integer"
    assert "constraints" in rule_errors_of(vt)


def test_struct_field_types_are_primitive_only(dev):
    st = StructTypeFactory(branch=dev)
    field = StructFieldFactory.build(struct_type=st, branch=dev, base_type="struct")
    assert "base_type" in rule_errors_of(field)  # not one of the field's choices
    field.base_type, field.item_type = "array", "struct"
    assert "item_type" in rule_errors_of(field)


def test_link_foreign_key_must_match_target_primary_key(dev):
    target = ObjectTypeFactory(branch=dev, properties=1)  # string primary key
    source = ObjectTypeFactory(branch=dev, properties=1)
    fk = PropertyFactory(object_type=source, api_name="targetId", base_type="integer")
    link = LinkType(
        branch=dev,
        api_name="sourceTarget",
        cardinality="ONE_TO_MANY",
        source=source,
        target=target,
        source_api_name="target",
        source_display_name="t",
        target_api_name="sources",
        target_display_name="s",
        foreign_key_property=fk,
    )
    assert "foreign_key_property" in rule_errors_of(link)
    fk.base_type = "string"
    fk.save()
    services.save(link, system=True)
    link.foreign_key_property = None
    assert "foreign_key_property" in rule_errors_of(link)
    link.cardinality = "MANY_TO_MANY"
    services.save(link, system=True)
    link.foreign_key_property = fk
    assert "foreign_key_property" in rule_errors_of(link)


def test_link_side_names_are_camel_case(dev):
    link = LinkTypeFactory.build(branch=dev, source_api_name="Bad")
    link.source = ObjectTypeFactory(branch=dev)
    link.target = ObjectTypeFactory(branch=dev)
    assert "source_api_name" in rule_errors_of(link)
    link.source_api_name, link.target_api_name = "same", "Same"
    link.target = link.source
    assert "target_api_name" in rule_errors_of(link)


def test_struct_type_needs_one_to_ten_fields(dev):
    with pytest.raises(ValidationError) as exc:
        services.save_struct_type(dev, {"api_name": "Empty", "display_name": "E"}, fields=[])
    assert "fields" in exc.value.message_dict
    fields = [
        {"api_name": f"f{i}", "display_name": f"F{i}", "base_type": "string"} for i in range(11)
    ]
    with pytest.raises(ValidationError) as exc:
        services.save_struct_type(dev, {"api_name": "Wide", "display_name": "W"}, fields=fields)
    assert "at most 10" in exc.value.message_dict["fields"][0]
    st = services.save_struct_type(dev, {"api_name": "Ok", "display_name": "O"}, fields=fields[:10])
    assert st.fields.count() == 10
    assert not StructType.objects.filter(api_name="Wide").exists()


def test_object_type_must_have_interface_properties(dev):
    shared = SharedPropertyFactory(branch=dev, api_name="createdAt", base_type="timestamp")
    parent = InterfaceFactory(branch=dev, properties=[shared])
    iface = InterfaceFactory(branch=dev, extends=[parent])
    values = {"api_name": "Flight", "display_name": "F", "plural_display_name": "Fs"}
    props = [{"api_name": "id", "display_name": "Id", "base_type": "string"}]
    with pytest.raises(ValidationError) as exc:
        services.save_object_type(
            dev, values, properties=props, primary_key="id", interfaces=[iface]
        )
    assert "createdAt" in exc.value.message_dict["interfaces.0"][0]  # its place in the list
    props.append(
        {
            "api_name": "createdAt",
            "display_name": "C",
            "base_type": "timestamp",
            "shared_property": shared,
        }
    )
    ot, warnings = services.save_object_type(
        dev, values, properties=props, primary_key="id", interfaces=[iface]
    )
    assert list(ot.interfaces.all()) == [iface] and warnings == []


def _implementers(dev, iface, count):
    out = []
    for _ in range(count):
        ot = ObjectTypeFactory(branch=dev, properties=1)
        ot.interfaces.add(iface)
        out.append(ot)
    return out


def test_interface_property_its_implementers_lack_is_refused_in_constant_queries():
    """The rule set's ``interface-properties``, on each implementer at fault: under its rid
    and path (``<rid>.interfaces.<rid>``), the message naming the object type."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries = []
    for count in (1, 4):
        branch = BranchFactory()
        shared = SharedPropertyFactory(branch=branch, api_name="createdAt")
        iface = InterfaceFactory(branch=branch)
        lacking = _implementers(branch, iface, count)
        keeps = ObjectTypeFactory(branch=branch, api_name="Keeps", properties=1)
        PropertyFactory(object_type=keeps, api_name="createdAt", shared_property=shared)
        keeps.interfaces.add(iface)
        with CaptureQueriesContext(connection) as ctx, pytest.raises(ValidationError) as exc:
            services.save_interface(branch, {}, instance=iface, properties=[shared])
        queries.append(len(ctx.captured_queries))
        errors = exc.value.message_dict
        assert set(errors) == {f"{ot.rid}.interfaces.{iface.rid}" for ot in lacking}
        for ot in lacking:
            [message] = errors[f"{ot.rid}.interfaces.{iface.rid}"]
            assert message.startswith(f"Object type '{ot.api_name}': Implementing ")
            assert "createdAt" in message and "[rule interface-properties]" in message
        assert not list(iface.properties.all()), "rolled back"
    assert queries[0] == queries[1]


def test_an_interface_extending_another_passes_its_properties_to_their_implementers(dev):
    """An implementer of Scheduled lacks what Scheduled now inherits from Trackable."""
    shared = SharedPropertyFactory(branch=dev, api_name="createdAt")
    trackable = InterfaceFactory(branch=dev, api_name="Trackable", properties=[shared])
    scheduled = InterfaceFactory(branch=dev, api_name="Scheduled")
    [flight] = _implementers(dev, scheduled, 1)
    with pytest.raises(ValidationError) as exc:
        services.save_interface(dev, {}, instance=scheduled, extends=[trackable])
    [message] = exc.value.message_dict[f"{flight.rid}.interfaces.{scheduled.rid}"]
    assert f"Object type '{flight.api_name}'" in message and "createdAt" in message


def test_interface_cycles_refused(dev):
    a = InterfaceFactory(branch=dev, api_name="Alpha")
    b = InterfaceFactory(branch=dev, api_name="Beta", extends=[a])
    with pytest.raises(ValidationError) as exc:
        services.save_interface(dev, {}, instance=a, extends=[b])
    errors = exc.value.message_dict
    assert "cycle" in errors["extends"][0] and "[rule interface-extends]" in errors["extends"][0]
    # the other interface of the cycle, named
    assert errors[f"{b.rid}.extends"][0].startswith("Interface 'Beta': Interfaces cannot")
    assert list(a.extends.all()) == []


def test_an_interface_extending_itself_is_refused_at_its_place(dev):
    a = InterfaceFactory(branch=dev, api_name="Alpha")
    b = InterfaceFactory(branch=dev, api_name="Beta")
    with pytest.raises(ValidationError) as exc:
        services.save_interface(dev, {}, instance=a, extends=[b, a])
    assert exc.value.message_dict == {
        "extends.1": ["An interface cannot extend itself. [rule interface-extends]"]
    }
    assert list(a.extends.all()) == []


@pytest.mark.parametrize(
    "kind", ["object_type", "value_type", "struct_type", "shared_property", "interface", "property"]
)
def test_delete_refused_while_in_use(dev, kind):
    target = ObjectTypeFactory(branch=dev, properties=1)
    if kind == "object_type":
        row = target
        LinkTypeFactory(branch=dev, api_name="userLink", target=target)
    elif kind == "value_type":
        row = ValueTypeFactory(branch=dev)
        PropertyFactory(object_type=target, api_name="user", value_type=row)
    elif kind == "struct_type":
        row = StructTypeFactory(branch=dev, fields=1)
        PropertyFactory(object_type=target, api_name="user", base_type="struct", struct_type=row)
    elif kind == "shared_property":
        row = SharedPropertyFactory(branch=dev)
        PropertyFactory(object_type=target, api_name="user", shared_property=row)
    elif kind == "interface":
        row = InterfaceFactory(branch=dev)
        target.interfaces.set([row])
    else:
        source = ObjectTypeFactory(branch=dev)
        row = PropertyFactory(object_type=source, api_name="targetId")
        LinkTypeFactory(
            branch=dev,
            api_name="userLink",
            source=source,
            target=target,
            cardinality="ONE_TO_MANY",
            foreign_key_property=row,
        )
    with pytest.raises(services.InUseError) as exc:
        services.delete(row)
    assert "still used by" in str(exc.value)
    assert type(row).objects.filter(pk=row.pk).exists()


def test_unused_delete_publishes_event_with_before_document(dev):
    ot = ObjectTypeFactory(branch=dev, api_name="Gone", properties=2)
    services.delete(ot)
    event = OutboxEvent.objects.filter(type="com.oms.ontology.object_type.deleted.v1").get()
    assert event.data["before"]["apiName"] == "Gone"
    assert event.data["after"] is None
    assert not ObjectType.objects.filter(pk=ot.pk).exists()
    assert not Property.objects.filter(object_type_id=ot.pk).exists()


def test_update_event_carries_only_changed_fields(dev):
    ot = ObjectTypeFactory(branch=dev, properties=1)
    ot.description = "new words"
    services.save(ot)
    event = OutboxEvent.objects.filter(type="com.oms.ontology.object_type.updated.v1").get()
    assert event.data["before"] == {"description": ""}
    assert event.data["after"] == {"description": "new words"}


def test_failed_validation_publishes_nothing_and_changes_nothing(dev):
    ot = ObjectTypeFactory(branch=dev, api_name="Keep", properties=1)
    ot.api_name = "lowercase"
    with pytest.raises(ValidationError):
        services.save(ot)
    assert ObjectType.objects.get(pk=ot.pk).api_name == "Keep"
    assert not OutboxEvent.objects.exists()
    assert not dev.working_changes.exists()


def test_change_set_publishes_one_event_per_entity(dev):
    ot = ObjectTypeFactory(branch=dev, api_name="Grouped", properties=1)
    with services.change_set():
        ot.description = "first"
        services.save(ot)
        services.save(PropertyFactory.build(object_type=ot, branch=dev, api_name="extra"))
        services.save(PropertyFactory.build(object_type=ot, branch=dev, api_name="more"))
    event = OutboxEvent.objects.get()
    assert event.type == "com.oms.ontology.object_type.updated.v1"
    assert event.data["before"]["description"] == ""
    assert event.data["after"]["description"] == "first"
    assert len(event.data["after"]["properties"]) == 3
    assert dev.working_changes.filter(rid=ot.rid).exists()


def test_change_set_rolls_back_everything_on_error(dev):
    ot = ObjectTypeFactory(branch=dev, api_name="Atomic", properties=1)
    with pytest.raises(ValidationError), services.change_set():
        ot.description = "kept?"
        services.save(ot)
        services.save(PropertyFactory.build(object_type=ot, branch=dev, api_name="Bad"))
    assert ObjectType.objects.get(pk=ot.pk).description == ""
    assert not OutboxEvent.objects.exists()
    assert not dev.working_changes.exists()


def test_object_type_and_its_properties_become_experimental_in_one_save(dev):
    ot, _ = services.save_object_type(
        dev,
        {"api_name": "Trial", "display_name": "T", "plural_display_name": "Ts"},
        properties=[{"api_name": "id", "display_name": "Id", "base_type": "string"}],
        primary_key="id",
    )
    ot.refresh_from_db()
    services.save_object_type(
        dev,
        {"status": "EXPERIMENTAL"},
        instance=ot,
        properties=[{"api_name": "id", "display_name": "Id", "base_type": "string"}],
    )
    assert ObjectType.objects.get(pk=ot.pk).status == "EXPERIMENTAL"
    assert set(ot.properties.values_list("status", flat=True)) == {"EXPERIMENTAL"}
    # without touching the properties the same change is refused, on the status field
    ot2, _ = services.save_object_type(
        dev,
        {"api_name": "Trial2", "display_name": "T", "plural_display_name": "Ts"},
        properties=[{"api_name": "id", "display_name": "Id", "base_type": "string"}],
    )
    with pytest.raises(ValidationError) as exc:
        services.save_object_type(dev, {"status": "EXPERIMENTAL"}, instance=ot2)
    assert list(exc.value.message_dict) == [f"properties.{ot2.properties.get().rid}.status"]


def test_replacing_properties_drops_a_removed_primary_key(dev):
    ot, _ = services.save_object_type(
        dev,
        {"api_name": "Keyed", "display_name": "K", "plural_display_name": "Ks"},
        properties=[{"api_name": "id", "display_name": "Id", "base_type": "string"}],
        primary_key="id",
        title_property="id",
    )
    ot, _ = services.save_object_type(
        dev,
        {},
        instance=ot,
        properties=[{"api_name": "other", "display_name": "O", "base_type": "string"}],
    )
    fresh = ObjectType.objects.get(pk=ot.pk)
    assert fresh.primary_key is None and fresh.title_property is None
    assert [p.api_name for p in fresh.properties.all()] == ["other"]


def test_a_key_is_one_of_the_object_types_own_properties(dev):
    """A document names a key among its own properties only (another's would read as no
    key): the row refuses it, when the key is set and when it is changed later; a key
    left as stored is not read again."""
    ot = ObjectTypeFactory(branch=dev)
    own = PropertyFactory(object_type=ot, branch=dev, api_name="code")
    other = PropertyFactory(object_type=ObjectTypeFactory(branch=dev), branch=dev, api_name="x")
    ot.primary_key = other
    assert "property of this object type" in rule_errors_of(ot)["primary_key"][0]
    ot.primary_key = own
    services.save(ot, system=True)
    stored = ObjectType.objects.get(pk=ot.pk)
    stored.title_property = other
    assert "property of this object type" in rule_errors_of(stored)["title_property"][0]
