"""Hypothesis strategies: small ontologies shaped as docs/documents.md, and edits of them."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .builders import Doc, link_type, object_type, prop, value_type

# names in the case the rule set asks of each kind (PascalCase types, camelCase
# properties), "alpha" and "ALPHA" colliding case-insensitively
NAMES = st.sampled_from(["Alpha", "Beta", "Gamma", "ALPHA", "Delta"])
PROP_NAMES = st.sampled_from(["alpha", "beta", "gamma", "aLPHA", "delta"])
TEXT = st.sampled_from(["", "a", "b", "c"])
BASE_TYPES = st.sampled_from(["string", "short", "integer", "long", "float", "double"])
NEW_RIDS = st.sampled_from(["n1", "n2", "n3"])
NEW_LINKS = st.sampled_from(["l1", "l2"])
# constraints of the value type "vt": bounds and enums that the policy's unions settle
LENGTHS = st.sampled_from([{"min": 1, "max": 9}, {"min": 0, "max": 9}, {"min": 1, "max": 20}, {}])
ENUMS = st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=1, max_size=3, unique=True)


@st.composite
def trees(draw: Any) -> dict[str, Doc]:
    tree: dict[str, Doc] = {}
    for i in range(draw(st.integers(1, 4))):
        props = {
            f"p{i}{j}": prop(f"{draw(PROP_NAMES)}{j}", draw(BASE_TYPES), position=j)
            for j in range(draw(st.integers(0, 3)))
        }
        rid = f"ot{i}"
        tree[rid] = object_type(rid, f"{draw(NAMES)}{i}", props)
    if draw(st.booleans()):
        tree["vt"] = value_type("vt", "Code", "string", {"length": {"min": 1, "max": 9}})
    return tree


def edits(tree: dict[str, Doc]) -> st.SearchStrategy[list[tuple]]:
    rids = st.sampled_from(sorted(tree))
    props = st.sampled_from(
        sorted({p for d in tree.values() for p in d.get("properties", {})}) or ["none"]
    )
    one = st.one_of(
        st.tuples(st.just("set"), rids, st.sampled_from(["description", "icon"]), TEXT),
        st.tuples(st.just("set"), rids, st.just("apiName"), NAMES),
        st.tuples(st.just("setprop"), rids, props, st.just("baseType"), BASE_TYPES),
        st.tuples(st.just("setprop"), rids, props, st.just("apiName"), PROP_NAMES),
        st.tuples(st.just("setprop"), rids, props, st.just("description"), TEXT),
        st.tuples(st.just("addprop"), rids, NEW_RIDS, PROP_NAMES),
        st.tuples(st.just("delprop"), rids, props),
        st.tuples(st.just("interface"), rids, st.sampled_from(["i1", "i2"]), st.booleans()),
        st.tuples(st.just("delete"), rids),
        st.tuples(st.just("add"), NEW_RIDS, NAMES),
        st.tuples(st.just("link"), NEW_LINKS, rids, rids),
        st.tuples(st.just("constraint"), st.just("length"), LENGTHS),
        st.tuples(st.just("constraint"), st.just("enum"), ENUMS.map(lambda v: {"values": v})),
        st.tuples(st.just("constraint"), st.just("enum"), st.none()),
    )
    return st.lists(one, max_size=6)


_VALUES = {
    "description": TEXT,
    "icon": TEXT,
    "apiName": NAMES,
    "propApiName": PROP_NAMES,
    "baseType": BASE_TYPES,
    "length": LENGTHS,
    "enum": st.one_of(st.none(), ENUMS.map(lambda v: {"values": v})),
}


def echoes(tree: dict[str, Doc], ops: list[tuple]) -> st.SearchStrategy[list[tuple]]:
    """Some of ``ops`` again, with a value drawn afresh (often another one), or an api name
    given to another entity: the other side touching what one side touched, so that
    conflicts and name collisions are common, not rare."""
    if not ops:
        return st.just([])
    rids = st.sampled_from(sorted(tree))

    def echo(op: tuple) -> st.SearchStrategy[tuple]:
        kind = op[0]
        if kind == "set" and op[2] == "apiName":  # the same name for this or another entity
            return st.one_of(
                NAMES.map(lambda v: (*op[:-1], v)), rids.map(lambda r: (kind, r, *op[2:]))
            )
        if kind in ("set", "setprop", "constraint"):
            key = "propApiName" if kind == "setprop" and op[-2] == "apiName" else op[-2]
            return _VALUES[key].map(lambda value: (*op[:-1], value))
        if kind == "add":  # the same name under another rid, or the same rid renamed
            return st.one_of(
                NAMES.map(lambda v: (kind, op[1], v)), NEW_RIDS.map(lambda r: (kind, r, op[2]))
            )
        if kind == "addprop":
            return st.one_of(
                PROP_NAMES.map(lambda v: (*op[:-1], v)),
                NEW_RIDS.map(lambda r: (kind, op[1], r, op[3])),
            )
        if kind == "interface":
            return st.booleans().map(lambda member: (*op[:-1], member))
        return st.just(op)  # delete, delprop, link: the same again

    return st.lists(st.sampled_from(ops), max_size=3).flatmap(
        lambda picked: st.tuples(*map(echo, picked)).map(list)
    )


def edited(tree: dict[str, Doc], ops: list[tuple]) -> dict[str, Doc]:
    """A new tree with ``ops`` applied; inputs stay untouched, inapplicable ops are skipped."""
    out = dict(tree)
    for op, *args in ops:
        if op == "add":
            out[args[0]] = object_type(args[0], args[1])
            continue
        if op == "link":
            source, target = out.get(args[1]), out.get(args[2])
            if _is_object_type(source) and _is_object_type(target):
                out[args[0]] = link_type(
                    args[0], f"link{args[0]}", args[1], args[2], cardinality="MANY_TO_MANY"
                )
            continue
        if op == "constraint":
            if "vt" in out:
                constraints = {k: v for k, v in out["vt"]["constraints"].items() if k != args[0]}
                if args[1]:
                    constraints[args[0]] = args[1]
                out["vt"] = {**out["vt"], "constraints": constraints}
            continue
        doc = out.get(args[0])
        if doc is None:
            continue
        if op == "delete":
            del out[args[0]]
        elif op == "set":
            out[args[0]] = {**doc, args[1]: args[2]}
        elif op == "interface" and doc["kind"] == "objectType":
            members = {k: v for k, v in doc["interfaces"].items() if k != args[1]}
            if args[2]:
                members[args[1]] = True
            out[args[0]] = {**doc, "interfaces": members}
        elif "properties" in doc:
            out[args[0]] = {**doc, "properties": _edit_props(doc["properties"], op, args[1:])}
    return out


def _is_object_type(doc: Doc | None) -> bool:
    return doc is not None and doc["kind"] == "objectType"


def _edit_props(props: dict[str, Doc], op: str, args: list[Any]) -> dict[str, Doc]:
    props = dict(props)
    if op == "addprop":
        props[args[0]] = prop(args[1])
    elif op == "delprop":
        props.pop(args[0], None)
    elif op == "setprop" and args[0] in props:
        props[args[0]] = {**props[args[0]], args[1]: args[2]}
    return props
