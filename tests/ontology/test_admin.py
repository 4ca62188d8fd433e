"""The steward admin: pages, branch selection, read-only main, writes through the services,
rule messages on the field at fault, and in-use deletions refused with the users named."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.urls import reverse

from events.models import OutboxEvent
from ontology import services
from ontology.models import (
    Interface,
    InterfaceLinkConstraint,
    LinkType,
    ObjectType,
    Property,
    SharedProperty,
    StructField,
    StructType,
    ValueType,
)
from tests.factories import (
    BranchFactory,
    InterfaceFactory,
    InterfaceLinkConstraintFactory,
    LinkTypeFactory,
    ObjectTypeFactory,
    PropertyFactory,
    SharedPropertyFactory,
    StructTypeFactory,
    UserFactory,
    ValueTypeFactory,
)
from versioning.models import Branch, WorkingChange

pytestmark = pytest.mark.django_db

MODELS = [
    ObjectType,
    Property,
    ValueType,
    StructType,
    StructField,
    LinkType,
    SharedProperty,
    Interface,
    InterfaceLinkConstraint,
]


def url(model, view: str, *args) -> str:
    return reverse(f"admin:ontology_{model._meta.model_name}_{view}", args=args)


def select(client, branch: Branch, next_url: str = "/admin/"):
    return client.post(reverse("oms-select-branch"), {"branch": branch.name, "next": next_url})


def form_data(response) -> dict:
    """The POST a browser would send for the rendered admin form (with its inlines)."""
    data: dict = {}

    def add(form) -> None:
        for bound in form:
            value = bound.value()
            if isinstance(bound.field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
                data[bound.html_name] = [str(v) for v in value or []]
            elif isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            else:
                data[bound.html_name] = "" if value is None else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    version = response.context.get("oms_version")
    if version:  # the hidden input of templates/admin/oms/change_form.html
        assert f'name="_oms_version" value="{version}"' in response.content.decode()
        data["_oms_version"] = version
    return data


def property_rows(*specs: tuple[str, str]) -> dict[str, str]:
    """Inline rows for new properties, given as (api name, base type)."""
    rows = {"properties-TOTAL_FORMS": str(len(specs))}
    for index, (api_name, base_type) in enumerate(specs):
        prefix = f"properties-{index}-"
        rows.update(
            {
                f"{prefix}api_name": api_name,
                f"{prefix}display_name": api_name.capitalize(),
                f"{prefix}base_type": base_type,
                f"{prefix}status": "ACTIVE",
                f"{prefix}position": str(index),
            }
        )
    return rows


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def work():
    return BranchFactory(name="work")


@pytest.fixture
def main():
    return Branch.objects.get(name="main")


@pytest.fixture
def steward(admin_client, work):
    select(admin_client, work)
    return admin_client


@pytest.fixture
def ontology(work):
    """One row of every model on the working branch."""
    flight = ObjectTypeFactory(branch=work, api_name="Flight", properties=2)
    airport = ObjectTypeFactory(branch=work, api_name="Airport", properties=1)
    link = LinkTypeFactory(branch=work, api_name="departsFrom", source=flight, target=airport)
    shared = SharedPropertyFactory(branch=work, api_name="createdAt")
    iface = InterfaceFactory(branch=work, api_name="Trackable", properties=[shared])
    constraint = InterfaceLinkConstraintFactory(interface=iface, target_object_type=airport)
    struct = StructTypeFactory(branch=work, api_name="Address", fields=2)
    value_type = ValueTypeFactory(branch=work, api_name="IataCode")
    return {
        ObjectType: flight,
        Property: flight.properties.first(),
        ValueType: value_type,
        StructType: struct,
        StructField: struct.fields.first(),
        LinkType: link,
        SharedProperty: shared,
        Interface: iface,
        InterfaceLinkConstraint: constraint,
    }


# --- pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_page_renders_on_a_working_branch(steward, ontology, model):
    listing = steward.get(url(model, "changelist"))
    assert listing.status_code == 200
    assert str(ontology[model].api_name) in listing.content.decode()
    assert steward.get(url(model, "add")).status_code == 200
    change = steward.get(url(model, "change", ontology[model].pk))
    assert change.status_code == 200
    assert 'name="_save"' in change.content.decode()


def test_index_and_branch_pages_render(steward):
    assert steward.get(reverse("admin:index")).status_code == 200
    assert steward.get(reverse("admin:versioning_branch_changelist")).status_code == 200
    assert steward.get(reverse("admin:versioning_branch_add")).status_code == 200


def test_list_columns_are_readable(steward, ontology, work):
    PropertyFactory(
        object_type=ontology[ObjectType], api_name="tags", base_type="array", item_type="string"
    )
    page = steward.get(url(ObjectType, "changelist")).content.decode()
    assert "oms-badge" in page and "Active" in page
    page = steward.get(url(Property, "changelist")).content.decode()
    assert "array&lt;string&gt;" in page
    page = steward.get(url(LinkType, "changelist")).content.decode()
    assert "M : N" in page


def test_list_filters_and_search(steward, ontology, work):
    ObjectTypeFactory(branch=work, api_name="Crew", status="EXPERIMENTAL")
    page = steward.get(url(ObjectType, "changelist"), {"status__exact": "EXPERIMENTAL"})
    assert list(page.context["cl"].result_list) == [ObjectType.objects.get(api_name="Crew")]
    page = steward.get(url(ObjectType, "changelist"), {"q": "flig"})
    assert [o.api_name for o in page.context["cl"].result_list] == ["Flight"]


# --- one branch at a time ----------------------------------------------------------------


def test_branch_selector_switches_branch_and_filters_lists(admin_client, main, work):
    ObjectTypeFactory(branch=main, api_name="OnMain")
    ObjectTypeFactory(branch=work, api_name="OnWork")

    page = admin_client.get(url(ObjectType, "changelist"))
    assert 'id="oms-branch"' in page.content.decode()
    assert [o.api_name for o in page.context["cl"].result_list] == ["OnMain"]

    response = select(admin_client, work, url(ObjectType, "changelist"))
    assert response.status_code == 302
    assert response["Location"] == url(ObjectType, "changelist")
    page = admin_client.get(url(ObjectType, "changelist"))
    assert [o.api_name for o in page.context["cl"].result_list] == ["OnWork"]
    assert '<option value="work" selected>' in page.content.decode()
    # the header leads to the selected branch's changes and history
    assert "/admin/versioning/commit/changes/?branch=work" in page.content.decode()
    assert "/admin/versioning/commit/history/?ref=work" in page.content.decode()


def test_switching_on_a_change_page_opens_the_same_entity_on_the_other_branch(
    admin_client, main, work
):
    on_main = ObjectTypeFactory(branch=main, api_name="Flight")
    twin = ObjectTypeFactory(branch=work, api_name="Flight", rid=on_main.rid)
    response = select(admin_client, work, url(ObjectType, "change", on_main.pk))
    assert response["Location"] == url(ObjectType, "change", twin.pk)
    only_on_main = ObjectTypeFactory(branch=main, api_name="Gate")
    select(admin_client, main)
    response = select(admin_client, work, url(ObjectType, "change", only_on_main.pk))
    assert response["Location"] == url(ObjectType, "changelist")


def test_a_change_page_of_another_branch_opens_the_same_entity_here(steward, main, work):
    on_main = ObjectTypeFactory(branch=main, api_name="Flight")
    twin = ObjectTypeFactory(branch=work, api_name="Flight", rid=on_main.rid)
    response = steward.get(url(ObjectType, "change", on_main.pk))
    assert response["Location"] == url(ObjectType, "change", twin.pk)
    gate = ObjectTypeFactory(branch=main, api_name="Gate")
    response = steward.get(url(ObjectType, "change", gate.pk))
    assert response["Location"] == url(ObjectType, "changelist")
    assert "does not exist on branch 'work'" in " ".join(messages_of(response))


def test_selector_refuses_foreign_redirects_and_unknown_branches(admin_client, work):
    response = select(admin_client, work, "https://evil.example/")
    assert response["Location"] == reverse("admin:index")
    missing = admin_client.post(reverse("oms-select-branch"), {"branch": "nope", "next": "/"})
    assert missing.status_code == 404


def test_fk_choices_are_limited_to_the_selected_branch(steward, main, work, ontology):
    ObjectTypeFactory(branch=main, api_name="OnMain")
    form = steward.get(url(LinkType, "add")).context["adminform"].form
    sources = set(form.fields["source"].queryset.values_list("branch__name", flat=True))
    assert sources == {"work"}


def test_key_choices_are_the_object_types_own_properties(steward, ontology, work):
    flight = ontology[ObjectType]
    PropertyFactory(object_type=ObjectTypeFactory(branch=work), api_name="elsewhere")
    form = steward.get(url(ObjectType, "change", flight.pk)).context["adminform"].form
    for field in ("primary_key", "title_property"):
        assert set(form.fields[field].queryset) == set(flight.properties.all())


# --- main is read-only -------------------------------------------------------------------


def test_main_is_read_only_with_a_notice(admin_client, main):
    flight = ObjectTypeFactory(branch=main, api_name="Flight", properties=1)
    listing = admin_client.get(url(ObjectType, "changelist"))
    page = listing.content.decode()
    assert "is protected" in page and "create a branch from" in page
    assert url(ObjectType, "add") not in page
    assert admin_client.get(url(ObjectType, "add")).status_code == 403
    change = admin_client.get(url(ObjectType, "change", flight.pk))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert admin_client.post(url(ObjectType, "change", flight.pk), {}).status_code == 403
    assert admin_client.post(url(ObjectType, "delete", flight.pk), {"post": "yes"}).status_code == (
        403
    )
    assert ObjectType.objects.filter(pk=flight.pk).exists()
    assert not WorkingChange.objects.exists()


def test_archived_branch_is_read_only(admin_client):
    old = BranchFactory(name="old", archived=True)
    select(admin_client, old)
    page = admin_client.get(url(ValueType, "changelist")).content.decode()
    assert "is archived" in page
    assert admin_client.get(url(ValueType, "add")).status_code == 403


# --- writes through the services ---------------------------------------------------------


def test_adding_an_object_type_with_properties_marks_the_working_change(steward, work):
    data = form_data(steward.get(url(ObjectType, "add")))
    data.update(
        api_name="Aircraft",
        display_name="Aircraft",
        plural_display_name="Aircraft",
        primary_key_name="tailNumber",
        title_property_name="tailNumber",
        **property_rows(("tailNumber", "string"), ("seats", "integer")),
    )
    response = steward.post(url(ObjectType, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    aircraft = ObjectType.objects.get(branch=work, api_name="Aircraft")
    assert [p.api_name for p in aircraft.properties.order_by("position")] == [
        "tailNumber",
        "seats",
    ]
    assert aircraft.primary_key.api_name == "tailNumber"
    assert aircraft.title_property.api_name == "tailNumber"
    assert WorkingChange.objects.filter(branch=work, rid=aircraft.rid, kind="objectType").exists()
    # one steward save is one event: the object type created with both properties and keys
    event = OutboxEvent.objects.get(branch="work")
    assert event.type == "com.oms.ontology.object_type.created.v1"
    created = event.data["after"]
    assert sorted(p["apiName"] for p in created["properties"].values()) == ["seats", "tailNumber"]
    assert created["properties"][created["primaryKey"]]["apiName"] == "tailNumber"


def test_changing_an_object_type_updates_it_and_marks_the_change(steward, ontology, work):
    flight = ontology[ObjectType]
    data = form_data(steward.get(url(ObjectType, "change", flight.pk)))
    data["display_name"] = "Scheduled flight"
    data["properties-1-base_type"] = "long"
    response = steward.post(url(ObjectType, "change", flight.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    flight.refresh_from_db()
    assert flight.display_name == "Scheduled flight"
    assert flight.properties.order_by("position")[1].base_type == "long"
    assert WorkingChange.objects.filter(branch=work, rid=flight.rid).exists()


def test_a_form_opened_before_someone_elses_save_is_refused_not_overwriting(
    steward, ontology, work
):
    flight = ontology[ObjectType]
    mine = form_data(steward.get(url(ObjectType, "change", flight.pk)))
    # another steward renames a property of the same object type meanwhile
    other = Property.objects.filter(object_type=flight).order_by("position").first()
    other.description = "their change"
    services.save(other)

    mine["display_name"] = "My title"
    response = steward.post(url(ObjectType, "change", flight.pk), mine)
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert any("Someone else changed this object type" in e for e in errors)
    flight.refresh_from_db()
    other.refresh_from_db()
    assert flight.display_name != "My title" and other.description == "their change"

    # the page now carries the current version: saving again is a deliberate overwrite
    again = form_data(response)
    assert again["_oms_version"] != mine["_oms_version"]
    assert steward.post(url(ObjectType, "change", flight.pk), again).status_code == 302
    flight.refresh_from_db()
    assert flight.display_name == "My title"


def test_a_form_of_an_unchanged_entity_saves(steward, ontology):
    value_type = ontology[ValueType]
    data = form_data(steward.get(url(ValueType, "change", value_type.pk)))
    assert data["_oms_version"]
    data["description"] = "edited"
    assert steward.post(url(ValueType, "change", value_type.pk), data).status_code == 302


def test_pascal_case_rule_is_shown_on_api_name(steward, work):
    data = form_data(steward.get(url(ObjectType, "add")))
    data.update(api_name="aircraft", display_name="Aircraft", plural_display_name="Aircraft")
    response = steward.post(url(ObjectType, "add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "PascalCase" in " ".join(errors["api_name"])
    assert not ObjectType.objects.filter(branch=work).exists()
    assert not WorkingChange.objects.exists()


def test_float_primary_key_is_refused_on_the_primary_key_field(steward, ontology):
    flight = ontology[ObjectType]
    price = PropertyFactory(object_type=flight, api_name="price", base_type="float")
    data = form_data(steward.get(url(ObjectType, "change", flight.pk)))
    data["primary_key"] = str(price.pk)
    response = steward.post(url(ObjectType, "change", flight.pk), data)
    assert response.status_code == 200
    assert "float" in " ".join(response.context["adminform"].form.errors["primary_key"])
    flight.refresh_from_db()
    assert flight.primary_key_id != price.pk


def test_float_primary_key_named_on_add_is_refused_and_nothing_is_saved(steward, work):
    data = form_data(steward.get(url(ObjectType, "add")))
    data.update(
        api_name="Fare",
        display_name="Fare",
        plural_display_name="Fares",
        primary_key_name="amount",
        **property_rows(("amount", "float")),
    )
    response = steward.post(url(ObjectType, "add"), data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "float" in " ".join(form.errors["primary_key_name"])
    assert form["api_name"].value() == "Fare"  # the steward's input is kept
    assert not ObjectType.objects.filter(branch=work).exists()
    assert not WorkingChange.objects.exists()


def test_inline_rule_errors_land_on_the_property_at_fault(steward, ontology):
    flight = ontology[ObjectType]
    data = form_data(steward.get(url(ObjectType, "change", flight.pk)))
    data["properties-1-api_name"] = "Bad Name"
    response = steward.post(url(ObjectType, "change", flight.pk), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "api_name" in formset.forms[1].errors


def test_duplicate_property_names_in_one_save_are_refused(steward, ontology):
    flight = ontology[ObjectType]
    data = form_data(steward.get(url(ObjectType, "change", flight.pk)))
    data["properties-0-api_name"] = "code"
    data["properties-1-api_name"] = "coDE"
    response = steward.post(url(ObjectType, "change", flight.pk), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "used twice" in " ".join(formset.forms[1].errors["api_name"])


def test_value_type_rule_errors_land_on_constraints(steward, work):
    data = form_data(steward.get(url(ValueType, "add")))
    data.update(
        api_name="Seats",
        display_name="Seats",
        base_type="integer",
        constraints='{"regex": {"pattern": "^[0-9]+$"}}',
    )
    response = steward.post(url(ValueType, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["constraints"]


def test_rule_set_refusals_land_on_the_field_their_path_names(steward, ontology):
    """Rules only the rule set holds (docs/documents.md) are shown on the model field
    their document path is about, not as a form-wide error."""
    flight, airport = ontology[ObjectType], ObjectType.objects.get(api_name="Airport")
    data = form_data(steward.get(url(ObjectType, "change", flight.pk)))
    data["replaced_by"] = str(airport.pk)  # an active object type names no replacement
    response = steward.post(url(ObjectType, "change", flight.pk), data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "deprecated" in " ".join(form.errors["replaced_by"])
    link = ontology[LinkType]
    data = form_data(steward.get(url(LinkType, "change", link.pk)))
    data["source_api_name"] = "NotCamel"
    response = steward.post(url(LinkType, "change", link.pk), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["source_api_name"]


def test_struct_type_needs_one_to_ten_fields(steward, work):
    data = form_data(steward.get(url(StructType, "add")))
    data.update(api_name="Address", display_name="Address")
    data["fields-TOTAL_FORMS"] = "0"
    response = steward.post(url(StructType, "add"), data)
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert not StructType.objects.exists()


def test_replacing_the_only_struct_field_keeps_the_struct_valid(steward, work):
    struct = StructTypeFactory(branch=work, api_name="Money", fields=1)
    data = form_data(steward.get(url(StructType, "change", struct.pk)))
    data.update(
        {
            "fields-0-DELETE": "on",
            "fields-TOTAL_FORMS": "2",
            "fields-1-api_name": "amount",
            "fields-1-display_name": "Amount",
            "fields-1-base_type": "decimal",
            "fields-1-position": "0",
        }
    )
    response = steward.post(url(StructType, "change", struct.pk), data)
    assert response.status_code == 302
    assert [f.api_name for f in struct.fields.all()] == ["amount"]
    assert WorkingChange.objects.filter(rid=struct.rid).exists()


def test_interface_relations_are_saved_through_the_service(steward, ontology, work):
    iface = ontology[Interface]
    base = InterfaceFactory(branch=work, api_name="Named")
    data = form_data(steward.get(url(Interface, "change", iface.pk)))
    data["extends"] = [str(base.pk)]
    response = steward.post(url(Interface, "change", iface.pk), data)
    assert response.status_code == 302
    assert list(iface.extends.all()) == [base]
    assert WorkingChange.objects.filter(rid=iface.rid, kind="interface").exists()


# --- deletion ----------------------------------------------------------------------------


def test_deleting_an_object_type_used_by_a_link_type_is_refused(steward, ontology):
    airport = ontology[LinkType].target
    confirm = steward.get(url(ObjectType, "delete", airport.pk))
    assert "departsFrom" in " ".join(messages_of(confirm))
    response = steward.post(url(ObjectType, "delete", airport.pk), {"post": "yes"})
    assert response.status_code == 302
    assert "link type 'departsFrom'" in " ".join(messages_of(response))
    assert ObjectType.objects.filter(pk=airport.pk).exists()


def test_bulk_deleting_an_object_type_in_use_is_refused(steward, ontology):
    airport = ontology[LinkType].target
    data = {"action": "delete_selected", "_selected_action": [str(airport.pk)]}
    for step in (data, {**data, "post": "yes"}):
        response = steward.post(url(ObjectType, "changelist"), step)
        assert response.status_code == 302
        assert "link type 'departsFrom'" in " ".join(messages_of(response))
    assert ObjectType.objects.filter(pk=airport.pk).exists()


def test_bulk_delete_deletes_what_it_can_and_names_the_users_of_the_rest(steward, work):
    flight = ObjectTypeFactory(branch=work, api_name="Flight", properties=1)
    airport = ObjectTypeFactory(branch=work, api_name="Airport", properties=1)
    lonely = ObjectTypeFactory(branch=work, api_name="Lonely", properties=2)
    spare = ObjectTypeFactory(branch=work, api_name="Spare")
    LinkTypeFactory(branch=work, api_name="departsFrom", source=flight, target=airport)
    InterfaceLinkConstraintFactory(
        interface=InterfaceFactory(branch=work, api_name="Located"),
        api_name="at",
        target_object_type=airport,
    )
    selected = [str(r.pk) for r in (flight, airport, lonely, spare)]
    data = {"action": "delete_selected", "_selected_action": selected}

    # the confirmation lists the deletable ones; the others are named with their users
    confirm = steward.post(url(ObjectType, "changelist"), data)
    assert confirm.status_code == 200
    assert {o.pk for o in confirm.context["queryset"]} == {lonely.pk, spare.pk}
    shown = " ".join(messages_of(confirm))
    assert "'Flight' cannot be deleted" in shown and "link type 'departsFrom'" in shown
    assert "interface link constraint" in shown and "'Airport' cannot be deleted" in shown

    # confirming deletes through the services: one event per deleted entity
    before = set(OutboxEvent.objects.values_list("pk", flat=True))
    response = steward.post(url(ObjectType, "changelist"), {**data, "post": "yes"})
    assert response.status_code == 302
    assert set(ObjectType.objects.filter(branch=work).values_list("api_name", flat=True)) == {
        "Flight",
        "Airport",
    }
    deleted = OutboxEvent.objects.exclude(pk__in=before)
    assert sorted(e.data["apiName"] for e in deleted) == ["Lonely", "Spare"]
    assert {e.type for e in deleted} == {"com.oms.ontology.object_type.deleted.v1"}
    shown = messages_of(response)
    assert any(m.startswith("Deleted 2 object types") for m in shown)
    refused = [m for m in shown if "was not deleted" in m]
    assert len(refused) == 2
    assert any("'Flight' was not deleted" in m and "departsFrom" in m for m in refused)
    assert any("'Airport' was not deleted" in m and "departsFrom" in m for m in refused)
    assert WorkingChange.objects.filter(rid__in=[lonely.rid, spare.rid]).count() == 2


def test_deleting_unused_rows_goes_through_the_service(steward, work):
    lonely = ObjectTypeFactory(branch=work, api_name="Lonely", properties=1)
    other = ObjectTypeFactory(branch=work, api_name="Other")
    response = steward.post(url(ObjectType, "delete", lonely.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not ObjectType.objects.filter(pk=lonely.pk).exists()
    assert WorkingChange.objects.filter(rid=lonely.rid).exists()
    data = {"action": "delete_selected", "_selected_action": [str(other.pk)], "post": "yes"}
    steward.post(url(ObjectType, "changelist"), data)
    assert not ObjectType.objects.filter(pk=other.pk).exists()
    assert WorkingChange.objects.filter(rid=other.rid).exists()


def test_removing_a_property_used_as_foreign_key_is_refused(steward, work):
    airport = ObjectTypeFactory(branch=work, api_name="Airport", properties=1)
    flight = ObjectTypeFactory(branch=work, api_name="Flight", properties=1)
    fk = PropertyFactory(object_type=flight, api_name="airportCode", position=1)
    LinkTypeFactory(
        branch=work,
        api_name="departsFrom",
        source=flight,
        target=airport,
        cardinality="ONE_TO_MANY",
        foreign_key_property=fk,
    )
    data = form_data(steward.get(url(ObjectType, "change", flight.pk)))
    data["properties-1-DELETE"] = "on"
    response = steward.post(url(ObjectType, "change", flight.pk), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert "departsFrom" in " ".join(errors)
    assert Property.objects.filter(pk=fk.pk).exists()


# --- branches ----------------------------------------------------------------------------


def test_creating_a_branch_copies_the_source_rows(admin_client, main):
    flight = ObjectTypeFactory(branch=main, api_name="Flight", properties=2)
    response = admin_client.post(
        reverse("admin:versioning_branch_add"),
        {"name": "feature/gates", "create_from": "main", "description": "Gates"},
    )
    assert response.status_code == 302
    branch = Branch.objects.get(name="feature/gates")
    assert branch.created_from == "main" and not branch.protected
    copy = ObjectType.objects.get(branch=branch, rid=flight.rid)
    assert copy.properties.count() == 2
    assert copy.primary_key.rid == flight.primary_key.rid
    select(admin_client, branch)
    page = admin_client.get(url(ObjectType, "changelist"))
    assert [o.pk for o in page.context["cl"].result_list] == [copy.pk]


def test_branch_list_shows_its_columns(admin_client, work):
    page = admin_client.get(reverse("admin:versioning_branch_changelist")).content.decode()
    for heading in (
        "Name",
        "State",
        "Vs main",
        "Uncommitted",
        "Proposals",
        "Head",
        "Created from",
    ):
        assert heading in page


def test_main_and_protected_branches_cannot_be_deleted(admin_client, main, work):
    changelist = reverse("admin:versioning_branch_changelist")
    assert admin_client.get(
        reverse("admin:versioning_branch_delete", args=[main.pk])
    ).status_code == (403)
    data = {"action": "delete_selected", "_selected_action": [str(main.pk)], "post": "yes"}
    response = admin_client.post(changelist, data)
    assert "cannot be deleted: main" in " ".join(messages_of(response))
    assert Branch.objects.filter(pk=main.pk).exists()
    data["_selected_action"] = [str(work.pk)]
    admin_client.post(changelist, data)
    assert not Branch.objects.filter(pk=work.pk).exists()


def test_deleting_a_working_branch_drops_its_rows(admin_client, work):
    ObjectTypeFactory(branch=work, api_name="Flight", properties=2)
    page = admin_client.get(reverse("admin:versioning_branch_delete", args=[work.pk]))
    assert "its working copy" in page.content.decode()
    response = admin_client.post(
        reverse("admin:versioning_branch_delete", args=[work.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Branch.objects.filter(pk=work.pk).exists()
    assert not ObjectType.objects.filter(api_name="Flight").exists()


def test_model_permissions_still_apply_on_a_working_branch(client, work):
    viewer = UserFactory(is_staff=True, permissions=["ontology.view_objecttype"])
    client.force_login(viewer)
    select(client, work)
    assert client.get(url(ObjectType, "changelist")).status_code == 200
    assert client.get(url(ObjectType, "add")).status_code == 403
    assert client.get(url(ValueType, "changelist")).status_code == 403
