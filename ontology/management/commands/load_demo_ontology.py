"""``manage.py load_demo_ontology``: load the airline demo ontology into ``main``.

Every entity goes through the ontology services (full validation, working change, change
event). Each entity has a stable rid (see ``ontology.management.demo_airline``); an entity
whose rid is already on the branch is left as it is, so a second run changes nothing, and a
run after a steward deleted part of the demo puts back only what is missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from ontology import services
from ontology.exceptions import DomainError
from ontology.management import demo_airline as demo
from ontology.models import (
    Interface,
    LinkType,
    ObjectType,
    SharedProperty,
    StructType,
    ValueType,
)
from versioning.exceptions import NothingToCommitError
from versioning.models import MAIN_BRANCH, Branch
from versioning.services import commit_changes

MODELS: dict[str, type[models.Model]] = {
    "valueType": ValueType,
    "structType": StructType,
    "sharedProperty": SharedProperty,
    "interface": Interface,
    "objectType": ObjectType,
    "linkType": LinkType,
}


def planned() -> list[tuple[str, dict[str, Any]]]:
    """Every top-level demo entity as ``(kind, spec)``, in dependency order."""
    return [
        *[("valueType", s) for s in demo.VALUE_TYPES],
        *[("structType", s) for s in demo.STRUCT_TYPES],
        *[("sharedProperty", s) for s in demo.SHARED_PROPERTIES],
        *demo.ENTITIES,
        *[("linkType", s) for s in demo.LINK_TYPES],
    ]


class DemoLoader:
    """Creates the demo entities missing from a branch, resolving names to rows."""

    def __init__(self, branch: Branch):
        self.branch = branch
        self.rows: dict[tuple[str, str], models.Model] = {}

    def existing(self, kind: str, api_name: str) -> models.Model | None:
        return (
            MODELS[kind]
            ._default_manager.filter(branch=self.branch, rid=demo.demo_rid(kind, api_name))
            .first()
        )

    def ref(self, kind: str, api_name: str | None) -> models.Model | None:
        if not api_name:
            return None
        key = (kind, api_name)
        if key not in self.rows:
            row = self.existing(kind, api_name)
            if row is None:
                raise CommandError(f"The demo {kind} '{api_name}' is missing from the branch.")
            self.rows[key] = row
        return self.rows[key]

    def typed(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A property or shared-property spec with its references resolved to rows."""
        values = {k: v for k, v in spec.items() if k not in ("value_type", "struct_type")}
        values["value_type"] = self.ref("valueType", spec.get("value_type"))
        values["struct_type"] = self.ref("structType", spec.get("struct_type"))
        if "shared_property" in spec:
            values["shared_property"] = self.ref("sharedProperty", spec["shared_property"])
        return values

    def create(self, kind: str, spec: dict[str, Any]) -> models.Model:
        creators = {
            "valueType": self.create_value_type,
            "structType": self.create_struct_type,
            "sharedProperty": self.create_shared_property,
            "interface": self.create_interface,
            "objectType": self.create_object_type,
            "linkType": self.create_link_type,
        }
        creators[kind](spec)
        return self.ref(kind, spec["api_name"])

    def _new(self, model: type[models.Model], kind: str, values: dict[str, Any]) -> models.Model:
        return model(branch=self.branch, rid=demo.demo_rid(kind, values["api_name"]), **values)

    def create_value_type(self, spec):
        services.save(self._new(ValueType, "valueType", spec), system=True)

    def create_shared_property(self, spec):
        services.save(self._new(SharedProperty, "sharedProperty", self.typed(spec)), system=True)

    def create_struct_type(self, spec):
        values = {k: v for k, v in spec.items() if k != "fields"}
        name = spec["api_name"]
        fields = [
            {**f, "rid": demo.demo_rid("structType", name, f["api_name"])} for f in spec["fields"]
        ]
        services.save_struct_type(
            self.branch,
            values,
            instance=self._new(StructType, "structType", values),
            fields=fields,
            system=True,
        )

    def create_interface(self, spec):
        name = spec["api_name"]
        values = {k: spec[k] for k in ("api_name", "display_name", "description", "icon")}
        constraints = [
            {
                **{k: v for k, v in c.items() if not k.startswith("target_")},
                "rid": demo.demo_rid("interface", name, c["api_name"]),
                "target_object_type": self.ref("objectType", c.get("target_object_type")),
                "target_interface": self.ref("interface", c.get("target_interface")),
            }
            for c in spec.get("link_constraints", [])
        ]
        services.save_interface(
            self.branch,
            values,
            instance=self._new(Interface, "interface", values),
            extends=[self.ref("interface", n) for n in spec.get("extends", [])],
            properties=[self.ref("sharedProperty", n) for n in spec["properties"]],
            link_constraints=constraints,
            system=True,
        )

    def create_object_type(self, spec):
        name = spec["api_name"]
        skip = {"properties", "primary_key", "title_property", "interfaces", "replaced_by"}
        values = {k: v for k, v in spec.items() if k not in skip}
        if "deprecation_deadline" in values:
            values["deprecation_deadline"] = dt.date.fromisoformat(values["deprecation_deadline"])
        values["replaced_by"] = self.ref("objectType", spec.get("replaced_by"))
        properties = [
            {
                **self.typed(p),
                "position": position,
                "rid": demo.demo_rid("objectType", name, p["api_name"]),
            }
            for position, p in enumerate(spec["properties"])
        ]
        services.save_object_type(
            self.branch,
            values,
            instance=self._new(ObjectType, "objectType", values),
            properties=properties,
            primary_key=spec["primary_key"],
            title_property=spec["title_property"],
            interfaces=[self.ref("interface", n) for n in spec.get("interfaces", [])],
            system=True,
        )

    def create_link_type(self, spec):
        values = {k: v for k, v in spec.items() if k not in ("source", "target", "foreign_key")}
        source = self.ref("objectType", spec["source"])
        values["source"] = source
        values["target"] = self.ref("objectType", spec["target"])
        if spec["foreign_key"]:
            values["foreign_key_property"] = source.properties.get(api_name=spec["foreign_key"])
        services.save(self._new(LinkType, "linkType", values), system=True)


class Command(BaseCommand):
    help = "Load the airline demo ontology into a branch (main by default); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--branch", default=MAIN_BRANCH, help="Target branch (default main).")

    def handle(self, *args, **options):
        branch = Branch.objects.filter(name=options["branch"]).first()
        if branch is None:
            raise CommandError(f"Branch '{options['branch']}' does not exist; run migrate first.")
        loader = DemoLoader(branch)
        plan = planned()
        missing = [(k, s) for k, s in plan if loader.existing(k, s["api_name"]) is None]
        if not missing:
            self.stdout.write(
                f"The airline demo ontology is already loaded on '{branch.name}' "
                f"({len(plan)} entities); nothing to do."
            )
            return
        try:
            with transaction.atomic():
                for kind, spec in missing:
                    loader.create(kind, spec)
                # the load is recorded as a commit, so the branch starts clean: a protected
                # branch could never commit these working changes otherwise
                try:
                    commit = commit_changes(
                        branch, None, "Load the airline demo ontology", system=True
                    )
                except NothingToCommitError:
                    commit = None  # put back exactly as the head already records it
        except (ValidationError, DomainError) as exc:
            raise CommandError(f"Could not load the demo ontology: {exc}") from exc
        counts: dict[str, int] = {}
        for kind, _ in missing:
            counts[kind] = counts.get(kind, 0) + 1
        shown = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Loaded the airline demo ontology on '{branch.name}': {shown}.")
        )
        if commit is not None:
            self.stdout.write(f"Committed as {commit.id[:12]} on '{branch.name}'.")
