"""The loaders and set-up commands: load_demo_ontology, generate_ontology, ensure_admin."""

from __future__ import annotations

import io
import stat
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from events.models import OutboxEvent
from ontology import rules
from ontology.documents import to_documents
from ontology.management.commands.load_demo_ontology import demo_bundle
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
from ontology.rule_set.rows import check_documents
from versioning.models import Branch, WorkingChange
from versioning.services import tree_at

pytestmark = pytest.mark.django_db

ALL_MODELS = (
    ValueType,
    StructType,
    StructField,
    SharedProperty,
    Interface,
    InterfaceLinkConstraint,
    ObjectType,
    Property,
    LinkType,
)


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (*ALL_MODELS, WorkingChange, OutboxEvent)}


@pytest.fixture
def main():
    return Branch.objects.get(name="main")


@pytest.fixture
def demo(main):
    run("load_demo_ontology")
    return main


# --- load_demo_ontology -----------------------------------------------------------------


def test_demo_rows_pass_every_model_rule(demo):
    for model in ALL_MODELS:
        rows = list(model.objects.filter(branch=demo))
        assert rows, f"the demo has no {model.__name__}"
        for row in rows:
            row.full_clean()
    # and the rule set (most rules are only there, docs/documents.md)
    assert check_documents(demo.pk, to_documents(demo.pk)) == []


def test_demo_has_the_required_variety(demo):
    assert ObjectType.objects.filter(branch=demo).count() >= 12
    cardinalities = Counter(LinkType.objects.values_list("cardinality", flat=True))
    assert {"ONE_TO_ONE", "ONE_TO_MANY", "MANY_TO_MANY"} <= set(cardinalities)
    constraint_kinds = set()
    for constraints in ValueType.objects.values_list("constraints", flat=True):
        constraint_kinds |= set(constraints)
    assert {"regex", "length", "enum", "range", "arraySize", "uniqueItems", "items"} <= (
        constraint_kinds
    )
    assert ValueType.objects.filter(
        constraints__enum__caseInsensitive=True, base_type="string"
    ).exists()
    assert ValueType.objects.filter(base_type="date", constraints__has_key="range").exists()
    assert StructType.objects.exists() and SharedProperty.objects.count() >= 2
    assert Interface.objects.filter(extends__isnull=False).exists()
    assert InterfaceLinkConstraint.objects.exists()
    assert ObjectType.objects.filter(interfaces__isnull=False).distinct().count() >= 3
    assert Property.objects.filter(pii=True).count() >= 3
    deprecated = ObjectType.objects.get(status="DEPRECATED")
    assert deprecated.deprecation_message and deprecated.deprecation_deadline
    assert deprecated.replaced_by is not None
    for ot in ObjectType.objects.all():
        assert ot.primary_key_id and ot.title_property_id, ot.api_name
        assert ot.description, ot.api_name


def test_demo_foreign_keys_match_the_target_primary_keys(demo):
    for link in LinkType.objects.exclude(cardinality="MANY_TO_MANY"):
        fk, pk = link.foreign_key_property, link.target.primary_key
        assert fk.object_type_id == link.source_id
        assert (fk.base_type, fk.item_type) == (pk.base_type, pk.item_type), link.api_name


def test_demo_rids_are_stable(demo):
    """The rows carry the rids of the demo bundle (ontology/demo_bundle.yaml)."""
    flight = ObjectType.objects.get(branch=demo, api_name="Flight")
    doc = next(d for d in demo_bundle().documents if d["apiName"] == "Flight")
    assert str(flight.rid) == doc["rid"]
    assert str(flight.primary_key.rid) == doc["primaryKey"]
    assert doc["properties"][doc["primaryKey"]]["apiName"] == "flightId"


def test_demo_is_recorded_like_any_change(demo):
    top_level = sum(
        m.objects.filter(branch=demo).count()
        for m in (ValueType, StructType, SharedProperty, Interface, ObjectType, LinkType)
    )
    assert len(to_documents(demo.pk)) == top_level
    assert OutboxEvent.objects.count() >= top_level
    # the load is main's first commit: it holds every entity and leaves nothing uncommitted
    demo.refresh_from_db()
    assert demo.head is not None and demo.head.parent_id is None
    assert len(tree_at(demo.head)) == top_level
    assert not WorkingChange.objects.filter(branch=demo).exists()


def test_demo_is_idempotent(demo):
    before = counts()
    out = run("load_demo_ontology")
    assert "already loaded" in out
    assert counts() == before


def test_demo_puts_back_only_what_is_missing(demo):
    LinkType.objects.filter(api_name="codesharePartners").delete()
    before = counts()
    out = run("load_demo_ontology")
    assert "1 linkType" in out
    after = counts()
    assert after["LinkType"] == before["LinkType"] + 1
    assert after["ObjectType"] == before["ObjectType"]


def test_demo_refuses_an_unknown_branch():
    with pytest.raises(CommandError, match="does not exist"):
        run("load_demo_ontology", "--branch", "nope")


# --- generate_ontology ------------------------------------------------------------------


@pytest.fixture
def scratch():
    return Branch.objects.create(name="scratch")


def test_generate_creates_n_by_m_valid_rows(scratch):
    out = run(
        "generate_ontology", "--object-types", "30", "--properties", "7", "--branch", "scratch"
    )
    assert "Generated on 'scratch'" in out and " s:" in out
    ots = ObjectType.objects.filter(branch=scratch)
    assert ots.count() == 30
    assert Property.objects.filter(branch=scratch).count() == 30 * 7
    for ot in ots:
        assert not rules.check_api_name(ot.api_name, rules.PASCAL)
        assert ot.primary_key.base_type == "string" and ot.title_property_id
        ot.full_clean()
    for model in (Property, ValueType, LinkType):
        for row in model.objects.filter(branch=scratch):
            row.full_clean()
    assert check_documents(scratch.pk, to_documents(scratch.pk)) == []
    links = LinkType.objects.filter(branch=scratch)
    assert links.filter(cardinality="ONE_TO_MANY").exists()
    top = [*ots, *ValueType.objects.filter(branch=scratch), *links]
    changes = WorkingChange.objects.filter(branch=scratch)
    assert {c.rid for c in changes} == {row.rid for row in top}
    assert len(to_documents(scratch.pk)) == len(top)


def test_generate_refuses_collisions_and_unknown_branches(scratch):
    run("generate_ontology", "--object-types", "3", "--properties", "3", "--branch", "scratch")
    with pytest.raises(CommandError, match="already exist"):
        run("generate_ontology", "--object-types", "3", "--properties", "3", "--branch", "scratch")
    with pytest.raises(CommandError, match="does not exist"):
        run("generate_ontology", "--object-types", "3", "--properties", "3", "--branch", "nope")
    with pytest.raises(CommandError, match="prefix"):
        run("generate_ontology", "--object-types", "3", "--properties", "3", "--prefix", "gen")
    out = run(
        "generate_ontology", "--object-types", "3", "--properties", "3", "--branch", "scratch",
        "--prefix", "Other",
    )  # fmt: skip
    assert "3 object types" in out


# --- ensure_admin -----------------------------------------------------------------------


@pytest.fixture
def var_dir(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("OMS_ADMIN_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_ensure_admin_is_idempotent_and_prints_the_login(var_dir):
    first = run("ensure_admin")
    stored = (var_dir / "admin-password.txt").read_text().strip()
    assert stat.S_IMODE((var_dir / "admin-password.txt").stat().st_mode) == 0o600
    assert "http://127.0.0.1:8000/admin/" in first and "admin" in first and stored in first
    assert run("ensure_admin") == first
    users = get_user_model().objects.filter(username="admin")
    assert users.count() == 1
    assert users[0].is_superuser and users[0].check_password(stored)


def test_ensure_admin_takes_the_password_from_the_environment(var_dir, monkeypatch):
    monkeypatch.setenv("OMS_ADMIN_PASSWORD", "from-the-env-1")
    assert "from-the-env-1" in run("ensure_admin")
    assert get_user_model().objects.get(username="admin").check_password("from-the-env-1")
    assert not (var_dir / "admin-password.txt").exists()


def test_ensure_admin_keeps_a_changed_password(var_dir):
    run("ensure_admin")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-in-the-admin")
    admin.save()
    assert "left as it is" in run("ensure_admin")
    admin.refresh_from_db()
    assert admin.check_password("changed-in-the-admin")


def test_ensure_admin_creates_the_role_groups(var_dir):
    run("ensure_admin")
    run("ensure_admin")
    perms = {
        g.name: set(g.permissions.values_list("content_type__app_label", "codename"))
        for g in Group.objects.all()
    }
    assert set(perms) >= {"viewer", "editor", "steward", "admin"}
    assert ("ontology", "view_objecttype") in perms["viewer"]
    assert ("ontology", "change_objecttype") not in perms["viewer"]
    assert ("ontology", "change_objecttype") in perms["editor"]
    assert ("versioning", "merge_branch") not in perms["editor"]
    assert ("versioning", "merge_branch") in perms["steward"]
    # editors work on their own branches (the creator's grant); stewards on every branch
    for codename in ("add_branch", "add_commit", "add_proposal"):
        assert ("versioning", codename) in perms["editor"]
    assert ("versioning", "edit_branch") not in perms["editor"]
    assert ("versioning", "edit_branch") in perms["steward"]
    assert perms["viewer"] < perms["editor"] < perms["steward"] < perms["admin"]
    assert ("auth", "add_user") in perms["admin"]
