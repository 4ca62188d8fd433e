"""The event catalogue and upcasters: plain Python, no database."""

import pytest

from events import registry
from events.registry import EventTypeError

SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}


@pytest.fixture
def cleanup():
    names: list[str] = []
    yield names
    for name in names:
        registry.unregister(name)


@pytest.mark.parametrize(
    "name",
    [
        "oms.ontology.x.created.v1",
        "com.oms.ontology.x.created",
        "com.oms.Ontology.x.created.v1",
        "com.oms.ontology.x.created.v0",
        "com.oms.ontology.created.v1",
        "",
    ],
)
def test_type_names_follow_the_convention(name):
    with pytest.raises(EventTypeError):
        registry.register_event_type(name, schema=SCHEMA, description="d")


def test_register_is_idempotent_and_refuses_a_conflicting_definition(cleanup):
    name = "com.oms.test.reg.created.v1"
    cleanup.append(name)
    first = registry.register_event_type(name, schema=SCHEMA, description="d")
    assert registry.register_event_type(name, schema=SCHEMA, description="d") is first
    with pytest.raises(EventTypeError, match="another definition"):
        registry.register_event_type(name, schema={"type": "object"}, description="d")
    assert registry.get(name) is first


def test_invalid_json_schema_and_missing_description_are_refused():
    with pytest.raises(EventTypeError, match="invalid JSON Schema"):
        registry.register_event_type("com.oms.test.reg.bad.v1", schema={"type": 5}, description="d")
    with pytest.raises(EventTypeError, match="description"):
        registry.register_event_type("com.oms.test.reg.bad.v1", schema=SCHEMA, description=" ")
    assert registry.get("com.oms.test.reg.bad.v1") is None


def test_validate_reports_paths(cleanup):
    name = "com.oms.test.reg.validated.v1"
    cleanup.append(name)
    registry.register_event_type(name, schema=SCHEMA, description="d")
    assert registry.validate(name, {"x": 1}) == []
    errors = registry.validate(name, {"x": "one"})
    assert errors and errors[0].startswith("x:")
    assert registry.validate(name, {}) == ["(root): 'x' is a required property"]


def test_upcasters_chain_to_the_current_version(cleanup):
    v1, v2, v3 = (f"com.oms.test.up.renamed.v{n}" for n in (1, 2, 3))
    cleanup.extend([v1, v2, v3])
    registry.register_upcaster(v1, v2, lambda d: {"name": d["old"]})
    registry.register_upcaster(v2, v3, lambda d: {**d, "version": 3})
    assert registry.upcast(v1, {"old": "a"}) == (v3, {"name": "a", "version": 3})
    assert registry.upcast(v3, {"name": "b"}) == (v3, {"name": "b"})
    assert registry.current_type(v1) == v3
    assert registry.older_types(v3) == {v1, v2, v3}


def test_upcaster_loops_and_conflicts_are_refused(cleanup):
    a, b = "com.oms.test.loop.x.v1", "com.oms.test.loop.x.v2"
    cleanup.extend([a, b])
    registry.register_upcaster(a, b, lambda d: d)
    with pytest.raises(EventTypeError, match="loop"):
        registry.register_upcaster(b, a, lambda d: d)
    with pytest.raises(EventTypeError, match="already has an upcaster"):
        registry.register_upcaster(a, "com.oms.test.loop.x.v3", lambda d: d)
    with pytest.raises(EventTypeError):
        registry.register_upcaster(a, a, lambda d: d)


def test_delivery_types_are_registered_by_the_app():
    types = {t.type for t in registry.all_types()}
    assert "com.oms.events.event.dead_lettered.v1" in types
