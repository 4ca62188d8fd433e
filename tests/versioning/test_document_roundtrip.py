"""Rows <-> canonical documents, checked with hypothesis on generated ontologies.

Every kind of top-level entity and of child, every kind of reference, deprecations,
JSON constraints and unicode text: documents written onto an empty branch
(``ontology.workspace.write``: the mapping alone, without the rule set that
``workspace.apply`` checks first, since these ontologies need not follow it) read back
identical, to the byte (same hash), and so do the rows
of a set-based branch copy, a commit of those rows, a branch created from that commit,
and rows edited in place (renames, changed fields, children added and removed).
"""

from __future__ import annotations

import copy
import itertools
import uuid

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ontology.choices import STRUCT_FIELD_TYPES
from ontology.documents import to_documents
from ontology.workspace import as_stored, copy_rows
from ontology.workspace import write as apply
from tests.factories import BranchFactory
from versioning import services
from versioning.domain import doc_hash

pytestmark = pytest.mark.django_db

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_names = itertools.count()
ON_POSTGRESQL = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]

TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
BASE_TYPES = st.sampled_from(
    ["string", "integer", "long", "double", "date", "time", "boolean", "array"]
)
ITEM_TYPES = st.sampled_from(["string", "integer", "timestamp", "time"])
# numbers PostgreSQL's JSONB keeps as they are (see test_jsonb_keeps_the_canonical_bytes)
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0.5, 1.25, -3.75, 0.1, 2.0, 1e-7]),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abcdef"), inner, max_size=3)
    ),
    max_leaves=8,
)


class Rids:
    """Fresh, distinct UUIDs drawn from hypothesis (so examples replay)."""

    def __init__(self, draw) -> None:
        self.draw = draw
        self.used: set[str] = set()

    def __call__(self) -> str:
        while True:
            rid = str(self.draw(st.uuids(version=4)))
            if rid not in self.used:
                self.used.add(rid)
                return rid


def _names_of(draw, count: int, prefix: str) -> list[str]:
    """``count`` api names, distinct case-insensitively, some differing only in case."""
    stems = draw(
        st.lists(st.sampled_from(["a", "B", "c", "Dd", "ee", "Fx"]), min_size=count, max_size=count)
    )
    out, seen = [], set()
    for i, stem in enumerate(stems):
        name = f"{prefix}{stem}{i}"
        while name.lower() in seen:
            name += "x"
        seen.add(name.lower())
        out.append(name)
    return out


def _status(draw) -> tuple[str, dict | None]:
    status = draw(st.sampled_from(["ACTIVE", "EXPERIMENTAL", "DEPRECATED"]))
    if status != "DEPRECATED":
        return status, None
    deadline = draw(st.one_of(st.none(), st.dates().map(lambda d: d.isoformat())))
    return status, {"message": draw(TEXT), "deadline": deadline}


def _typed(draw, refs: dict[str, list[str]]) -> dict:
    base = draw(BASE_TYPES)
    return {
        "baseType": base,
        "itemType": draw(ITEM_TYPES) if base == "array" else None,
        "valueType": draw(st.sampled_from([None, *refs["valueType"]])),
        "structType": draw(st.sampled_from([None, *refs["structType"]])),
    }


def _top(draw, kind: str, rid: str, api_name: str, *, display: bool = True) -> dict:
    status, deprecation = _status(draw)
    doc = {
        "kind": kind,
        "rid": rid,
        "apiName": api_name,
        "description": draw(TEXT),
        "status": status,
        "deprecation": deprecation,
    }
    if display:
        doc["displayName"] = draw(TEXT)
    return doc


def _subset(draw, rids: list[str]) -> dict[str, bool]:
    return dict.fromkeys(draw(st.lists(st.sampled_from(rids), unique=True)) if rids else [], True)


def _struct_field(draw, api_name: str, position: int, refs: dict[str, list[str]]) -> dict:
    """A struct field; ``itemType`` and ``valueType`` only when set, as documents have them."""
    field = {
        "apiName": api_name,
        "displayName": draw(TEXT),
        "description": draw(TEXT),
        "baseType": draw(st.sampled_from([t.value for t in STRUCT_FIELD_TYPES])),
        "required": draw(st.booleans()),
        "position": position,
    }
    if field["baseType"] == "array":
        field["itemType"] = draw(ITEM_TYPES)
    value_type = draw(st.sampled_from([None, *refs["valueType"]]))
    if value_type is not None:
        field["valueType"] = value_type
    return field


@st.composite
def ontologies(draw) -> dict[str, dict]:
    """A tree ``{rid: document}`` shaped as docs/documents.md whose references all resolve."""
    rid = Rids(draw)
    docs: dict[str, dict] = {}
    refs: dict[str, list[str]] = {"valueType": [], "structType": []}

    for name in _names_of(draw, draw(st.integers(0, 2)), "Vt"):
        doc = _top(draw, "valueType", rid(), name)
        base = draw(BASE_TYPES.filter(lambda b: b != "struct"))
        doc.update(
            baseType=base,
            itemType=draw(ITEM_TYPES) if base == "array" else None,
            constraints=draw(st.dictionaries(st.sampled_from(["range", "length", "enum"]), JSON)),
        )
        docs[doc["rid"]] = doc
        refs["valueType"].append(doc["rid"])

    for name in _names_of(draw, draw(st.integers(0, 2)), "St"):
        doc = _top(draw, "structType", rid(), name)
        doc["fields"] = {
            rid(): _struct_field(draw, field, position, refs)
            for position, field in enumerate(_names_of(draw, draw(st.integers(1, 3)), "f"))
        }
        docs[doc["rid"]] = doc
        refs["structType"].append(doc["rid"])

    shared = []
    for name in _names_of(draw, draw(st.integers(0, 2)), "sp"):
        doc = _top(draw, "sharedProperty", rid(), name)
        doc.update(pii=draw(st.booleans()), **_typed(draw, refs))
        docs[doc["rid"]] = doc
        shared.append(doc["rid"])

    ot_names = _names_of(draw, draw(st.integers(1, 3)), "Ot")
    ot_rids = [rid() for _ in ot_names]

    interfaces: list[str] = []
    for name in _names_of(draw, draw(st.integers(0, 2)), "If"):
        doc = _top(draw, "interface", rid(), name)
        doc.update(
            icon=draw(TEXT),
            extends=_subset(draw, interfaces),
            properties=_subset(draw, shared),
            linkConstraints={},
        )
        for constraint in _names_of(draw, draw(st.integers(0, 2)), "lc"):
            to_interface = bool(interfaces) and draw(st.booleans())
            doc["linkConstraints"][rid()] = {
                "apiName": constraint,
                "displayName": draw(TEXT),
                "description": draw(TEXT),
                "targetObjectType": None if to_interface else draw(st.sampled_from(ot_rids)),
                "targetInterface": draw(st.sampled_from(interfaces)) if to_interface else None,
                "cardinality": draw(st.sampled_from(["ONE", "MANY"])),
                "required": draw(st.booleans()),
            }
        docs[doc["rid"]] = doc
        interfaces.append(doc["rid"])

    for ot_rid, name in zip(ot_rids, ot_names, strict=True):
        doc = _top(draw, "objectType", ot_rid, name)
        properties = {}
        for position, prop in enumerate(_names_of(draw, draw(st.integers(0, 3)), "p")):
            status, deprecation = _status(draw)
            properties[rid()] = {
                "apiName": prop,
                "displayName": draw(TEXT),
                "description": draw(TEXT),
                "sharedProperty": draw(st.sampled_from([None, *shared])),
                "required": draw(st.booleans()),
                "pii": draw(st.booleans()),
                "status": status,
                "deprecation": deprecation,
                "position": draw(st.sampled_from([position, 0])),
                **_typed(draw, refs),
            }
        keys = [None, *properties]
        doc.update(
            pluralDisplayName=draw(TEXT),
            visibility=draw(st.sampled_from(["NORMAL", "PROMINENT", "HIDDEN"])),
            icon=draw(TEXT),
            replacedBy=draw(st.sampled_from([None, *ot_rids])),
            primaryKey=draw(st.sampled_from(keys)),
            titleProperty=draw(st.sampled_from(keys)),
            interfaces=_subset(draw, interfaces),
            properties=properties,
        )
        docs[ot_rid] = doc

    for name in _names_of(draw, draw(st.integers(0, 2)), "lt"):
        doc = _top(draw, "linkType", rid(), name, display=False)
        source = draw(st.sampled_from(ot_rids))
        side = st.fixed_dictionaries(
            {
                "apiName": st.sampled_from(["one", "many", "Other"]),
                "displayName": TEXT,
                "visibility": st.sampled_from(["NORMAL", "HIDDEN"]),
            }
        )
        cardinality = draw(st.sampled_from(["ONE_TO_ONE", "ONE_TO_MANY", "MANY_TO_MANY"]))
        doc.update(
            cardinality=cardinality,
            source=source,
            target=draw(st.sampled_from(ot_rids)),
            sourceSide=draw(side),
            targetSide=draw(side),
            foreignKeyProperty=draw(st.sampled_from([None, *docs[source]["properties"]])),
        )
        # a many-to-many link's end may be an interface (the key only then: set-only)
        for end in ("source", "target"):
            if cardinality == "MANY_TO_MANY" and interfaces and draw(st.booleans()):
                doc[end] = None
                doc[f"{end}Interface"] = draw(st.sampled_from(interfaces))
                if end == "source":
                    doc["foreignKeyProperty"] = None
        docs[doc["rid"]] = doc
    return docs


def fresh_branch(prefix: str):
    return BranchFactory(name=f"{prefix}-{next(_names)}")


def assert_same(read: dict[str, dict], docs: dict[str, dict]) -> None:
    assert read == docs
    assert {r: doc_hash(d) for r, d in read.items()} == {r: doc_hash(d) for r, d in docs.items()}


@SETTINGS
@given(docs=ontologies())
def test_documents_to_rows_and_back_is_lossless(docs):
    branch = fresh_branch("rt")
    apply(branch, copy.deepcopy(docs))
    assert_same(to_documents(branch.pk), docs)

    copied = fresh_branch("rt-copy")
    copy_rows(branch, copied)
    assert_same(to_documents(copied.pk), docs)

    commit = services.commit_changes(branch, None, "round trip")
    assert commit.delta == {rid: doc_hash(doc) for rid, doc in docs.items()}
    assert_same(services.documents_at(commit.id), docs)
    from_commit = services.create_branch(f"rt-from-{next(_names)}", commit.id, None)
    assert_same(to_documents(from_commit.pk), docs)


@st.composite
def edited(draw, docs: dict[str, dict]) -> dict[str, dict]:
    """``docs`` with fields changed, entities and children renamed to fresh names, and
    properties added or dropped (references to dropped properties cleared)."""
    rid = Rids(draw)
    rid.used.update(docs)
    out = copy.deepcopy(docs)
    for doc in out.values():
        if draw(st.booleans()):
            doc["description"] = draw(TEXT)
        if draw(st.booleans()):
            doc["apiName"] = f"{doc['apiName']}Renamed"
        if doc["kind"] != "objectType":
            continue
        props = doc["properties"]
        for prid in draw(st.lists(st.sampled_from(sorted(props)), unique=True)) if props else []:
            del props[prid]
            for key in ("primaryKey", "titleProperty"):
                if doc[key] == prid:
                    doc[key] = None
            for link in out.values():
                if link["kind"] == "linkType" and link["foreignKeyProperty"] == prid:
                    link["foreignKeyProperty"] = None
        for prop in props.values():
            if draw(st.booleans()):
                prop["apiName"] += "New"
                prop["baseType"], prop["itemType"] = "double", None
        if draw(st.booleans()):
            props[rid()] = {
                "apiName": "added",
                "displayName": "Added",
                "description": "",
                "sharedProperty": None,
                "required": False,
                "pii": False,
                "status": "ACTIVE",
                "deprecation": None,
                "position": 9,
                "baseType": "string",
                "itemType": None,
                "valueType": None,
                "structType": None,
            }
    return out


@SETTINGS
@given(data=st.data())
def test_rows_edited_in_place_read_back_as_the_edited_documents(data):
    docs = data.draw(ontologies())
    branch = fresh_branch("rt-edit")
    apply(branch, copy.deepcopy(docs))
    changed = data.draw(edited(docs))
    apply(branch, copy.deepcopy(changed), before=docs)
    assert_same(to_documents(branch.pk), changed)


def _big_value_type(constraints):
    rid = str(uuid.UUID(int=1))
    return {
        rid: {
            "kind": "valueType",
            "rid": rid,
            "apiName": "Big",
            "displayName": "Big",
            "description": "",
            "status": "ACTIVE",
            "deprecation": None,
            "baseType": "double",
            "itemType": None,
            "constraints": constraints,
        }
    }


def test_as_stored_is_what_a_json_column_gives_back(db):
    """Value type constraints are JSON in the row. PostgreSQL's JSONB keeps numbers as
    exact decimals: ``1e30`` comes back as the integer ``10**30`` and ``-0.0`` as ``0.0``
    (SQLite keeps the text). ``as_stored`` maps a value to what the rows give back, on
    every database, and leaves every other number as it is."""
    written = {"range": {"min": -0.0, "max": 1e30}, "enum": [1.5e-07, 0.1, 12345.0, 2, 1e16]}
    stored = as_stored(written)
    assert stored == {
        "range": {"min": 0.0, "max": 10**30},
        "enum": [1.5e-07, 0.1, 12345.0, 2, 10**16],
    }
    assert type(stored["range"]["max"]) is int and str(stored["range"]["min"]) == "0.0"
    docs = _big_value_type(stored)
    branch = fresh_branch("rt-jsonb")
    apply(branch, copy.deepcopy(docs))
    assert_same(to_documents(branch.pk), docs)  # written as stored: read back the same


def test_an_edited_value_of_a_merge_is_committed_as_the_rows_read_it(db):
    """A steward's edited value enters a merged document without passing through rows:
    it is stored as the rows will give it back, so the merge commit's document and the
    target's rows are one document (one hash)."""
    from ontology import services as ontology
    from ontology.models import ValueType
    from tests.factories import ValueTypeFactory
    from tests.versioning.support import seed_main, steward
    from versioning.changes import mark_changed

    author, reviewer = steward("author"), steward("reviewer")
    main = seed_main(1, link=False)
    made = ValueTypeFactory(branch=main, api_name="Big", base_type="double")
    made.constraints = {"range": {"min": 1, "max": 5}}
    made.save()
    mark_changed(main.pk, made.rid, "valueType")
    services.commit_changes(main, None, "value type", system=True)
    dev = services.create_branch("dev", "main", author)
    for branch, bound, user in ((dev, 7, author), (main, 9, None)):
        row = ValueType.objects.get(branch=branch, rid=made.rid)
        row.constraints = {"range": {"min": 1, "max": bound}}
        ontology.save(row, user=None, system=branch.protected)
        services.commit_changes(branch, user, f"max {bound}", system=branch.protected)
    proposal = services.open_proposal(dev, main, "widen", author)
    rid = str(made.rid)
    conflict = next(c for c in services.dry_run(proposal)["conflicts"] if c["rid"] == rid)
    services.resolve(proposal, conflict["id"], "value", {"min": -0.0, "max": 1e30}, author)
    stored = proposal.resolutions[conflict["id"]]["value"]
    assert stored == {"min": 0.0, "max": 10**30} and type(stored["max"]) is int
    services.approve(proposal, reviewer)
    merge = services.merge_proposal(proposal, reviewer)
    committed = services.documents_at(merge.id, [rid])[rid]
    assert committed["constraints"]["range"] == {"min": 0.0, "max": 10**30}
    assert doc_hash(to_documents(main.pk)[rid]) == doc_hash(committed)
