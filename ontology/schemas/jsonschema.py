"""JSON Schema 2020-12 of an ontology (docs/schemas.md).

One ``$defs`` entry per object type, struct type and value type (named as in the GraphQL
SDL); value-type constraints become ``pattern``, ``enum``, ``minimum``/``maximum``,
``minLength``/``maxLength``, ``minItems``/``maxItems``, ``uniqueItems`` and ``format``;
required properties are ``required``; struct and value types are ``$ref`` s; a property
marked PII (or based on a shared property that is) carries ``"x-pii": true`` and none of
its examples; another property's examples are its ``examples``. An object
type's links are not part of its data (a foreign key property holds them) and are not in
its schema. An interface a link ends on (docs/documents.md, "Links to an interface") has
an entry too: ``anyOf`` its implementers (not ``oneOf``: an object may fit two
implementers' schemas), or nothing (``not: {}``) while none implements it; OpenAPI's link
sub-resources answer with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from versioning.protection import is_token

from ..rules import TIME_OF_DAY_PATTERN
from .model import Document, Ontology

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_INT_BOUNDS = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}
_BASE: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "decimal": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "timestamp": {"type": "string", "format": "date-time"},
    # not ``format: time``: RFC 3339's full-time requires an offset, a time of day has none
    "time": {
        "type": "string",
        "pattern": TIME_OF_DAY_PATTERN,
        "description": "A time of day, ISO 8601 without offset.",
    },
    "geopoint": {
        "type": "object",
        "properties": {
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
        },
        "required": ["lat", "lon"],
        "additionalProperties": False,
    },
    "geoshape": {"type": "object", "description": "A GeoJSON geometry."},
    "attachment": {"type": "string", "description": "A reference to an attached file."},
    "vector": {"type": "array", "items": {"type": "number"}},
}
_FORMATS = {"uuid": {"format": "uuid"}, "rid": {"format": "uuid"}}


#: the annotation of a property marked PII (JSON Schema and OpenAPI allow ``x-`` keywords)
PII_KEYWORD = "x-pii"


def _base(base: str | None) -> dict[str, Any]:
    if base in _INT_BOUNDS:
        low, high = _INT_BOUNDS[base]
        return {"type": "integer", "minimum": low, "maximum": high}
    return dict(_BASE.get(base or "", {}))


def _annotate(schema: dict[str, Any], doc: Document, *, title: bool = True) -> dict[str, Any]:
    if title and doc.get("displayName"):
        schema["title"] = doc["displayName"]
    if doc.get("description"):
        schema["description"] = doc["description"]
    if doc.get("status") == "DEPRECATED":
        schema["deprecated"] = True
    return schema


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _note(schema: dict[str, Any], text: str) -> None:
    schema["description"] = f"{schema.get('description', '')} {text}".strip()


def constrained(schema: dict[str, Any], constraints: Any, base: str | None) -> dict[str, Any]:
    """``schema`` narrowed by a value type's constraints (docs/documents.md). Values of the
    wrong JSON type (which the rules refuse) are left out, so the schema stays valid."""
    if not isinstance(constraints, dict):
        return schema
    out = dict(schema)
    enum = constraints.get("enum")
    if isinstance(enum, dict) and isinstance(enum.get("values"), list):
        if enum.get("caseInsensitive"):
            _note(out, "One of (case-insensitively): " + ", ".join(map(str, enum["values"])) + ".")
        else:
            out["enum"] = list(enum["values"])
    regex = constraints.get("regex")
    if isinstance(regex, dict) and isinstance(regex.get("pattern"), str):
        out["pattern"] = regex["pattern"]
    for key, (low, high) in (
        ("length", ("minLength", "maxLength")),
        ("arraySize", ("minItems", "maxItems")),
    ):
        bounds = constraints.get(key)
        if isinstance(bounds, dict):
            if _count(bounds.get("min")):
                out[low] = bounds["min"]
            if _count(bounds.get("max")):
                out[high] = bounds["max"]
    bounds = constraints.get("range")
    if isinstance(bounds, dict):
        numeric = out.get("type") in ("integer", "number")
        for key, word in (("min", "minimum"), ("max", "maximum")):
            value = bounds.get(key)
            if numeric and _number(value):
                out[word] = value
            elif isinstance(value, str):  # dates, times, timestamps: no such bound
                _note(out, f"{word}: {value}.")
    if constraints.get("format") in _FORMATS:
        out.update(_FORMATS[constraints["format"]])
    if isinstance(constraints.get("uniqueItems"), bool):
        out["uniqueItems"] = constraints["uniqueItems"]
    items = constraints.get("items")
    if isinstance(items, dict) and isinstance(out.get("items"), dict):
        out["items"] = constrained(out["items"], items, None)
    return out


class _Generator:
    def __init__(self, documents: Iterable[Document], ref_prefix: str) -> None:
        self.onto = Ontology(documents)
        self.prefix = ref_prefix

    def ref(self, rid: str) -> dict[str, Any]:
        return {"$ref": self.prefix + self.onto.name(rid)}

    def element(self, base: str | None, struct: str | None) -> dict[str, Any]:
        if base == "struct":
            found = self.onto.get(struct, "structType")
            return self.ref(found["rid"]) if found else {}
        return _base(base)

    def typed(self, holder: Document) -> dict[str, Any]:
        value_type = self.onto.get(holder.get("valueType"), "valueType")
        base = holder.get("baseType")
        if value_type is not None:
            if value_type.get("baseType") == "array" or base != "array":
                return self.ref(value_type["rid"])
            return {"type": "array", "items": self.ref(value_type["rid"])}
        if base == "array":
            return {
                "type": "array",
                "items": self.element(holder.get("itemType"), holder.get("structType")),
            }
        return self.element(base, holder.get("structType"))

    def value_type(self, doc: Document) -> dict[str, Any]:
        base = doc.get("baseType")
        schema = _base(base)
        if base == "array":
            schema = {"type": "array", "items": _base(doc.get("itemType"))}
        return _annotate(constrained(schema, doc.get("constraints"), base), doc)

    def struct_type(self, doc: Document) -> dict[str, Any]:
        props, required = {}, []
        for _, field in self.onto.struct_fields(doc):
            props[field["apiName"]] = self.property_schema(field)
            if field.get("required"):
                required.append(field["apiName"])
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        return _annotate(schema, doc)

    def property_schema(self, prop: Document) -> dict[str, Any]:
        schema = self.typed(prop)
        if "$ref" in schema:  # annotations beside a $ref apply too in 2020-12
            schema = dict(schema)
        if self.onto.is_pii(prop):
            schema[PII_KEYWORD] = True  # and no examples: those of PII are never published
        else:
            shown = [e for e in prop.get("examples") or () if not is_token(e)]
            if shown:
                schema["examples"] = shown
        return _annotate(schema, prop)

    def object_type(self, doc: Document) -> dict[str, Any]:
        props, required = {}, []
        for _, prop in self.onto.properties(doc):
            props[prop["apiName"]] = self.property_schema(prop)
            if prop.get("required"):
                required.append(prop["apiName"])
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        pk = (doc.get("properties") or {}).get(doc.get("primaryKey") or "")
        if pk is not None:
            schema["x-primaryKey"] = pk["apiName"]
        return _annotate(schema, doc)

    def interface(self, doc: Document) -> dict[str, Any]:
        """An interface at a link's end: any object of its implementers."""
        implementers = self.onto.implementers(doc["rid"])
        if implementers:
            return _annotate({"anyOf": [self.ref(rid) for rid in implementers]}, doc)
        schema = _annotate({"not": {}}, doc)
        _note(schema, "No object type implements this interface yet.")
        return schema

    def defs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        entries = []
        for kind, make in (
            ("objectType", self.object_type),
            ("structType", self.struct_type),
            ("valueType", self.value_type),
        ):
            entries.extend((self.onto.name(d["rid"]), make, d) for d in self.onto.of(kind))
        for rid in self.onto.link_interfaces:
            doc = self.onto.get(rid, "interface")
            entries.append((self.onto.name(rid), self.interface, doc))
        for name, make, doc in sorted(entries, key=lambda e: e[0]):
            out[name] = make(doc)
        return out


def definitions(documents: Iterable[Document], ref_prefix: str) -> dict[str, Any]:
    """``name -> schema`` of every object type, struct type and value type (and interface
    a link ends on), their ``$ref``
    s starting with ``ref_prefix`` (OpenAPI's components use these)."""
    return _Generator(documents, ref_prefix).defs()


def generate(documents: Iterable[Document], *, schema_id: str | None = None) -> dict[str, Any]:
    """The JSON Schema document of a tree's documents."""
    out: dict[str, Any] = {"$schema": DIALECT}
    if schema_id:
        out["$id"] = schema_id
    out["title"] = "Ontology"
    out["$defs"] = definitions(documents, "#/$defs/")
    return out
