"""The columns' rules over row values (ontology.columns) say what a model's clean_fields
says of the same values, without a model instance per row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from ontology.columns import column_errors
from ontology.models import LinkType, ObjectType, Property, StructField

#: (model, attribute, values to try); no database needed
CASES = [
    (ObjectType, "display_name", ["Flight", "", "x" * 200, "x" * 201, 5, None]),
    (ObjectType, "icon", ["", "plane", "i" * 61]),
    (ObjectType, "visibility", ["NORMAL", "HIDDEN", "nope", ""]),
    (ObjectType, "status", ["ACTIVE", "DEPRECATED", "WEIRD"]),
    (LinkType, "source_display_name", ["Side", "", "s" * 201]),
    (LinkType, "cardinality", ["MANY_TO_MANY", "lots"]),
    (Property, "position", [0, 3, -1, "a", 2**40, 1.5, True]),
    (Property, "required", [True, False, "yes", "maybe", None, 1]),
    (Property, "examples", [[], ["a"], "x", None, {"a": 1}]),
    (Property, "deprecation_deadline", [None, dt.date(2030, 1, 1), "2030-01-01", "soon"]),
    (Property, "base_type", ["string", "struct", "widget"]),
    (StructField, "item_type", ["", "string", "struct"]),
    (StructField, "position", [0, 40_000, -5]),
]


def _clean_fields(model, name: str, value) -> dict[str, list[str]]:
    row = model(**{name: value})
    others = {f.name for f in model._meta.fields if f.attname != name}
    try:
        row.clean_fields(exclude=others)
    except ValidationError as exc:
        return exc.message_dict
    return {}


@pytest.mark.parametrize(
    ("model", "name", "value"),
    [(m, n, v) for m, n, values in CASES for v in values],
    ids=lambda x: getattr(x, "__name__", repr(x))[:20],
)
def test_column_errors_are_the_models_clean_fields(model, name, value):
    assert column_errors(model, {name: value}) == _clean_fields(model, name, value)


def test_a_nul_character_is_refused_where_the_database_would_refuse_it():
    assert "description" in column_errors(ObjectType, {"description": "a\x00b"})
    assert "examples" in column_errors(Property, {"examples": ["ok", "a\x00b"]})
    assert "display_name" in column_errors(ObjectType, {"display_name": "a\x00b"})


def test_references_and_unknown_names_are_not_checked():
    assert column_errors(Property, {"object_type_id": "nope", "whatever": 1}) == {}
