"""GraphQL SDL of an ontology, built with graphql-core's type system and printed by
``print_schema`` (docs/schemas.md).

Object types become object types (properties and both ends of each link as fields),
interfaces become interfaces with ``implements``, struct types object types, value types
custom scalars (an enum of names GraphQL accepts: an enum), deprecations
``@deprecated(reason:)``, fields of properties marked PII ``@pii`` (the directive is
declared when the ontology has one). A ``Query`` root reads each object type by primary key and as a
list. Whatever the ontology, the schema is valid: an implementation whose fields conflict
with the interface's is left out (and said in the description), a deprecated field whose
interface field is not deprecated says so in its description instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    parse,
    print_schema,
)

from .model import Document, Field, Ontology, deprecation_reason, unique

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
PII_DIRECTIVE = '''"""Personal data: masked for users without the PII grant."""
directive @pii on FIELD_DEFINITION'''
_PII = {"pii": True}  # a field's extensions: the field holds a property marked PII
_PLACEHOLDER = "_empty"

_CUSTOM_SCALARS = {
    "long": ("Long", "A 64-bit signed integer."),
    "decimal": ("Decimal", "An arbitrary-precision decimal number, as a string."),
    "date": ("Date", "A calendar date, ISO 8601 (YYYY-MM-DD)."),
    "timestamp": ("Timestamp", "A point in time, ISO 8601 with offset."),
    "time": ("Time", "A time of day, ISO 8601 without offset (HH:MM[:SS[.ffffff]])."),
    "geopoint": ("GeoPoint", "A WGS 84 point: {lat, lon}."),
    "geoshape": ("GeoShape", "A GeoJSON geometry."),
    "attachment": ("Attachment", "A reference to an attached file."),
}
_BUILT_IN = {
    "string": GraphQLString,
    "integer": GraphQLInt,
    "short": GraphQLInt,
    "byte": GraphQLInt,
    "float": GraphQLFloat,
    "double": GraphQLFloat,
    "boolean": GraphQLBoolean,
}


def _describe(doc: Document) -> str | None:
    parts = [str(doc.get("description") or doc.get("displayName") or "").strip()]
    return "\n\n".join(p for p in parts if p) or None


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


class _Builder:
    def __init__(self, documents: Iterable[Document]) -> None:
        self.onto = Ontology(documents)
        self.scalars: dict[str, GraphQLScalarType] = {}
        self.types: dict[str, Any] = {}  # rid -> graphql named type
        self.notes: dict[str, list[str]] = {}
        self.fields_of: dict[str, dict[str, GraphQLField]] = {}
        self.implements: dict[str, list[str]] = {}

    # --- types of values ------------------------------------------------------------------

    def scalar(self, base: str) -> Any:
        if base in _BUILT_IN:
            return _BUILT_IN[base]
        name, description = _CUSTOM_SCALARS.get(base, (None, None))
        if name is None:
            return GraphQLString
        if name not in self.scalars:
            self.scalars[name] = GraphQLScalarType(name, description=description)
        return self.scalars[name]

    def element(self, base: str | None, struct: str | None) -> Any:
        if base == "vector":
            return GraphQLList(GraphQLNonNull(GraphQLFloat))
        if base == "struct":
            found = self.onto.get(struct, "structType")
            return self.types[found["rid"]] if found else self.scalar("string")
        return self.scalar(base or "string")

    def typed(self, holder: Document) -> Any:
        """The GraphQL type of a property, shared property or struct field."""
        base = holder.get("baseType")
        value_type = self.onto.get(holder.get("valueType"), "valueType")
        if value_type is not None:
            vt = self.types[value_type["rid"]]
            if value_type.get("baseType") == "array" or base != "array":
                return vt
            return GraphQLList(GraphQLNonNull(vt))
        if base == "array":
            item = self.element(holder.get("itemType"), holder.get("structType"))
            return GraphQLList(GraphQLNonNull(item))
        return self.element(base, holder.get("structType"))

    def value_type(self, doc: Document) -> Any:
        name = self.onto.name(doc["rid"])
        description = _describe(doc)
        reason = deprecation_reason(doc)
        if reason:
            description = f"{description or ''}\n\nDeprecated: {reason}".strip()
        enum = (doc.get("constraints") or {}).get("enum") or {}
        values = enum.get("values") if isinstance(enum, dict) else None
        if (
            doc.get("baseType") == "string"
            and isinstance(values, list)
            and values
            and all(
                isinstance(v, str) and _NAME.match(v) and v not in ("true", "false", "null")
                for v in values
            )
            and len(set(values)) == len(values)
        ):
            return GraphQLEnumType(
                name, {v: GraphQLEnumValue(v) for v in values}, description=description
            )
        base = doc.get("baseType")
        if base == "array":
            base = f"array of {doc.get('itemType')}"
        detail = f"Base type: {base}."
        return GraphQLScalarType(
            name, description=f"{description}\n\n{detail}" if description else detail
        )

    # --- fields ---------------------------------------------------------------------------

    def property_field(self, prop: Document) -> GraphQLField:
        kind = self.typed(prop)
        if prop.get("required"):
            kind = GraphQLNonNull(kind)
        return GraphQLField(
            kind,
            description=_describe(prop),
            deprecation_reason=deprecation_reason(prop),
            extensions=_PII if self.onto.is_pii(prop) else None,
        )

    def link_field(self, field: Field) -> GraphQLField:
        target = self.types[field.target]
        link = field.source
        kind = GraphQLNonNull(GraphQLList(GraphQLNonNull(target))) if field.many else target
        return GraphQLField(
            kind, description=_describe(link), deprecation_reason=deprecation_reason(link)
        )

    def own_fields(self, doc: Document) -> dict[str, GraphQLField]:
        out = {}
        for field in self.onto.fields(doc):
            if field.link is None:
                out[field.name] = self.property_field(field.source)
            else:
                out[field.name] = self.link_field(field)
        return out

    def interface_own_fields(self, doc: Document) -> dict[str, GraphQLField]:
        out: dict[str, GraphQLField] = {}
        taken: set[str] = set()
        shared = [self.onto.get(r, "sharedProperty") for r in doc.get("properties") or {}]
        for sp in sorted((s for s in shared if s), key=lambda s: s["apiName"].lower()):
            out[unique(sp["apiName"], taken, "")] = GraphQLField(
                self.typed(sp),
                description=_describe(sp),
                deprecation_reason=deprecation_reason(sp),
                extensions=_PII if self.onto.is_pii(sp) else None,
            )
        for _, lc in self.onto.link_constraints(doc):
            target = self.onto.get(lc.get("targetObjectType"), "objectType") or self.onto.get(
                lc.get("targetInterface"), "interface"
            )
            if target is None:
                continue
            kind = self.types[target["rid"]]
            if lc.get("cardinality") == "MANY":
                kind = GraphQLNonNull(GraphQLList(GraphQLNonNull(kind)))
            elif lc.get("required"):
                kind = GraphQLNonNull(kind)
            out[unique(lc["apiName"], taken, "Link")] = GraphQLField(
                kind, description=_describe(lc)
            )
        for field in self.onto.link_fields(doc["rid"], taken):  # links ending on it
            out[field.name] = self.link_field(field)
        return out

    # --- building ---------------------------------------------------------------------------

    def build(self) -> GraphQLSchema:
        onto = self.onto
        for doc in onto.of("valueType"):
            self.types[doc["rid"]] = self.value_type(doc)
        placeholder = {_PLACEHOLDER: GraphQLField(GraphQLBoolean, description="No fields.")}
        # named types first (fields are filled below: they refer to each other)
        for kind, cls in (
            ("structType", GraphQLObjectType),
            ("interface", GraphQLInterfaceType),
            ("objectType", GraphQLObjectType),
        ):
            for doc in onto.of(kind):
                rid = doc["rid"]
                self.types[rid] = cls(
                    onto.name(rid),
                    fields=lambda rid=rid: self.fields_of[rid],
                    interfaces=lambda rid=rid: [self.types[r] for r in self.implements[rid]],
                )
        for doc in onto.of("structType"):
            fields = {
                f["apiName"]: GraphQLField(
                    GraphQLNonNull(self.typed(f)) if f.get("required") else self.typed(f),
                    description=_describe(f),
                )
                for _, f in onto.struct_fields(doc)
            }
            self._finish(self.types[doc["rid"]], doc, fields or placeholder, [])
        # interfaces: own fields, then inherited ones; an ancestor whose fields conflict is
        # left out of ``implements``
        merged: dict[str, dict[str, GraphQLField]] = {}
        own = {doc["rid"]: self.interface_own_fields(doc) for doc in onto.of("interface")}
        for doc in onto.of("interface"):
            fields = dict(own[doc["rid"]])
            for parent in onto.interface_closure[doc["rid"]]:
                for name, field in own[parent].items():
                    fields.setdefault(name, field)
            merged[doc["rid"]] = fields or dict(placeholder)
        implements: dict[str, list[str]] = {}
        for doc in onto.of("interface"):
            implements[doc["rid"]] = self._compatible(
                doc["rid"], merged[doc["rid"]], onto.interface_closure[doc["rid"]], merged
            )
        # ancestors first (an interface's closure holds its ancestors' closures), so an
        # interface is compared with its ancestors' fields as they are finished
        for doc in sorted(
            onto.of("interface"), key=lambda d: len(onto.interface_closure[d["rid"]])
        ):
            self._undeprecate(merged[doc["rid"]], implements[doc["rid"]], merged)
        for doc in onto.of("interface"):
            self._finish(self.types[doc["rid"]], doc, merged[doc["rid"]], implements[doc["rid"]])
        for doc in onto.of("objectType"):
            fields = self.own_fields(doc)
            wanted = onto.interfaces_of(doc)
            candidate = dict(fields)
            for rid in wanted:
                for name, field in merged[rid].items():
                    candidate.setdefault(name, field)
            chosen = self._compatible(doc["rid"], candidate, wanted, merged)
            final = dict(fields)
            for rid in chosen:
                for name, field in merged[rid].items():
                    final.setdefault(name, field)
            self._undeprecate(final, chosen, merged)
            self._finish(self.types[doc["rid"]], doc, final or dict(placeholder), chosen)
        query = GraphQLObjectType("Query", self.query_fields())
        named = [
            self.types[d["rid"]]
            for k in ("valueType", "structType", "interface", "objectType")
            for d in onto.of(k)
        ]
        return GraphQLSchema(query=query, types=named)

    def _compatible(
        self,
        rid: str,
        fields: dict[str, GraphQLField],
        wanted: list[str],
        merged: dict[str, dict[str, GraphQLField]],
    ) -> list[str]:
        """The interfaces of ``wanted`` whose every field ``fields`` has with the same type
        (an interface whose ancestor is left out is left out too)."""
        refused = set()
        for parent in wanted:
            for name, field in merged[parent].items():
                mine = fields.get(name)
                if mine is None or not _subtype(mine.type, field.type):
                    refused.add(parent)
                    self.notes.setdefault(rid, []).append(
                        f"Does not implement {self.onto.name(parent)}: field '{name}' differs."
                    )
                    break
        changed = True
        while changed:
            changed = False
            for parent in wanted:
                if parent not in refused and refused & set(self.onto.interface_closure[parent]):
                    refused.add(parent)
                    changed = True
        return [p for p in wanted if p not in refused]

    def _undeprecate(
        self,
        fields: dict[str, GraphQLField],
        interfaces: list[str],
        merged: dict[str, dict[str, GraphQLField]],
    ) -> None:
        """GraphQL allows a deprecated field only where every interface field it implements
        is deprecated too: a field of ``fields`` deprecated where one of ``interfaces`` has
        it active says its deprecation in its description instead (in place). The type
        keeps implementing the interface: deprecating a field breaks no client."""
        for name, field in list(fields.items()):
            if field.deprecation_reason is None:
                continue
            active = [
                self.onto.name(rid)
                for rid in interfaces
                if name in merged[rid] and merged[rid][name].deprecation_reason is None
            ]
            if not active:
                continue
            note = (
                f"Deprecated: {field.deprecation_reason} (not marked @deprecated: the field "
                f"of {', '.join(active)} it implements is not deprecated)"
            )
            fields[name] = GraphQLField(
                **{
                    **field.to_kwargs(),
                    "deprecation_reason": None,
                    "description": "\n\n".join(p for p in (field.description, note) if p),
                }
            )

    def _finish(self, gtype: Any, doc: Document, fields: dict, interfaces: list[str]) -> None:
        description = _describe(doc)
        reason = deprecation_reason(doc)
        extra = [f"Deprecated: {reason}"] if reason else []
        extra += self.notes.get(doc["rid"], [])
        if extra:
            description = "\n\n".join([description or "", *extra]).strip()
        gtype.description = description
        self.fields_of[doc["rid"]] = fields
        self.implements[doc["rid"]] = interfaces

    def query_fields(self) -> dict[str, GraphQLField]:
        out: dict[str, GraphQLField] = {}
        taken: set[str] = set()
        for doc in self.onto.of("objectType"):
            gtype = self.types[doc["rid"]]
            reason = deprecation_reason(doc)
            args = {}
            pk = (doc.get("properties") or {}).get(doc.get("primaryKey") or "")
            if pk is not None and pk.get("baseType") not in ("array", "struct", "vector"):
                kind = self.typed(pk)
                args[pk["apiName"]] = GraphQLArgument(GraphQLNonNull(kind))
            single = unique(_lower_first(gtype.name), taken, "Object")
            out[single] = GraphQLField(
                gtype,
                args=args,
                description=f"One {gtype.name} by primary key.",
                deprecation_reason=reason,
            )
            listed = unique(_lower_first(gtype.name) + "List", taken, "")
            out[listed] = GraphQLField(
                GraphQLNonNull(GraphQLList(GraphQLNonNull(gtype))),
                args={
                    "first": GraphQLArgument(GraphQLInt),
                    "after": GraphQLArgument(GraphQLString),
                },
                description=f"{gtype.name} objects, a page at a time.",
                deprecation_reason=reason,
            )
        if not out:
            out["_ontology"] = GraphQLField(GraphQLString, description="The ontology is empty.")
        return out


def _subtype(mine: Any, theirs: Any) -> bool:
    """A field of type ``mine`` may implement an interface field of type ``theirs``: the
    same named type, as non-null or more so, lists of such."""
    if isinstance(theirs, GraphQLNonNull):
        return isinstance(mine, GraphQLNonNull) and _subtype(mine.of_type, theirs.of_type)
    if isinstance(mine, GraphQLNonNull):
        return _subtype(mine.of_type, theirs)
    if isinstance(theirs, GraphQLList):
        return isinstance(mine, GraphQLList) and _subtype(mine.of_type, theirs.of_type)
    return not isinstance(mine, GraphQLList) and mine is theirs


def schema(documents: Iterable[Document]) -> GraphQLSchema:
    """The graphql-core schema of a tree's documents."""
    return _Builder(documents).build()


def _pii_fields(built: GraphQLSchema) -> dict[str, set[str]]:
    """type name -> names of its fields marked PII (an interface's field marks its
    implementations' too: they share the field)."""
    out: dict[str, set[str]] = {}
    for name, gtype in built.type_map.items():
        if isinstance(gtype, (GraphQLObjectType, GraphQLInterfaceType)):
            marked = {f for f, field in gtype.fields.items() if (field.extensions or {}).get("pii")}
            if marked:
                out[name] = marked
    return out


def _with_pii(sdl: str, marked: dict[str, set[str]]) -> str:
    """``sdl`` with ``@pii`` after each marked field and the directive declared first
    (graphql-core prints no applied directive but ``@deprecated``): inserted where the
    parsed field definitions end, so the rest is printed as ``print_schema`` prints it."""
    ends = [
        field.loc.end
        for definition in parse(sdl).definitions
        for field in getattr(definition, "fields", None) or ()
        if field.name.value in marked.get(getattr(definition, "name", None).value, ())
    ]
    for end in sorted(ends, reverse=True):
        sdl = sdl[:end] + " @pii" + sdl[end:]
    return PII_DIRECTIVE + "\n\n" + sdl


def generate(documents: Iterable[Document]) -> str:
    """The GraphQL SDL of a tree's documents."""
    built = schema(documents)
    sdl = print_schema(built)
    marked = _pii_fields(built)
    return (_with_pii(sdl, marked) if marked else sdl) + "\n"
