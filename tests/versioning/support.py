"""Helpers shared by the versioning tests: a committed main and edits through the
ontology's services (so the dirty set is marked as in production)."""

from __future__ import annotations

from ontology import services as ontology
from ontology.models import LinkType, ObjectType
from tests.factories import BranchFactory, LinkTypeFactory, ObjectTypeFactory, UserFactory
from versioning import services
from versioning.models import Branch


def seed_main(object_types: int = 3, *, link: bool = True) -> Branch:
    """``main`` with ``Type0..TypeN`` (3 properties each), a link Type0 -> Type1, committed.

    Its compatibility mode is NONE (no direction checked; being protected, it keeps the
    deprecation gate): the modes are what ``test_compat_releases.py``,
    ``test_compat_merge.py`` and ``test_compat_transitive.py`` test."""
    main = BranchFactory(name="main", protected=True)  # as the migration makes it
    Branch.objects.filter(pk=main.pk).update(compatibility_mode="NONE")
    main.compatibility_mode = "NONE"
    made = [
        ObjectTypeFactory(branch=main, api_name=f"Type{i}", properties=3)
        for i in range(object_types)
    ]
    if link and len(made) > 1:
        LinkTypeFactory(branch=main, api_name="typeLink", source=made[0], target=made[1])
    services.commit_changes(main, None, "Initial ontology", system=True)
    main.refresh_from_db()
    return main


def object_type(branch: Branch, api_name: str) -> ObjectType:
    return ObjectType.objects.get(branch=branch, api_name=api_name)


def edit(branch: Branch, name: str, /, *, user=None, **values) -> ObjectType:
    """Change fields of an object type through the ontology service (marks the dirty set)."""
    ot = object_type(branch, name)
    for field, value in values.items():
        setattr(ot, field, value)
    ontology.save(ot, user=user, system=branch.protected)
    return ot


def delete_object_type(branch: Branch, api_name: str, *, user=None) -> None:
    ot = object_type(branch, api_name)
    LinkType.objects.filter(branch=branch, target=ot).delete()
    ontology.delete(ot, user=user, system=branch.protected)


def rid_of(branch: Branch, api_name: str) -> str:
    return str(object_type(branch, api_name).rid)


def steward(name: str = "steward", **kwargs):
    return UserFactory(
        username=name,
        permissions=[
            "versioning.add_branch",
            "versioning.delete_branch",
            "versioning.add_commit",
            "versioning.add_proposal",
            "versioning.change_proposal",
            "versioning.approve_proposal",
            "versioning.merge_branch",
            "versioning.edit_branch",
            "ontology.change_objecttype",
        ],
        **kwargs,
    )


def link(branch: Branch, api_name: str, source: str, target: str, *, user=None) -> LinkType:
    """Create a link type through the ontology service (marks the dirty set)."""
    row = LinkType(
        branch=branch,
        api_name=api_name,
        cardinality="MANY_TO_MANY",
        source=object_type(branch, source),
        target=object_type(branch, target),
        source_api_name=f"{api_name}Targets",
        source_display_name=f"{api_name} targets",
        target_api_name=f"{api_name}Sources",
        target_display_name=f"{api_name} sources",
    )
    ontology.save(row, user=user, system=branch.protected)
    return row
