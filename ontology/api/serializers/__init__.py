"""API representation of the ontology: camelCase, references as ``{rid, apiName}``.

Serializers check the *shape* of a request (types, enums, lengths); the rules themselves
are the rule set's (:mod:`ontology.rule_set`) and the rows' own, run by
:mod:`ontology.services`, so the API reports the same messages as the admin. Each
serializer writes by calling its service.

Serializers are the *input* side only: what a response holds is the entity's document,
made a REST body by :mod:`ontology.api.representation` (one mapping for the versioning
store and the API); their read-only fields only describe it for the OpenAPI schema.

One module per domain: ``refs`` (references), ``base`` (shared fields and helpers),
``schema_types`` (value and struct types), ``object_types`` (shared properties, object
types), ``links`` (interfaces, link types).
"""

from .base import EntitySerializer
from .links import InterfaceSerializer, LinkConstraintSerializer, LinkTypeSerializer
from .object_types import ObjectTypeSerializer, PropertySerializer, SharedPropertySerializer
from .refs import Ref, RefField, Resolver
from .schema_types import StructFieldSerializer, StructTypeSerializer, ValueTypeSerializer

__all__ = [
    "EntitySerializer",
    "InterfaceSerializer",
    "LinkConstraintSerializer",
    "LinkTypeSerializer",
    "ObjectTypeSerializer",
    "PropertySerializer",
    "Ref",
    "RefField",
    "Resolver",
    "SharedPropertySerializer",
    "StructFieldSerializer",
    "StructTypeSerializer",
    "ValueTypeSerializer",
]
