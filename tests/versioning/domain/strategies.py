"""Hypothesis strategies: small ontologies shaped as docs/documents.md, and edits of them."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .builders import Doc, object_type, prop, value_type

NAMES = st.sampled_from(["alpha", "Beta", "gamma", "ALPHA", "delta"])
TEXT = st.sampled_from(["", "a", "b", "c"])
BASE_TYPES = st.sampled_from(["string", "short", "integer", "long", "float", "double"])
NEW_RIDS = st.sampled_from(["n1", "n2", "n3"])


@st.composite
def trees(draw: Any) -> dict[str, Doc]:
    tree: dict[str, Doc] = {}
    for i in range(draw(st.integers(1, 4))):
        props = {
            f"p{i}{j}": prop(f"{draw(NAMES)}{j}", draw(BASE_TYPES), position=j)
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
        st.tuples(st.just("setprop"), rids, props, st.just("apiName"), NAMES),
        st.tuples(st.just("setprop"), rids, props, st.just("description"), TEXT),
        st.tuples(st.just("addprop"), rids, NEW_RIDS, NAMES),
        st.tuples(st.just("delprop"), rids, props),
        st.tuples(st.just("interface"), rids, st.sampled_from(["i1", "i2"]), st.booleans()),
        st.tuples(st.just("delete"), rids),
        st.tuples(st.just("add"), NEW_RIDS, NAMES),
    )
    return st.lists(one, max_size=6)


def edited(tree: dict[str, Doc], ops: list[tuple]) -> dict[str, Doc]:
    """A new tree with ``ops`` applied; inputs stay untouched, inapplicable ops are skipped."""
    out = dict(tree)
    for op, *args in ops:
        if op == "add":
            out[args[0]] = object_type(args[0], args[1])
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


def _edit_props(props: dict[str, Doc], op: str, args: list[Any]) -> dict[str, Doc]:
    props = dict(props)
    if op == "addprop":
        props[args[0]] = prop(args[1])
    elif op == "delprop":
        props.pop(args[0], None)
    elif op == "setprop" and args[0] in props:
        props[args[0]] = {**props[args[0]], args[1]: args[2]}
    return props
