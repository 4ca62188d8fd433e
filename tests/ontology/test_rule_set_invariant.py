"""The invariant, property-based: nothing invalid lands on any branch.

Two branches edit one valid base with random edits, each accepted only if the rule set
(:func:`ontology.rule_set.validate` over the changed documents and their neighbourhood)
passes, as every write door asks. After every edit the whole branch tree passes the rule
set checked in full; and whenever the merge of the two reports no BLOCK, the merged tree
passes it too. "Passes" also means the hand-written invariants of :func:`broken`, so the
test fails when the rule set is switched off altogether, not only when the merge skips it.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ontology.merge_policy import OntologyPolicy
from ontology.rule_set import TreeGraph, validate
from tests.versioning.domain.builders import (
    apply,
    interface,
    link_constraint,
    link_type,
    object_type,
    prop,
    shared_property,
)
from versioning.domain import Resolution, Severity, merge3

POLICY = OntologyPolicy()


def base_tree() -> dict:
    thing = object_type("ot0", "Thing", {"p0": prop("id")})
    other = object_type("ot1", "Other", {"q0": prop("id"), "q1": prop("thingId", position=1)})
    owned = interface("if2", "Owned", link_constraints={"lc1": link_constraint("thing", "ot0")})
    docs = [
        shared_property("sp1", "code"),
        shared_property("sp2", "size", "integer"),
        interface("if1", "Coded"),
        owned,
        thing,
        other,
        link_type("lt1", "otherThing", "ot1", "ot0", fk="q1"),
        link_type(  # a link to an interface
            "lt2",
            "codedThings",
            None,
            "ot0",
            cardinality="MANY_TO_MANY",
            sourceInterface="if1",
            sourceSide={"apiName": "things", "displayName": "Things", "visibility": "NORMAL"},
            targetSide={"apiName": "coded", "displayName": "Coded", "visibility": "NORMAL"},
        ),
    ]
    return {d["rid"]: d for d in docs}


def problems(tree: dict) -> list:
    """The rule set over the whole tree (every document checked, every name compared),
    and the invariants the edits here can break, written out independently of it: a rule
    set that accepted everything would otherwise judge its own trees valid."""
    graph = TreeGraph(tree)
    return [*validate(graph, set(tree), lambda rid: None, graph.names), *broken(tree)]


def _of(tree: dict, kind: str) -> dict:
    return {rid: doc for rid, doc in tree.items() if doc["kind"] == kind}


def broken(tree: dict) -> list[str]:
    """The invariants of these trees, by hand: references resolve, names are unique per
    kind, a link's side is one object type or (many-to-many only) one interface, an
    implementer uses its interfaces' shared properties with their type and has the links
    their required constraints ask for (its own, or its interfaces'), a foreign key has its
    target's primary key type, a primary key is of a key type."""
    out: list[str] = []
    for kind in {d["kind"] for d in tree.values()}:
        names = [d["apiName"].lower() for d in _of(tree, kind).values()]
        out += [f"two {kind}s named {n}" for n in set(names) if names.count(n) > 1]
    links = _of(tree, "linkType")
    for rid, link in links.items():
        ends = {}
        for side in ("source", "target"):
            ot, iface = link.get(side), link.get(f"{side}Interface")
            if (ot is None) == (iface is None):
                out.append(f"{rid}: the {side} is not one object type or one interface")
            elif iface is not None and link["cardinality"] != "MANY_TO_MANY":
                out.append(f"{rid}: an interface {side} on a link that is not many-to-many")
            end = tree.get(ot or iface) or {}
            ends[side] = end if end.get("kind") == ("objectType" if ot else "interface") else None
        source, target = ends["source"], ends["target"]
        if source is None or target is None:
            out.append(f"{rid}: an end is gone")
            continue
        if link["cardinality"] == "MANY_TO_MANY":
            continue
        fk = source["properties"].get(link["foreignKeyProperty"])
        pk = target["properties"].get(target["primaryKey"])
        if fk is None or pk is None or fk["baseType"] != pk["baseType"]:
            out.append(f"{rid}: the foreign key does not hold the target's primary key")
    for rid, iface in _of(tree, "interface").items():
        out += [f"{rid}: {sp} is gone" for sp in iface["properties"] if sp not in tree]
        for lc in iface["linkConstraints"].values():
            if lc["targetObjectType"] not in tree:
                out.append(f"{rid}: the constraint's target is gone")
    for rid, ot in _of(tree, "objectType").items():
        props = ot["properties"]
        pk = props.get(ot["primaryKey"])
        if pk is None or pk["baseType"] not in ("string", "integer"):
            out.append(f"{rid}: no primary key of a key type")
        used = {}
        for p in props.values():
            sp = p["sharedProperty"]
            if sp is not None and sp not in tree:
                out.append(f"{rid}: shared property {sp} is gone")
            elif sp is not None:
                used[sp] = p
                if p["baseType"] != tree[sp]["baseType"]:
                    out.append(f"{rid}: {p['apiName']} is not of its shared property's type")
        for irid in ot["interfaces"]:
            iface = tree.get(irid)
            if iface is None:
                out.append(f"{rid}: interface {irid} is gone")
                continue
            out += [f"{rid}: {irid} asks for {sp}" for sp in iface["properties"] if sp not in used]
            for lc in iface["linkConstraints"].values():
                if lc["required"] and not _linked(links, rid, ot["interfaces"], lc):
                    out.append(f"{rid}: {irid} asks for a link {lc['apiName']}")
    return out


def _linked(links: dict, rid: str, interfaces: dict, lc: dict) -> bool:
    """A link from ``rid``, or from an interface it implements (these interfaces extend
    none), to the constraint's object type (one target for ONE)."""
    to = lc["targetObjectType"]
    for link in links.values():
        one = {"source": ("ONE_TO_ONE", "ONE_TO_MANY"), "target": ("ONE_TO_ONE",)}
        for side, other in (("source", "target"), ("target", "source")):
            mine = link[side] == rid or link.get(f"{side}Interface") in interfaces
            if not mine or link[other] != to:
                continue
            if lc["cardinality"] == "MANY" or link["cardinality"] in one[side]:
                return True
    return False


OTS = st.sampled_from(["ot0", "ot1"])
IFACES = st.sampled_from(["if1", "if2"])
SHARED = st.sampled_from(["sp1", "sp2"])
TYPES = st.sampled_from(["string", "integer", "double"])
EDITS = st.one_of(
    st.tuples(st.just("iface_prop"), IFACES, SHARED, st.booleans()),
    st.tuples(st.just("implements"), OTS, IFACES, st.booleans()),
    st.tuples(st.just("use_shared"), OTS, SHARED, st.booleans()),
    st.tuples(st.just("pk_type"), OTS, TYPES),
    st.tuples(st.just("fk_type"), TYPES),
    st.tuples(st.just("sp_type"), SHARED, TYPES),
    st.tuples(st.just("require"), st.booleans(), st.sampled_from(["ONE", "MANY"])),
    st.tuples(st.just("link_card"), st.sampled_from(["ONE_TO_MANY", "MANY_TO_MANY"])),
    st.tuples(
        st.just("link_end"),
        st.sampled_from(["lt1", "lt2"]),
        st.sampled_from(["source", "target"]),
        st.sampled_from(["ot0", "ot1", "if1", "if2"]),
    ),
    st.tuples(
        st.just("rename"),
        st.sampled_from(["ot0", "ot1", "if1"]),
        st.sampled_from(["Thing", "Other", "Coded", "Misc"]),
    ),
    st.tuples(
        st.just("delete"), st.sampled_from(["ot0", "ot1", "if1", "if2", "sp1", "lt1", "lt2"])
    ),
    st.tuples(st.just("describe"), OTS, st.sampled_from(["a", "b"])),
)


def edited(tree: dict, op: tuple) -> dict[str, dict | None]:
    """The documents an edit changes (``None``: deleted); ``{}`` if it does not apply."""
    name, *args = op
    if name == "delete":
        return {args[0]: None} if args[0] in tree else {}
    if name == "fk_type":
        doc = tree.get("ot1")
        if doc is None or "q1" not in doc["properties"]:
            return {}
        return {"ot1": _with_prop(doc, "q1", baseType=args[0])}
    if name == "require":
        doc = tree.get("if2")
        if doc is None:
            return {}
        lc = {**doc["linkConstraints"]["lc1"], "required": args[0], "cardinality": args[1]}
        return {"if2": {**doc, "linkConstraints": {"lc1": lc}}}
    if name == "link_end":  # a side re-pointed at an object type or an interface
        rid, side, end = args
        doc = tree.get(rid)
        if doc is None:
            return {}
        doc = {k: v for k, v in doc.items() if k != f"{side}Interface"}
        if end.startswith("if"):
            return {rid: {**doc, side: None, f"{side}Interface": end}}
        return {rid: {**doc, side: end}}
    if name == "link_card":
        doc = tree.get("lt1")
        if doc is None:
            return {}
        fk = None if args[0] == "MANY_TO_MANY" else "q1"
        return {"lt1": {**doc, "cardinality": args[0], "foreignKeyProperty": fk}}
    doc = tree.get(args[0])
    if doc is None:
        return {}
    if name == "iface_prop":
        members = {k: True for k in doc["properties"] if k != args[1]}
        if args[2]:
            members[args[1]] = True
        return {args[0]: {**doc, "properties": members}}
    if name == "implements":
        members = {k: True for k in doc["interfaces"] if k != args[1]}
        if args[2]:
            members[args[1]] = True
        return {args[0]: {**doc, "interfaces": members}}
    if name == "use_shared":
        props = {k: v for k, v in doc["properties"].items() if k != f"u{args[1]}"}
        shared = tree.get(args[1])
        if args[2] and shared is not None:
            props[f"u{args[1]}"] = prop(
                f"uses{args[1]}", shared["baseType"], position=5, sharedProperty=args[1]
            )
        return {args[0]: {**doc, "properties": props}}
    if name == "pk_type":
        return {args[0]: _with_prop(doc, doc["primaryKey"], baseType=args[1])}
    if name == "sp_type":
        return {args[0]: {**doc, "baseType": args[1]}}
    if name == "rename":
        return {args[0]: {**doc, "apiName": args[1]}}
    if name == "describe":
        return {args[0]: {**doc, "description": args[1]}}
    raise AssertionError(op)


def _with_prop(doc: dict, prid: str | None, **changes) -> dict:
    if prid not in doc["properties"]:
        return doc
    props = dict(doc["properties"])
    props[prid] = {**props[prid], **changes}
    return {**doc, "properties": props}


def run_edits(tree: dict, ops: list[tuple]) -> dict:
    """Apply the edits the rule set accepts; after each, the whole tree is valid."""
    for op in ops:
        changes = edited(tree, op)
        if not changes:
            continue
        candidate = apply(tree, changes)
        graph = TreeGraph(candidate)
        if validate(graph, set(changes), tree.get, graph.names):
            continue  # refused, as a write door refuses it
        tree = candidate
        assert problems(tree) == [], (op, problems(tree))
    return tree


def merged(base: dict, ours: dict, theirs: dict, choices: list[str]):
    """merge3 with every ERROR settled by the drawn choices; None while one is open."""
    resolutions: dict[str, Resolution] = {}
    for attempt in range(4):
        result = merge3(base, ours, theirs, POLICY, resolutions=resolutions)
        open_errors = [
            c for c in result.conflicts if not c.resolved and c.severity is Severity.ERROR
        ]
        if not open_errors:
            return result
        for i, conflict in enumerate(open_errors):
            resolutions[conflict.id] = Resolution(choices[(attempt + i) % len(choices)])
    return None


@settings(max_examples=250, deadline=None)
@given(
    st.lists(EDITS, max_size=6),
    st.lists(EDITS, max_size=6),
    st.lists(st.sampled_from(["ours", "theirs"]), min_size=1, max_size=4),
)
def test_no_block_means_the_merged_tree_is_valid(ours_ops, theirs_ops, choices):
    base = base_tree()
    assert problems(base) == []
    ours = run_edits(base, ours_ops)
    theirs = run_edits(base, theirs_ops)
    result = merged(base, ours, theirs, choices)
    if result is None or any(c.severity is Severity.BLOCK for c in result.conflicts):
        return
    tree = apply(ours, result.tree_changes)
    assert problems(tree) == [], (ours_ops, theirs_ops)
    # and the merged tree is a base the next edits keep valid
    run_edits(tree, ours_ops[::-1])
