"""The ontology vocabulary: every row belongs to a branch and has a stable ``rid``.

Rules live in the rule set over documents (:mod:`ontology.rule_set`, built on
:mod:`ontology.rules`); a model's ``clean()`` keeps only what a row alone can say (a
reference to another branch's row, docs/documents.md). Writes go through
:mod:`ontology.services`.

By domain: :mod:`.base` (what every row shares), :mod:`.schema_types` (value types, struct
types and fields, shared properties), :mod:`.interfaces`, :mod:`.object_types` (with their
properties), :mod:`.links`. Everything is re-exported here: import from ``ontology.models``.
"""

from .base import BranchScoped, StatusFields, TypedFields, unique_per_branch, where_set
from .interfaces import Interface, InterfaceLinkConstraint
from .links import LinkType
from .object_types import ObjectType, Property
from .pii import PiiDismissal
from .schema_types import SharedProperty, StructField, StructType, ValueType

__all__ = [
    "BranchScoped",
    "Interface",
    "InterfaceLinkConstraint",
    "LinkType",
    "ObjectType",
    "PiiDismissal",
    "Property",
    "SharedProperty",
    "StatusFields",
    "StructField",
    "StructType",
    "TypedFields",
    "ValueType",
    "unique_per_branch",
    "where_set",
]
