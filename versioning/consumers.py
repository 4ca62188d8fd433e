"""Registered consumers and whom a breaking change touches.

A :class:`~versioning.models.Consumer` reads entity api names (``Flight``) or property
paths (``Flight.flightNumber``). A breaking change (MIGRATION_REQUIRED or INCOMPATIBLE)
touches a consumer when one of the names the change concerns — its entity, and for a
rename the old name too — is a read, lies under a read, or has a read under it: removing
``Flight`` touches a consumer of ``Flight.flightNumber``, retyping ``Flight.flightNumber``
touches a consumer of ``Flight``.

Writes go through :func:`save_consumer` / :func:`delete_consumer` (the API and the admin
call them); :func:`impact` is what a dry run and a release preview show, and
:func:`publish_broken` the event publishing a release emits per consumer it breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

import events

from . import permissions
from .domain.compatibility import ClassifiedChange, Compatibility
from .exceptions import DuplicateNameError, UnknownRefError, VersioningError
from .models import API_NAME_PATH_RE, Consumer, Release
from .protection import token

CONSUMER_BROKEN = "com.oms.versioning.consumer.broken.v1"
BREAKING = frozenset({Compatibility.MIGRATION_REQUIRED, Compatibility.INCOMPATIBLE})
MAX_READS = 1000
_PATH = re.compile(API_NAME_PATH_RE)


def names_of(change: ClassifiedChange | Mapping[str, Any]) -> set[str]:
    """The dotted api names a change concerns: its entity, and the old name of a rename."""
    if isinstance(change, ClassifiedChange):
        entity, migration = change.entity, change.migration or {}
    else:
        entity, migration = change.get("entity", ""), change.get("migration") or {}
    names = {entity}
    if migration.get("action") == "rename" and isinstance(migration.get("from"), str):
        old = migration["from"]
        names.add(old)
        # a renamed parent: its children's paths started with the old name
        if "." not in old and "." in entity:
            names.add(f"{old}.{entity.split('.', 1)[1]}")
    return {n for n in names if n}


def _touches(read: str, name: str) -> bool:
    return read == name or read.startswith(f"{name}.") or name.startswith(f"{read}.")


def is_breaking(change: ClassifiedChange) -> bool:
    return change.compatibility in BREAKING


def impact(changes: Iterable[ClassifiedChange]) -> list[dict[str, Any]]:
    """For each consumer a breaking change touches: who it is and which changes."""
    breaking = [c for c in changes if is_breaking(c)]
    if not breaking:
        return []
    out = []
    consumers = Consumer.objects.select_related("owner", "pinned_release").order_by("name")
    for consumer in consumers:
        reads = [r for r in consumer.reads if isinstance(r, str)]
        touched = [c for c in breaking if any(_touches(r, n) for r in reads for n in names_of(c))]
        if touched:
            out.append(
                {
                    **describe(consumer),
                    "changes": [
                        {
                            "rid": c.rid,
                            "entity": c.entity,
                            "kind": c.kind,
                            "compatibility": c.compatibility.value,
                            "message": c.message,
                        }
                        for c in touched
                    ],
                }
            )
    return out


def describe(consumer: Consumer) -> dict[str, Any]:
    return {
        "consumer": consumer.name,
        "owner": consumer.owner.username if consumer.owner_id else None,
        "contact": token(consumer.contact) if consumer.contact else "",
        "pinnedRelease": consumer.pinned_release.version if consumer.pinned_release_id else None,
        "reads": list(consumer.reads),
    }


def annotate(changelog: list[dict[str, Any]], touched: list[dict[str, Any]]) -> None:
    """Add to each changelog entry (``ClassifiedChange.to_dict``) the consumers it touches."""
    by_change: dict[tuple[str, str, str], list[str]] = {}
    for item in touched:
        for change in item["changes"]:
            key = (change["rid"], change["entity"], change["kind"])
            by_change.setdefault(key, []).append(item["consumer"])
    for entry in changelog:
        entry["consumers"] = by_change.get((entry["rid"], entry["entity"], entry["kind"]), [])


def publish_broken(release: Release, touched: list[dict[str, Any]]) -> None:
    """One ``consumer.broken.v1`` event per consumer the release breaks (caller's
    transaction)."""
    for item in touched:
        events.publish(
            CONSUMER_BROKEN,
            f"consumers/{item['consumer']}",
            {
                "consumer": item["consumer"],
                "owner": item["owner"],
                "contact": item["contact"],
                "pinnedRelease": item["pinnedRelease"],
                "release": release.version,
                "branch": release.branch_name,
                "changes": item["changes"][:100],
                "truncated": len(item["changes"]) > 100,
            },
            branch=release.branch_name,
            commit=release.commit_id,
        )


# --- writes --------------------------------------------------------------------------------


def clean_reads(value: Any) -> list[str]:
    """The reads as stored: a list of dotted api names, without duplicates (400 naming
    ``reads`` otherwise)."""
    if not isinstance(value, list):
        raise VersioningError("reads is a list of api names or property paths.", field="reads")
    if len(value) > MAX_READS:
        raise VersioningError(f"A consumer lists at most {MAX_READS} reads.", field="reads")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _PATH.match(item.strip()):
            raise VersioningError(
                f"{item!r} is not an api name or property path (e.g. Flight or "
                "Flight.flightNumber).",
                field="reads",
            )
        if item.strip() not in out:
            out.append(item.strip())
    return out


def _pinned(version: Any) -> Release | None:
    if version in (None, ""):
        return None
    release = Release.objects.filter(version=str(version).strip().lstrip("vV")).first()
    if release is None:
        raise UnknownRefError(f"No release '{version}'.", field="pinnedRelease")
    return release


#: characters of an owner's contact (stored encrypted: the column has no length)
CONTACT_LENGTH = 200
FIELDS = ("name", "owner", "contact", "pinnedRelease", "reads", "description")


def save_consumer(consumer: Consumer | None, user: Any, **data: Any) -> Consumer:
    """Register (``consumer=None``) or change a consumer. ``data`` keys: ``name``,
    ``owner`` (a user or ``None``), ``contact``, ``pinnedRelease`` (a version or ``None``),
    ``reads``, ``description``; unknown keys are refused (400)."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise VersioningError(
            f"Not a field of a consumer (one of {', '.join(FIELDS)}).", field=unknown[0]
        )
    permissions.check(permissions.consumer_refusal, user, "add" if consumer is None else "change")
    with transaction.atomic():
        consumer = consumer or Consumer()
        if "name" in data or consumer.pk is None:
            name = str(data.get("name") or "").strip()
            if not name:
                raise VersioningError("A consumer needs a name.", field="name")
            if Consumer.objects.filter(name=name).exclude(pk=consumer.pk).exists():
                raise DuplicateNameError(f"A consumer '{name}' exists.", field="name")
            consumer.name = name
        if "owner" in data:
            consumer.owner = data["owner"]
        if "contact" in data:
            consumer.contact = str(data["contact"] or "").strip()
        if "description" in data:
            consumer.description = str(data["description"] or "")
        if "pinnedRelease" in data:
            consumer.pinned_release = _pinned(data["pinnedRelease"])
        if "reads" in data:
            consumer.reads = clean_reads(data["reads"])
        for field, limit in (
            ("name", Consumer._meta.get_field("name").max_length),
            ("contact", CONTACT_LENGTH),
        ):
            if len(getattr(consumer, field)) > limit:
                raise VersioningError(f"{field} has at most {limit} characters.", field=field)
        consumer.save()
    return consumer


def delete_consumer(consumer: Consumer, user: Any) -> None:
    permissions.check(permissions.consumer_refusal, user, "delete")
    consumer.delete()
