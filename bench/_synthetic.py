"""Synthetic ontologies as documents (docs/documents.md), for bench/bundles.py and
bench/schemas.py: every kind, references that resolve, stable rids (uuid5)."""

from __future__ import annotations

import uuid
from typing import Any

_NS = uuid.UUID("6f1d9a52-5d4e-4a57-9b0e-1f3c0d2b8a10")
_TYPES = ("string", "integer", "double", "boolean", "date", "timestamp", "long")


def _rid(*parts: Any) -> str:
    return str(uuid.uuid5(_NS, "/".join(map(str, parts))))


def _common(kind: str, name: str, *, display: bool = True) -> dict[str, Any]:
    doc = {
        "kind": kind,
        "rid": _rid(kind, name),
        "apiName": name,
        "description": f"The {name} {kind}.",
        "status": "ACTIVE",
        "deprecation": None,
    }
    if display:
        doc["displayName"] = name
    return doc


def ontology(
    object_types: int,
    properties: int,
    *,
    value_types: int = 20,
    struct_types: int = 5,
    shared: int = 10,
    interfaces: int = 5,
    link_types: int | None = None,
) -> list[dict[str, Any]]:
    """``object_types`` object types of ``properties`` properties each (the first the
    primary key), with value types, struct types, shared properties, interfaces and
    ``link_types`` (default: one per object type) many-to-many and one-to-many links."""
    docs: list[dict[str, Any]] = []
    vts = []
    for i in range(value_types):
        doc = _common("valueType", f"Code{i}")
        doc.update(
            baseType="string",
            itemType=None,
            constraints={"regex": {"pattern": "^[A-Z]{3}$"}, "length": {"min": 3, "max": 3}},
        )
        docs.append(doc)
        vts.append(doc["rid"])
    sts = []
    for i in range(struct_types):
        doc = _common("structType", f"Shape{i}")
        doc["fields"] = {
            _rid("field", i, j): {
                "apiName": f"part{j}",
                "displayName": f"Part {j}",
                "description": "",
                "baseType": "string",
                "required": j == 0,
                "position": j,
            }
            for j in range(3)
        }
        docs.append(doc)
        sts.append(doc["rid"])
    sps = []
    for i in range(shared):
        doc = _common("sharedProperty", f"shared{i}")
        doc.update(baseType="string", itemType=None, valueType=None, structType=None, pii=False)
        docs.append(doc)
        sps.append(doc["rid"])
    ifs = []
    for i in range(interfaces):
        doc = _common("interface", f"Role{i}")
        doc.update(
            icon="",
            extends={},
            properties={sps[i % len(sps)]: True} if sps else {},
            linkConstraints={},
        )
        docs.append(doc)
        ifs.append(doc)
    ots = []
    for i in range(object_types):
        name = f"Thing{i}"
        doc = _common("objectType", name)
        props = {}
        for j in range(properties):
            base = "string" if j in (0, 3) else _TYPES[j % len(_TYPES)]
            prop = {
                "apiName": "id" if j == 0 else f"field{j}",
                "displayName": f"Field {j}",
                "description": "",
                "baseType": base,
                "itemType": None,
                "valueType": None,
                "structType": None,
                "sharedProperty": None,
                "required": j == 0,
                "pii": False,
                "status": "ACTIVE",
                "deprecation": None,
                "position": j,
            }
            if j == 1 and vts:
                prop.update(baseType="string", valueType=vts[i % len(vts)])
            if j == 2 and sts:
                prop.update(baseType="struct", structType=sts[i % len(sts)])
            props[_rid(name, "p", j)] = prop
        iface = None
        if ifs and i % 3 == 0:
            iface = ifs[i % len(ifs)]
            sp = next(iter(iface["properties"]), None)
            if sp is not None:
                props[_rid(name, "shared")] = {
                    **props[_rid(name, "p", 0)],
                    "apiName": f"shared{ifs.index(iface) % len(sps)}",
                    "required": False,
                    "sharedProperty": sp,
                    "position": properties,
                }
        pk = _rid(name, "p", 0)
        doc.update(
            pluralDisplayName=f"{name}s",
            visibility="NORMAL",
            icon="",
            replacedBy=None,
            primaryKey=pk,
            titleProperty=pk,
            interfaces={iface["rid"]: True} if iface else {},
            properties=props,
        )
        docs.append(doc)
        ots.append(doc)
    count = object_types if link_types is None else link_types
    for i in range(count):
        source, target = ots[i % len(ots)], ots[(i * 7 + 1) % len(ots)]
        one_to_many = i % 2 == 0 and properties > 3
        doc = _common("linkType", f"link{i}", display=False)
        doc.update(
            cardinality="ONE_TO_MANY" if one_to_many else "MANY_TO_MANY",
            source=source["rid"],
            target=target["rid"],
            sourceSide={"apiName": f"to{i}", "displayName": "To", "visibility": "NORMAL"},
            targetSide={"apiName": f"from{i}", "displayName": "From", "visibility": "NORMAL"},
            # field3 is a string property of the source, as the target's key is
            foreignKeyProperty=_rid(source["apiName"], "p", 3) if one_to_many else None,
        )
        docs.append(doc)
    return docs
