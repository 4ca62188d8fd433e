"""Links to an interface (issue 10): a many-to-many link whose source or target is an
interface, valid for every object type implementing it, through the API, the admin, the
rule set (one end kind per side, many-to-many only, implementers' link constraints), delete
protection, merges and bundles."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ontology import bundles, services
from ontology.bundles_import import import_bundle, parse
from ontology.documents import to_documents
from ontology.exceptions import InUseError
from ontology.models import Interface, LinkType, ObjectType
from ontology.rule_set.rows import check_documents
from tests.factories import (
    BranchFactory,
    InterfaceFactory,
    InterfaceLinkConstraintFactory,
    ObjectTypeFactory,
)

from .conftest import url
from .test_admin import form_data, select
from .test_admin import url as admin_url

pytestmark = pytest.mark.django_db


def consent_link(branch, *, source, target=None, target_interface=None, **kw) -> LinkType:
    """Consent -> Subject (many-to-many), saved through the services."""
    link = LinkType(
        branch=branch,
        api_name=kw.pop("api_name", "consentSubjects"),
        cardinality=kw.pop("cardinality", "MANY_TO_MANY"),
        source=source,
        target=target,
        target_interface=target_interface,
        source_api_name="subjects",
        source_display_name="Subjects",
        target_api_name="consents",
        target_display_name="Consents",
        **kw,
    )
    services.save(link)
    return link


@pytest.fixture
def subjects(dev):
    """Person and Group implement Subject; Consent is what links to a subject."""
    subject = InterfaceFactory(branch=dev, api_name="Subject")
    person = ObjectTypeFactory(branch=dev, api_name="Person", properties=1)
    group = ObjectTypeFactory(branch=dev, api_name="Group", properties=1)
    person.interfaces.add(subject)
    group.interfaces.add(subject)
    consent = ObjectTypeFactory(branch=dev, api_name="Consent", properties=1)
    return {"Subject": subject, "Person": person, "Group": group, "Consent": consent}


# --- REST -------------------------------------------------------------------------------------

PAYLOAD = {
    "apiName": "consentSubjects",
    "cardinality": "MANY_TO_MANY",
    "source": "Consent",
    "targetInterface": "Subject",
    "sourceSide": {"apiName": "subjects", "displayName": "Subjects"},
    "targetSide": {"apiName": "consents", "displayName": "Consents"},
}


def test_the_api_creates_reads_and_updates_a_link_to_an_interface(api, subjects):
    subject, person = subjects["Subject"], subjects["Person"]
    response = api.post(url("dev", "link-types"), PAYLOAD, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["target"] is None
    assert body["targetInterface"] == {"rid": str(subject.rid), "apiName": "Subject"}
    assert body["sourceInterface"] is None
    link = LinkType.objects.get(branch__name="dev", api_name="consentSubjects")
    assert (link.target_id, link.target_interface_id) == (None, subject.pk)
    doc = to_documents(link.branch_id, [str(link.rid)])[str(link.rid)]
    assert doc["target"] is None and doc["targetInterface"] == str(subject.rid)
    assert "sourceInterface" not in doc  # set-only: links between object types keep hashes

    read = api.get(url("dev", "link-types", "consentSubjects")).json()
    assert read["targetInterface"]["apiName"] == "Subject"

    # narrowed to one implementer: the interface end cleared, the object type set
    response = api.patch(
        url("dev", "link-types", "consentSubjects"),
        {"target": "Person", "targetInterface": None},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["target"]["apiName"] == "Person"
    link.refresh_from_db()
    assert (link.target_id, link.target_interface_id) == (person.pk, None)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"target": "Person"}, "target", "exactly one object type or one interface"),
        ({"cardinality": "ONE_TO_MANY"}, "targetInterface", "Only a many-to-many link"),
        ({"targetInterface": "Nobody"}, "targetInterface", ""),
        ({"targetInterface": None}, "target", "exactly one object type or one interface"),
    ],
)
def test_bad_ends_are_a_400_naming_the_field(api, subjects, change, field, words):
    response = api.post(url("dev", "link-types"), {**PAYLOAD, **change}, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    shown = str(errors)
    assert field in shown and words in shown, errors
    assert not LinkType.objects.filter(api_name="consentSubjects").exists()


def test_the_database_holds_one_end_kind_per_side(subjects):
    link = consent_link(
        subjects["Consent"].branch,
        source=subjects["Consent"],
        target=None,
        target_interface=subjects["Subject"],
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LinkType.objects.filter(pk=link.pk).update(target=subjects["Person"])


# --- rules over documents -------------------------------------------------------------------


def test_the_rule_set_refuses_two_ends_on_a_side_and_an_interface_end_with_a_foreign_key(
    dev, subjects
):
    link = consent_link(dev, source=subjects["Consent"], target_interface=subjects["Subject"])
    rid = str(link.rid)
    doc = to_documents(dev.pk, [rid])[rid]
    both = {**doc, "target": str(subjects["Person"].rid)}
    assert [(v.rule, v.path) for v in check_documents(dev.pk, {rid: both})] == [
        ("link-end", ("target",))
    ]
    one_to_many = {**doc, "cardinality": "ONE_TO_MANY"}
    found = {(v.rule, v.path) for v in check_documents(dev.pk, {rid: one_to_many})}
    assert ("link-end", ("targetInterface",)) in found
    gone = {**doc, "targetInterface": str(subjects["Person"].rid)}  # an object type's rid
    assert [(v.rule, v.path) for v in check_documents(dev.pk, {rid: gone})] == [
        ("reference", ("targetInterface",))
    ]


def test_a_referenced_interface_cannot_be_deleted(dev, subjects, api):
    consent_link(dev, source=subjects["Consent"], target_interface=subjects["Subject"])
    subjects["Person"].interfaces.clear()
    subjects["Group"].interfaces.clear()
    with pytest.raises(InUseError, match="link type 'consentSubjects'"):
        services.delete(subjects["Subject"])
    response = api.delete(url("dev", "interfaces", "Subject"))
    assert response.status_code in (400, 409), response.content
    assert "consentSubjects" in response.content.decode()
    assert Interface.objects.filter(pk=subjects["Subject"].pk).exists()


def _owned(dev, subjects):
    """Consent must be linked to some Subject (required, MANY): interface Consented asks it
    of its implementers, and Consent implements it."""
    consented = InterfaceFactory(branch=dev, api_name="Consented")
    InterfaceLinkConstraintFactory(
        interface=consented,
        api_name="subjects",
        target_interface=subjects["Subject"],
        cardinality="MANY",
        required=True,
    )
    return consented


def test_a_link_from_an_interface_meets_its_implementers_link_constraints(dev, subjects):
    """Documents implement Filed, which asks for a link to a Subject; the link
    Filed -> Subject serves every implementer of Filed, and is checked when one changes."""
    filed = InterfaceFactory(branch=dev, api_name="Filed")
    InterfaceLinkConstraintFactory(
        interface=filed,
        api_name="owners",
        target_interface=subjects["Subject"],
        cardinality="MANY",
        required=True,
    )
    document = ObjectTypeFactory(branch=dev, api_name="Document", properties=1)
    with pytest.raises(ValidationError, match="interface-link-constraints"):
        services.save_object_type(dev, {}, instance=document, interfaces=[filed])

    link = LinkType(
        branch=dev,
        api_name="filedOwners",
        cardinality="MANY_TO_MANY",
        source_interface=filed,
        target_interface=subjects["Subject"],
        source_api_name="owners",
        source_display_name="Owners",
        target_api_name="files",
        target_display_name="Files",
    )
    services.save(link)
    services.save_object_type(dev, {}, instance=document, interfaces=[filed])
    assert list(document.interfaces.all()) == [filed]

    # the link now serves Document: it cannot go while Document implements Filed
    with pytest.raises(ValidationError) as exc:
        services.delete(link)
    assert f"{document.rid}.interfaces.{filed.rid}" in exc.value.message_dict
    # nor can its target become an interface Subject does not extend
    other = InterfaceFactory(branch=dev, api_name="Other")
    link = LinkType.objects.get(branch=dev, api_name="filedOwners")  # delete() cleared pk
    link.target_interface = other
    with pytest.raises(ValidationError, match="interface-link-constraints"):
        services.save(link)
    assert LinkType.objects.get(pk=link.pk).target_interface_id == subjects["Subject"].pk


def test_an_object_type_at_the_far_end_meets_a_constraint_to_the_interface(dev, subjects):
    consented = _owned(dev, subjects)
    consent = subjects["Consent"]
    consent_link(dev, source=consent, target_interface=subjects["Subject"])
    services.save_object_type(dev, {}, instance=consent, interfaces=[consented])
    assert list(consent.interfaces.all()) == [consented]


# --- merges -----------------------------------------------------------------------------------


def test_a_merge_adding_a_link_to_an_interface_another_removed_is_a_block():
    from tests.versioning.support import steward
    from versioning import services as versioning

    author, reviewer = steward("author"), steward("reviewer")
    main = BranchFactory(name="main", protected=True)
    subject = InterfaceFactory(branch=main, api_name="Subject")
    ObjectTypeFactory(branch=main, api_name="Consent", properties=1)
    versioning.commit_changes(main, None, "subject and consent", system=True)

    a = versioning.create_branch("a", "main", author)
    b = versioning.create_branch("b", "main", author)
    link = consent_link(
        a,
        source=ObjectType.objects.get(branch=a, api_name="Consent"),
        target_interface=Interface.objects.get(branch=a, rid=subject.rid),
    )
    versioning.commit_changes(a, author, "consents link subjects")
    services.delete(Interface.objects.get(branch=b, rid=subject.rid))
    versioning.commit_changes(b, author, "no more subjects")
    assert [c.rid for c in versioning.diff("main", "a").changes] == [str(link.rid)]

    proposal = versioning.open_proposal(b, main, "from b", author)
    versioning.approve(proposal, reviewer)
    versioning.merge_proposal(proposal, reviewer)
    proposal = versioning.open_proposal(a, main, "from a", author)
    blocks = [c for c in versioning.dry_run(proposal)["conflicts"] if c["severity"] == "BLOCK"]
    assert [(c["apiName"], c["path"]) for c in blocks] == [("consentSubjects", ["targetInterface"])]
    assert Interface.objects.filter(branch__name="main").count() == 0  # main stays valid


def test_the_diff_and_the_classifier_show_an_end_turned_into_an_interface(dev, subjects):
    from versioning import services as versioning
    from versioning.domain.compatibility import Compatibility as C

    link = consent_link(dev, source=subjects["Consent"], target=subjects["Person"])
    first = versioning.commit_changes(dev, None, "consents of persons", system=True)
    link.target, link.target_interface = None, subjects["Subject"]
    services.save(link)
    second = versioning.commit_changes(dev, None, "consents of any subject", system=True)
    [change] = versioning.compare_commits(first.id, second.id).diff.changes
    assert {(f.path, f.old, f.new) for f in change.fields} == {
        (("target",), str(subjects["Person"].rid), None),
        (("targetInterface",), None, str(subjects["Subject"].rid)),
    }
    from versioning.releases import classify_commits

    [classified] = classify_commits(first.id, second.id)  # Person unchanged: read from the tree
    assert (classified.kind, classified.compatibility) == ("target_widened", C.BACKWARD_COMPATIBLE)
    assert classified.path == ("targetInterface",)


# --- admin ------------------------------------------------------------------------------------


def test_the_admin_adds_a_link_to_an_interface_and_explains_a_wrong_one(admin_client, subjects):
    dev = subjects["Subject"].branch
    select(admin_client, dev)
    page = admin_client.get(admin_url(LinkType, "add"))
    form = page.context["adminform"].form
    assert set(form.fields["target_interface"].queryset) == {subjects["Subject"]}
    data = {
        **form_data(page),
        "api_name": "consentSubjects",
        "cardinality": "ONE_TO_MANY",
        "source": str(subjects["Consent"].pk),
        "target_interface": str(subjects["Subject"].pk),
        "source_api_name": "subjects",
        "source_display_name": "Subjects",
        "target_api_name": "consents",
        "target_display_name": "Consents",
        "status": "ACTIVE",
    }
    refused = admin_client.post(admin_url(LinkType, "add"), data)
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "Only a many-to-many link" in str(errors["target_interface"])
    assert not LinkType.objects.filter(api_name="consentSubjects").exists()

    response = admin_client.post(
        admin_url(LinkType, "add"), {**data, "cardinality": "MANY_TO_MANY"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    link = LinkType.objects.get(branch=dev, api_name="consentSubjects")
    assert link.target_interface == subjects["Subject"] and link.target is None
    listing = admin_client.get(admin_url(LinkType, "changelist")).content.decode()
    assert "Subject</a> <small>(interface)</small>" in listing


# --- bundles ----------------------------------------------------------------------------------


def test_a_bundle_carries_a_link_to_an_interface(dev, subjects):
    consent_link(dev, source=subjects["Consent"], target_interface=subjects["Subject"])
    data = bundles.export("dev")
    [doc] = data["documents"]["linkType"]
    assert doc["targetInterface"] == str(subjects["Subject"].rid)
    copy_to = BranchFactory(name="copy")
    import_bundle(copy_to, parse(json.loads(bundles.dumps(data, "json"))))
    assert to_documents(copy_to.pk) == to_documents(dev.pk)
    assert bundles.export("copy")["documents"] == data["documents"]
    link = LinkType.objects.get(branch=copy_to)
    assert link.target_interface == Interface.objects.get(branch=copy_to, api_name="Subject")


# --- compatibility classes of an end's change ---------------------------------------------


def _docs():
    """Person implements Subject (extending Party); Robot implements nothing."""
    party = {"kind": "interface", "rid": "party", "apiName": "Party", "extends": {}}
    subject = {"kind": "interface", "rid": "subj", "apiName": "Subject", "extends": {"party": True}}
    person = {
        "kind": "objectType",
        "rid": "person",
        "apiName": "Person",
        "interfaces": {"subj": True},
    }
    robot = {"kind": "objectType", "rid": "robot", "apiName": "Robot", "interfaces": {}}
    return {d["rid"]: d for d in (party, subject, person, robot)}


def _link(**end):
    doc = {
        "kind": "linkType",
        "rid": "lt",
        "apiName": "consentSubjects",
        "cardinality": "MANY_TO_MANY",
        "source": "consent",
        "target": None,
    }
    return {**doc, **end}


@pytest.mark.parametrize(
    ("old", "new", "kind", "compat"),
    [
        (
            {"target": "person"},
            {"targetInterface": "subj"},
            "target_widened",
            "BACKWARD_COMPATIBLE",
        ),
        (
            {"target": "person"},
            {"targetInterface": "party"},
            "target_widened",
            "BACKWARD_COMPATIBLE",
        ),
        (
            {"targetInterface": "subj"},
            {"target": "person"},
            "target_narrowed",
            "MIGRATION_REQUIRED",
        ),
        (
            {"targetInterface": "subj"},
            {"targetInterface": "party"},
            "target_widened",
            "BACKWARD_COMPATIBLE",
        ),
        (
            {"targetInterface": "party"},
            {"targetInterface": "subj"},
            "target_narrowed",
            "MIGRATION_REQUIRED",
        ),
        ({"target": "robot"}, {"targetInterface": "subj"}, "target_changed", "INCOMPATIBLE"),
        ({"targetInterface": "subj"}, {"target": "robot"}, "target_changed", "INCOMPATIBLE"),
        ({"target": "person"}, {"target": "robot"}, "target_changed", "INCOMPATIBLE"),
    ],
)
def test_each_change_of_an_end_has_its_class(old, new, kind, compat):
    from ontology.compatibility import classify

    context = _docs()
    before = {**context, "lt": _link(**old)}
    after = {**context, "lt": _link(**new)}
    [change] = classify(before, after)
    assert (change.kind, change.compatibility.value) == (kind, compat)
    assert (change.migration is None) == (kind.endswith("widened"))


# --- generated schemas ------------------------------------------------------------------------


def test_generated_schemas_type_a_link_to_an_interface(dev, subjects):
    from graphql import build_schema, validate_schema

    from ontology.schemas import graphql, jsonschema, openapi

    from .test_schemas import assert_valid

    consent_link(dev, source=subjects["Consent"], target_interface=subjects["Subject"])
    docs = list(to_documents(dev.pk).values())
    assert_valid(docs)

    schema = build_schema(graphql.generate(docs))
    assert validate_schema(schema) == []
    assert str(schema.get_type("Consent").fields["subjects"].type) == "[Subject!]!"
    assert str(schema.get_type("Subject").fields["consents"].type) == "[Consent!]!"
    for name in ("Person", "Group"):  # implementers carry the interface's link field
        person = schema.get_type(name)
        assert [i.name for i in person.interfaces] == ["Subject"]
        assert str(person.fields["consents"].type) == "[Consent!]!"

    defs = jsonschema.generate(docs)["$defs"]
    assert defs["Subject"]["anyOf"] == [{"$ref": "#/$defs/Group"}, {"$ref": "#/$defs/Person"}]

    paths = openapi.generate(docs)["paths"]
    answer = paths["/objects/Consent/{primaryKey}/links/subjects"]["get"]["responses"]["200"]
    page = answer["content"]["application/json"]["schema"]
    assert page["properties"]["data"]["items"] == {"$ref": "#/components/schemas/Subject"}
    assert "/objects/Person/{primaryKey}/links/consents" in paths
