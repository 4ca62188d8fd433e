"""Who refers to whom, over a commit's tree: the per-commit index of the rule set's graph
(``ontology.rule_set._commit_index``) with a merge's changes laid over it answers exactly
what a plain mapping of the same documents answers, for every kind and every rid."""

from __future__ import annotations

import copy

import pytest

from ontology import rule_set
from ontology.kinds import KINDS, REFERRER_KINDS
from ontology.rule_set import TreeGraph
from tests.factories import ObjectTypeFactory
from tests.versioning.support import rid_of, seed_main
from versioning import services
from versioning.changes import mark_changed
from versioning.domain.merge import MergedView
from versioning.store import TreeView

pytestmark = pytest.mark.django_db


def _answers(graph: TreeGraph, rids: list[str]) -> dict:
    return {
        (rid, kind): graph.referrers({rid}, REFERRER_KINDS[kind])
        for rid in rids
        for kind in sorted(KINDS)
        if REFERRER_KINDS.get(kind)
    }


def test_the_commit_index_under_changes_answers_as_the_plain_tree():
    main = seed_main(4)  # Type0..Type3, typeLink Type0 -> Type1
    old = ObjectTypeFactory(branch=main, api_name="Old", properties=1)
    mark_changed(main.pk, old.rid, "objectType")
    services.commit_changes(main, None, "one more", system=True)
    main.refresh_from_db()
    tree = TreeView(main.head_id)
    docs = dict(tree.items())
    link = next(rid for rid, d in docs.items() if d["kind"] == "linkType")
    t0, t1, t2, t3 = (rid_of(main, f"Type{i}") for i in range(4))
    changes = {
        # the link now ends at Type2: Type1 is no longer referred to by it, Type2 is
        link: {**docs[link], "target": t2},
        # Type3 now says Old replaces it; Type0 is gone
        t3: {**docs[t3], "replacedBy": str(old.rid)},
        t0: None,
        # a new object type replaced by Type1
        "00000000-0000-4000-8000-000000000001": {
            **copy.deepcopy(docs[t2]),
            "rid": "00000000-0000-4000-8000-000000000001",
            "apiName": "Fresh",
            "properties": {},
            "primaryKey": None,
            "titleProperty": None,
            "replacedBy": t1,
        },
    }
    merged = MergedView(tree, changes)
    plain = TreeGraph({rid: doc for rid, doc in merged.items()})
    rids = [t0, t1, t2, t3, str(old.rid), link, "00000000-0000-4000-8000-000000000001"]
    rule_set._COMMIT_INDEXES.clear()
    cold = _answers(TreeGraph(merged), rids)
    warm = _answers(TreeGraph(MergedView(TreeView(main.head_id), changes)), rids)
    assert rule_set._COMMIT_INDEXES, "the commit's index was not used"
    expected = _answers(plain, rids)
    assert cold == expected
    assert warm == expected
    # and the answers are not trivially empty: the changes are seen
    assert expected[(t2, "objectType")] >= {link}
    assert link not in expected[(t1, "objectType")]
    assert "00000000-0000-4000-8000-000000000001" in expected[(t1, "objectType")]
    assert t3 in expected[(str(old.rid), "objectType")]


# --- the rows graph: references read by their target kind -------------------------------


def test_the_rows_graph_reads_references_by_kind_and_still_names_a_wrong_kind(dev):
    """A changed object type's references are read from their target kinds' tables only,
    and its referrers looked up only through references that can point at an object type
    (not the 40,000 properties' struct types or shared properties); a reference to a
    document of another kind is still named as such, not as gone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ontology.documents import to_documents
    from ontology.rule_set.rows import check_documents
    from tests.factories import ValueTypeFactory

    code = ValueTypeFactory(branch=dev, api_name="Code")
    flight = ObjectTypeFactory(branch=dev, api_name="Flight", properties=2)
    other = ObjectTypeFactory(branch=dev, api_name="Other", properties=1)
    doc = to_documents(dev.pk, [str(flight.rid)])[str(flight.rid)]
    first = next(iter(doc["properties"]))
    good = copy.deepcopy(doc)
    good["properties"][first]["valueType"] = str(code.rid)
    with CaptureQueriesContext(connection) as read:
        assert check_documents(dev.pk, {str(flight.rid): good}, {str(flight.rid): doc}) == []
    tables = " ".join(q["sql"] for q in read.captured_queries)
    assert "ontology_valuetype" in tables
    for kind_table in ("ontology_structtype", "ontology_sharedproperty"):
        assert kind_table not in tables, kind_table
    assert "ontology_linktype" in tables  # links may point at it: looked up

    bad = copy.deepcopy(doc)
    bad["properties"][first]["valueType"] = str(other.rid)
    [violation] = check_documents(dev.pk, {str(flight.rid): bad}, {str(flight.rid): doc})
    assert violation.rule == "reference"
    assert "a objectType, not a valueType" in violation.message


def _queries_to_validate_a_change_with_dependents(sources: int) -> tuple[int, int]:
    """(queries, documents checked) for the rule set over a merge that changes an object
    type ``sources`` links point at (each link and its source are then checked too)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import BranchFactory, LinkTypeFactory

    main = BranchFactory(name=f"seed{sources}")
    target = ObjectTypeFactory(branch=main, api_name="Target", properties=2)
    for i in range(sources):
        source = ObjectTypeFactory(branch=main, api_name=f"Source{i}", properties=2)
        LinkTypeFactory(branch=main, api_name=f"link{i}", source=source, target=target)
    services.commit_changes(main, None, "seed", system=True)
    main.refresh_from_db()
    doc = TreeView(main.head_id)[str(target.rid)]
    changes = {str(target.rid): {**doc, "visibility": "HIDDEN"}}  # not a text: it matters
    rule_set._COMMIT_INDEXES.clear()
    checked: list[str] = []
    real = rule_set.check_document

    def counting(graph, rid, doc):
        checked.append(rid)
        return real(graph, rid, doc)

    # the commit's reference index is built once per process (reading every document of
    # the referring kinds); measured here is a later check, over a fresh view of the tree
    rule_set.validate(TreeGraph(MergedView(TreeView(main.head_id), changes)), changes)
    graph = TreeGraph(MergedView(TreeView(main.head_id), changes))
    with CaptureQueriesContext(connection) as read:
        try:
            rule_set.check_document = counting
            assert rule_set.validate(graph, changes, lambda rid: doc) == []
        finally:
            rule_set.check_document = real
    return len(read.captured_queries), len(checked)


def test_the_checked_neighbourhood_is_read_in_bulk():
    """The documents the rule set checks over a commit's tree, and those they refer to,
    are read in a few queries whatever their number, not one lookup per document (as a
    proposal's dry run checks its merge, with the commit's index warm)."""
    few, few_checked = _queries_to_validate_a_change_with_dependents(2)
    many, many_checked = _queries_to_validate_a_change_with_dependents(10)
    assert (few_checked, many_checked) == (1 + 2 * 2, 1 + 2 * 10)  # target, links, sources
    assert many == few, (few, many)


def test_only_a_change_neighbours_can_read_re_checks_them():
    """A change of texts alone (the document's or a child's) matters to no neighbour; a
    change of anything else, a key added or removed, or a child added, does."""
    from ontology.rule_set import _matters

    prop = {"apiName": "a", "baseType": "string", "description": "x", "displayName": "A"}
    doc = {"kind": "objectType", "apiName": "T", "description": "d", "properties": {"p": prop}}

    def changed(**over):
        return {**doc, **over}

    def with_prop(**over):
        return changed(properties={"p": {**prop, **over}})

    assert not _matters(changed(description="other"), doc)
    assert not _matters(with_prop(description="other", displayName="B"), doc)
    assert _matters(with_prop(baseType="integer"), doc)
    assert _matters(with_prop(valueType="v"), doc)
    assert _matters(changed(properties={"p": prop, "q": prop}), doc)
    assert _matters(changed(status="DEPRECATED"), doc)
    assert _matters({k: v for k, v in doc.items() if k != "description"} | {"x": 1}, doc)
    assert _matters(None, doc) and _matters(doc, None)
