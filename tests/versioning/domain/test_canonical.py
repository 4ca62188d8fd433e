import hashlib
import json

from versioning.domain import canonical_bytes, doc_hash

from .builders import object_type, prop


def test_canonical_bytes_are_sorted_compact_utf8():
    assert canonical_bytes({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == (
        '{"a":{"c":"é","d":[1,2]},"b":1}'.encode()
    )


def test_hash_is_sha256_of_canonical_bytes():
    doc = object_type("ot1", "Flight", {"p1": prop("flightNumber")})
    assert doc_hash(doc) == hashlib.sha256(canonical_bytes(doc)).hexdigest()


def test_hash_is_stable_under_key_order():
    doc = object_type("ot1", "Flight", {"p1": prop("a"), "p2": prop("b")})
    shuffled = json.loads(json.dumps(doc))
    shuffled = dict(reversed(list(shuffled.items())))
    shuffled["properties"] = dict(reversed(list(shuffled["properties"].items())))
    assert list(shuffled) != list(doc)
    assert doc_hash(shuffled) == doc_hash(doc)


def test_hash_changes_with_content():
    doc = object_type("ot1", "Flight")
    assert doc_hash(doc) != doc_hash({**doc, "description": "x"})
