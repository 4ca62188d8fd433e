"""Bundles: export, import, round trip, matching, every error located, nothing written."""

from __future__ import annotations

import copy
import io
import json

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.test import override_settings

from events.models import OutboxEvent
from ontology import bundles
from ontology.bundles_import import import_bundle, parse
from ontology.documents import to_documents
from ontology.models import ObjectType, Property, ValueType
from tests.factories import BranchFactory, ValueTypeFactory
from versioning.models import Branch, WorkingChange

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def demo():
    run("load_demo_ontology")
    return Branch.objects.get(name="main")


@pytest.fixture
def empty():
    return BranchFactory(name="empty")


def exported(ref: str, fmt: str = "json") -> str:
    return bundles.dumps(bundles.export(ref), fmt)


def without_time(text: str, fmt: str) -> dict:
    data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    del data["manifest"]["exportedAt"]
    return data


def state(branch) -> tuple:
    return (
        to_documents(branch.pk),
        OutboxEvent.objects.count(),
        WorkingChange.objects.filter(branch=branch).count(),
    )


def demo_data(demo) -> dict:
    return json.loads(exported(demo.name))


def do_import(branch, data, **kw):
    return import_bundle(branch, parse(data), **kw)


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_round_trip_is_byte_identical_but_for_the_manifest_source_and_time(
    demo, empty, tmp_path, fmt
):
    first = tmp_path / f"first.{fmt}"
    run("export_ontology", "--ref", "main", "--format", fmt, "--output", str(first))
    out = run("import_ontology", str(first), "--branch", "empty", "--commit", "--message", "rt")
    assert "66 created" in out
    empty.refresh_from_db()
    second = exported("empty", fmt)
    a, b = without_time(first.read_text(), fmt), without_time(second, fmt)
    assert a["manifest"]["source"]["ref"] == "main" and b["manifest"]["source"]["ref"] == "empty"
    assert b["manifest"]["source"]["commit"] == empty.head_id
    a["manifest"].pop("source"), b["manifest"].pop("source")
    assert a == b
    # the documents part, as text, is the same bytes
    text_a, text_b = first.read_text(), second
    assert text_a[text_a.index("documents") :] == text_b[text_b.index("documents") :]


def test_export_of_a_commit_and_of_a_branch_with_uncommitted_edits(demo, empty):
    head = demo.head_id
    do_import(empty, demo_data(demo))
    bundle = bundles.export("empty")
    assert bundle["manifest"]["source"] == {"ref": "empty", "commit": None, "uncommitted": True}
    by_commit = bundles.export(head[:10])
    assert by_commit["manifest"]["source"]["commit"] == head
    assert by_commit["documents"] == bundle["documents"]


def test_bundle_groups_kinds_in_dependency_order_and_sorts_each_group(demo):
    bundle = bundles.export("main")
    assert list(bundle["documents"]) == list(bundles.KINDS)
    for docs in bundle["documents"].values():
        keys = [(d["apiName"].lower(), d["rid"]) for d in docs]
        assert keys == sorted(keys)
        assert all(list(d) == sorted(d) for d in docs)
    assert bundle["manifest"]["counts"]["objectType"] == len(bundle["documents"]["objectType"])


# --- re-import, renames, deletions ------------------------------------------------------------


def test_reimport_is_a_no_op(demo, empty):
    data = demo_data(demo)
    do_import(empty, data, commit=True, message="first")
    before = state(empty)
    result = do_import(empty, data)
    assert result.changed == 0
    assert state(empty) == before


def test_bundle_without_rids_matches_by_kind_and_api_name(demo, empty):
    data = demo_data(demo)
    do_import(empty, data, commit=True, message="first")
    before = state(empty)
    stripped = copy.deepcopy(data)
    for docs in stripped["documents"].values():
        for doc in docs:
            del doc["rid"]
    assert do_import(empty, stripped).changed == 0
    assert state(empty) == before


def test_rename_through_reimport_keeps_identity(demo, empty):
    data = demo_data(demo)
    do_import(empty, data)
    flight = next(d for d in data["documents"]["objectType"] if d["apiName"] == "Flight")
    flight["apiName"] = "Sortie"
    pk = flight["primaryKey"]
    flight["properties"][pk]["apiName"] = "sortieId"
    result = do_import(empty, data)
    assert result.updated == [flight["rid"]] and not result.created and not result.deleted
    row = ObjectType.objects.get(branch=empty, rid=flight["rid"])
    assert row.api_name == "Sortie" and row.primary_key.api_name == "sortieId"
    assert str(row.primary_key.rid) == pk


def test_rename_from_a_foreign_bundle_matches_children_by_name(demo, empty):
    """A bundle from elsewhere (other rids) keeps the branch's rids for the entities and
    properties it names the same way."""
    data = demo_data(demo)
    do_import(empty, data, commit=True, message="first")
    before = state(empty)
    foreign = copy.deepcopy(data)
    text = json.dumps(foreign)
    import uuid

    for docs in data["documents"].values():
        for doc in docs:
            for rid in [doc["rid"], *doc.get("properties", {}), *doc.get("fields", {})]:
                text = text.replace(rid, str(uuid.uuid4()))
    foreign = json.loads(text)
    assert do_import(empty, foreign).changed == 0
    assert state(empty) == before


def test_entities_missing_from_the_bundle_are_deleted(demo, empty):
    data = demo_data(demo)
    do_import(empty, data)
    gone = data["documents"]["linkType"].pop(0)
    result = do_import(empty, data)
    assert result.deleted == [gone["rid"]]
    assert gone["rid"] not in to_documents(empty.pk)


def test_rows_sent_by_copy_read_back_as_written(demo, empty, monkeypatch, postgres_db):
    """PostgreSQL is sent many new rows by COPY (text format): what it escapes (tabs,
    newlines, backslashes) and JSON examples come back as they were written."""
    from ontology import workspace_rows

    monkeypatch.setattr(workspace_rows, "COPY_AT", 1)
    data = demo_data(demo)
    ot = data["documents"]["objectType"][0]
    ot["description"] = "tab\there, new\nline, back\\slash \\N, ünïcödé"
    prid = next(iter(ot["properties"]))
    ot["properties"][prid]["examples"] = ["a\tb", "c\\d", 'quote " and \\N']
    do_import(empty, data, commit=True, message="by copy")
    written = to_documents(empty.pk, [ot["rid"]])[ot["rid"]]
    assert written["description"] == ot["description"]
    assert written["properties"][prid]["examples"] == ot["properties"][prid]["examples"]
    assert do_import(empty, data).changed == 0
    again = json.loads(exported("empty"))
    assert again["documents"] == data["documents"]


# --- errors -----------------------------------------------------------------------------------


def test_every_error_is_located_and_nothing_is_written(demo, empty):
    data = demo_data(demo)
    do_import(empty, data, commit=True, message="first")
    before = state(empty)
    bad = copy.deepcopy(data)
    ots = bad["documents"]["objectType"]
    ots[0]["apiName"] = "bad name"
    prop = next(iter(ots[1]["properties"]))
    ots[1]["properties"][prop]["valueType"] = "00000000-0000-0000-0000-000000000000"
    bad["documents"]["linkType"][2]["cardinality"] = 7
    bad["documents"]["linkType"][3]["target"] = bad["documents"]["valueType"][0]["rid"]
    with pytest.raises(bundles.BundleError) as caught:
        do_import(empty, bad)
    pointers = {e["pointer"] for e in caught.value.errors}
    assert "/documents/objectType/0/apiName" in pointers
    assert "/documents/linkType/2/cardinality" in pointers
    assert state(empty) == before
    # with the shape fixed, the rules of the tree report each of theirs at once
    bad["documents"]["linkType"][2]["cardinality"] = "MANY_TO_MANY"
    with pytest.raises(bundles.BundleError) as caught:
        do_import(empty, bad)
    pointers = {e["pointer"] for e in caught.value.errors}
    assert {
        "/documents/objectType/0/apiName",
        f"/documents/objectType/1/properties/{prop}/valueType",
        "/documents/linkType/3/target",
    } <= pointers, caught.value.errors
    assert state(empty) == before


def test_a_bundle_that_breaks_a_model_rule_writes_nothing(demo, empty):
    data = demo_data(demo)
    do_import(empty, data, commit=True, message="first")
    before = state(empty)
    bad = copy.deepcopy(data)
    vt = next(d for d in bad["documents"]["valueType"] if d["baseType"] == "string")
    ot = bad["documents"]["objectType"][0]
    prid = next(r for r, p in ot["properties"].items() if p["baseType"] != "string")
    ot["properties"][prid]["valueType"] = vt["rid"]
    ot["properties"][prid]["baseType"] = "integer"
    bad["documents"]["valueType"][0]["status"] = "DEPRECATED"  # no message, no deadline
    with pytest.raises(bundles.BundleError) as caught:
        do_import(empty, bad)
    pointers = {e["pointer"] for e in caught.value.errors}
    assert f"/documents/objectType/0/properties/{prid}/valueType" in pointers
    assert "/documents/valueType/0/deprecation/message" in pointers
    assert state(empty) == before


#: faults only the rows hold (what their columns take, whether a token names a stored
#: value): (kind, child key, the key set in the first document of the kind or its first
#: child, the value, the key the error is reported at, a word of its message)
ROW_FAULTS = {
    "blank display name": ("objectType", None, "displayName", "", "displayName", "blank"),
    "blank plural": ("objectType", None, "pluralDisplayName", "", "pluralDisplayName", "blank"),
    "blank property name": ("objectType", "properties", "displayName", "", "displayName", "blank"),
    "blank struct field name": ("structType", "fields", "displayName", "", "displayName", "blank"),
    "over-long display name": (
        "objectType",
        None,
        "displayName",
        "x" * 201,
        "displayName",
        "at most 200",
    ),
    "over-long icon": ("interface", None, "icon", "x" * 61, "icon", "at most 60"),
    "over-long property name": (
        "objectType",
        "properties",
        "displayName",
        "y" * 300,
        "displayName",
        "at most 200",
    ),
    "NUL in a description": ("objectType", None, "description", "a\x00b", "description", "Null"),
    "NUL in an example": ("objectType", "properties", "examples", ["a\x00b"], "examples", "Null"),
    "negative position": (
        "objectType",
        "properties",
        "position",
        -1,
        "position",
        "greater than or equal to 0",
    ),
    "position not a number": (
        "structType",
        "fields",
        "position",
        "first",
        "position",
        "must be an integer",
    ),
    "required not a boolean": (
        "objectType",
        "properties",
        "required",
        "yes",
        "required",
        "True or False",
    ),
    "made-up example token": (
        "objectType",
        "properties",
        "examples",
        ["pii:" + "0" * 64],
        "examples",
        "names no protected value",
    ),
    "deadline not a date": (
        "objectType",
        "properties",
        "deprecation",
        {"message": "m", "deadline": "soon"},
        "deprecation/deadline",
        "YYYY-MM-DD",
    ),
}


@pytest.mark.parametrize("fault", sorted(ROW_FAULTS))
def test_a_fault_only_the_rows_hold_is_located_and_nothing_is_written(demo, empty, fault):
    """Checked before anything is written, on the values the rows would hold: a located
    400 (never a database error), and nothing changes."""
    kind, child_key, key, value, reported, words = ROW_FAULTS[fault]
    data = demo_data(demo)
    do_import(empty, data, commit=True, message="first")
    before = state(empty)
    holder, at = data["documents"][kind][0], f"/documents/{kind}/0"
    if child_key:
        crid = next(iter(holder[child_key]))
        holder, at = holder[child_key][crid], f"{at}/{child_key}/{crid}"
    holder[key] = value
    with pytest.raises(bundles.BundleError) as caught:
        do_import(empty, data)
    found = [e["message"] for e in caught.value.errors if e["pointer"] == f"{at}/{reported}"]
    assert found and words in found[0], caught.value.errors
    assert state(empty) == before


def test_a_link_sides_display_name_is_checked_as_its_column(demo, empty):
    data = demo_data(demo)
    data["documents"]["linkType"][0]["sourceSide"]["displayName"] = ""
    data["documents"]["linkType"][1]["targetSide"]["displayName"] = "z" * 300
    with pytest.raises(bundles.BundleError) as caught:
        do_import(empty, data)
    pointers = {e["pointer"] for e in caught.value.errors}
    assert {
        "/documents/linkType/0/sourceSide/displayName",
        "/documents/linkType/1/targetSide/displayName",
    } <= pointers
    assert not ObjectType.objects.filter(branch=empty).exists()


def test_faults_of_the_rows_and_of_the_tree_are_reported_together(demo, empty):
    data = demo_data(demo)
    ots = data["documents"]["objectType"]
    ots[0]["apiName"] = "bad name"
    ots[1]["displayName"] = ""
    with pytest.raises(bundles.BundleError) as caught:
        do_import(empty, data)
    pointers = {e["pointer"] for e in caught.value.errors}
    assert {"/documents/objectType/0/apiName", "/documents/objectType/1/displayName"} <= pointers
    assert not ObjectType.objects.filter(branch=empty).exists()


def test_shape_errors_of_the_bundle_itself():
    with pytest.raises(bundles.BundleError) as caught:
        parse({"manifest": {"format": "x"}, "documents": {"widget": [], "objectType": [1]}})
    pointers = {e["pointer"] for e in caught.value.errors}
    assert pointers == {
        "/manifest/format",
        "/manifest/formatVersion",
        "/documents/widget",
        "/documents/objectType/0",
    }
    with pytest.raises(bundles.BundleError, match="Not valid JSON"):
        bundles.loads(b"{nope")


@override_settings(OMS_MAX_BUNDLE_DOCUMENTS=3)
def test_too_many_documents_is_refused_before_matching(demo):
    with pytest.raises(bundles.BundleTooLargeError):
        parse(demo_data(demo))


def test_import_command_reports_every_error(demo, empty, tmp_path):
    data = demo_data(demo)
    data["documents"]["objectType"][0]["apiName"] = "bad name"
    data["documents"]["objectType"][1]["apiName"] = "worse name"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as caught:
        run("import_ontology", str(path), "--branch", "empty", "--no-progress")
    assert "/documents/objectType/0/apiName" in str(caught.value)
    assert "/documents/objectType/1/apiName" in str(caught.value)
    assert not ObjectType.objects.filter(branch=empty).exists()


def test_import_commits_with_the_message(demo, empty):
    result = do_import(empty, demo_data(demo), commit=True, message="Seed from main")
    empty.refresh_from_db()
    assert result.commit == empty.head_id and empty.head.message == "Seed from main"
    assert not WorkingChange.objects.filter(branch=empty).exists()
    assert (
        Property.objects.filter(branch=empty).count()
        == Property.objects.filter(branch=demo).count()
    )
    assert ValueType.objects.filter(branch=empty).count() == 16


def test_error_pointers_name_the_bundles_own_child_rids(demo, empty):
    """A child matched by name is validated under the branch's rid; its error still points
    at the key the bundle gave it."""
    data = demo_data(demo)
    do_import(empty, data, commit=True, message="first")
    foreign = copy.deepcopy(data)
    ot = foreign["documents"]["objectType"][0]
    old = next(r for r in ot["properties"] if r not in (ot["primaryKey"], ot["titleProperty"]))
    ot["properties"]["11111111-2222-4333-8444-555555555555"] = ot["properties"].pop(old)
    ot["properties"]["11111111-2222-4333-8444-555555555555"]["apiName"] += " bad"
    with pytest.raises(bundles.BundleError) as caught:
        do_import(empty, foreign)
    pointers = {e["pointer"] for e in caught.value.errors}
    assert "/documents/objectType/0/properties/11111111-2222-4333-8444-555555555555/apiName" in (
        pointers
    ), pointers


@pytest.mark.parametrize("first_commit", [True, False])
def test_an_imports_commit_holds_what_the_rows_hold(demo, empty, first_commit):
    """The commit of an import reads the documents the import wrote as the rows hold
    them (read once for the events and the commit), and every other entity, an earlier
    uncommitted edit included, from the rows."""
    data = demo_data(demo)
    do_import(empty, data, commit=not first_commit, message="first")
    edited = copy.deepcopy(data)
    edited["documents"]["valueType"][0]["description"] = "An earlier, uncommitted edit."
    do_import(empty, edited)
    edited["documents"]["objectType"][0]["description"] = "Changed by the import."
    edited["documents"]["linkType"].pop(0)
    fresh = {k: v for k, v in data["documents"]["valueType"][1].items() if k != "rid"}
    edited["documents"]["valueType"].append({**fresh, "apiName": "Fresh"})
    result = do_import(empty, edited, commit=True, message="second")
    assert result.created and result.updated and result.deleted
    empty.refresh_from_db()
    assert result.commit == empty.head_id
    assert not WorkingChange.objects.filter(branch=empty).exists()
    assert bundles.export(empty.head_id)["documents"] == bundles.export("empty")["documents"]


def test_yaml_dates_written_without_quotes_are_read_as_text(demo, empty):
    data = demo_data(demo)
    deprecated = next(d for d in data["documents"]["objectType"] if d["deprecation"])
    text = bundles.dumps(data, "yaml")
    deadline = deprecated["deprecation"]["deadline"]
    text = text.replace(f"deadline: '{deadline}'", f"deadline: {deadline}")
    assert f"deadline: {deadline}\n" in text
    do_import(empty, bundles.loads(text))
    assert to_documents(empty.pk)[deprecated["rid"]]["deprecation"]["deadline"] == deadline


def test_the_commands_export_yaml_and_import_with_progress_and_commit(tmp_path):
    source = BranchFactory(name="source")
    ValueTypeFactory(branch=source, api_name="Code", base_type="time")
    path = tmp_path / "bundle.yaml"
    run("export_ontology", "--ref", "source", "--format", "yaml", "--output", str(path))
    target = BranchFactory(name="target")
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_ontology",
        str(path),
        "--branch",
        "target",
        "--commit",
        "--message",
        "Seed",
        stdout=out,
        stderr=err,
    )
    target.refresh_from_db()
    assert f"Committed as {target.head_id[:12]}." in out.getvalue()
    assert target.head.message == "Seed"
    assert "4/4" in err.getvalue()  # the progress bar, on standard error
    assert ValueType.objects.get(branch=target, api_name="Code").base_type == "time"
