"""Reserved words: each refused in any case with its reason and a safe name that passes
every name rule, at every door (rules, API, bundle import); the documented list is the
declared one."""

from __future__ import annotations

from pathlib import Path

import pytest

from ontology import bundles, rules
from ontology.bundles_import import import_bundle, parse
from ontology.models import ObjectType
from tests.ontology.conftest import url

DOCS = Path(__file__).parents[2] / "docs" / "documents.md"
CASES = [rules.PASCAL, rules.CAMEL, rules.ANY_CASE]


@pytest.mark.parametrize("word", sorted(rules.RESERVED_WORDS))
@pytest.mark.parametrize("case", CASES)
def test_each_word_is_refused_with_why_and_a_safe_name(word, case):
    spelled = word[:1].upper() + word[1:] if case == rules.PASCAL else word
    for name in (spelled, spelled.upper() if case == rules.ANY_CASE else spelled):
        [message] = rules.check_api_name(name, case)
        assert "reserved" in message and rules.RESERVED_WORDS[word] in message
        suggestion = rules.safe_name(name, case)
        assert f"Use '{suggestion}' instead." in message
        assert rules.check_api_name(suggestion, case) == [], suggestion


def test_a_suggestion_keeps_the_kinds_case():
    assert rules.safe_name("RID", rules.CAMEL) == "ridValue"
    assert rules.safe_name("object", rules.PASCAL) == "ObjectEntity"
    assert rules.safe_name("PrimaryKey", rules.ANY_CASE) == "PrimaryKeyEntity"
    assert rules.check_api_name("ridValue", rules.CAMEL) == []


def test_the_documented_list_is_the_declared_one():
    text = DOCS.read_text()
    section = text[text.index("## Reserved words") : text.index("## The map of the kinds")]
    listed = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert listed == set(rules.RESERVED_WORDS)


@pytest.mark.django_db
def test_the_api_refuses_a_reserved_name_at_its_path_with_the_suggestion(api, dev):
    body = {
        "apiName": "Object",
        "displayName": "Object",
        "pluralDisplayName": "Objects",
        "properties": [{"apiName": "code", "displayName": "Code", "baseType": "string"}],
    }
    response = api.post(url("dev", "object-types"), body, format="json")
    assert response.status_code == 400
    assert "ObjectEntity" in " ".join(response.json()["error"]["fields"]["apiName"])
    body["apiName"] = "Thing"
    body["properties"][0]["apiName"] = "rid"
    response = api.post(url("dev", "object-types"), body, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    [key] = [k for k in fields if k.startswith("properties")]
    assert key.endswith("apiName") and "ridValue" in " ".join(fields[key])
    assert not ObjectType.objects.filter(branch=dev).exists()


@pytest.mark.django_db
def test_a_bundle_with_a_reserved_name_is_refused_at_its_pointer(dev):
    bundle = {
        "manifest": {"format": "oms.bundle", "formatVersion": 1},
        "documents": {
            "valueType": [{"apiName": "Ontology", "displayName": "x", "baseType": "string"}]
        },
    }
    with pytest.raises(bundles.BundleError) as refused:
        import_bundle(dev, parse(bundle), message="m")
    pointers = {e["pointer"]: e["message"] for e in refused.value.errors}
    assert "OntologyEntity" in pointers["/documents/valueType/0/apiName"]
