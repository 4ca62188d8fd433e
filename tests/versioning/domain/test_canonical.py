import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from versioning.domain import canonical_bytes, doc_hash, parse

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


# --- reading canonical bytes back (orjson, with json where the two could differ) ----------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: beyond 64 bits orjson would read a float
    | st.floats(allow_nan=False)  # infinities are written as Infinity, which orjson refuses
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


@given(_json_values)
def test_parse_reads_back_exactly_what_json_reads(value):
    raw = canonical_bytes(value)
    back = parse(raw)
    # byte-identical when written again: same types (1 stays an int, 1.0 a float), same hash
    assert canonical_bytes(back) == raw
    assert back == json.loads(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"min":123456789012345678901234567890}',
        b'{"max":-18446744073709551617}',
        b"[18446744073709551616,1]",
        b'{"n":Infinity}',
        b'{"n":-Infinity,"m":NaN}',
        b'{"x":1e400}',
        b'"\\ud800"',
    ],
)
def test_parse_falls_back_to_json_where_orjson_would_differ_or_refuse(raw):
    back = parse(raw)
    assert repr(back) == repr(json.loads(raw))


def test_parse_keeps_a_long_digit_run_in_a_string_and_an_int64_exact():
    raw = b'{"code":"12345678901234567890123","big":9223372036854775807}'
    assert parse(raw) == {"code": "12345678901234567890123", "big": 9223372036854775807}
    assert type(parse(raw)["big"]) is int
