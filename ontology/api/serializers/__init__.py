"""API representation of the ontology: camelCase, references as ``{rid, apiName}``.

Serializers check the *shape* of a request (types, enums, lengths); the rules themselves
run in the models' ``clean()`` through :mod:`ontology.services`, so the API reports the
same messages as the admin. Each serializer writes by calling its service.

Reads are hot paths: ``to_representation`` is written out by hand over rows fetched with
the viewset's prefetches, instead of DRF's per-field machinery.

One module per domain: ``refs`` (references), ``base`` (shared fields and helpers),
``schema_types`` (value and struct types), ``object_types`` (shared properties, object
types), ``links`` (interfaces, link types).
"""

from .base import EntitySerializer
from .links import InterfaceSerializer, LinkConstraintSerializer, LinkTypeSerializer
from .object_types import (
    PROPERTY_COLUMNS,
    ObjectTypeSerializer,
    PropertySerializer,
    SharedPropertySerializer,
    attach_properties,
    property_representation,
)
from .refs import Ref, RefField, Resolver, ref
from .schema_types import StructFieldSerializer, StructTypeSerializer, ValueTypeSerializer

__all__ = [
    "PROPERTY_COLUMNS",
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
    "attach_properties",
    "property_representation",
    "ref",
]
