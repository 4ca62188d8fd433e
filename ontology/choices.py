"""Enumerations of the ontology vocabulary."""

from django.db import models


class Status(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    EXPERIMENTAL = "EXPERIMENTAL", "Experimental"
    DEPRECATED = "DEPRECATED", "Deprecated"


class Visibility(models.TextChoices):
    NORMAL = "NORMAL", "Normal"
    PROMINENT = "PROMINENT", "Prominent"
    HIDDEN = "HIDDEN", "Hidden"


class BaseType(models.TextChoices):
    STRING = "string", "String"
    INTEGER = "integer", "Integer"
    SHORT = "short", "Short"
    LONG = "long", "Long"
    FLOAT = "float", "Float"
    DOUBLE = "double", "Double"
    DECIMAL = "decimal", "Decimal"
    BOOLEAN = "boolean", "Boolean"
    BYTE = "byte", "Byte"
    DATE = "date", "Date"
    TIMESTAMP = "timestamp", "Timestamp"
    TIME = "time", "Time of day"
    GEOPOINT = "geopoint", "Geopoint"
    GEOSHAPE = "geoshape", "Geoshape"
    ATTACHMENT = "attachment", "Attachment"
    VECTOR = "vector", "Vector"
    STRUCT = "struct", "Struct"
    ARRAY = "array", "Array"


# What an array may hold: any base type but vector (and no arrays of arrays).
ITEM_TYPES = [c for c in BaseType if c not in (BaseType.VECTOR, BaseType.ARRAY)]
ItemType = models.TextChoices("ItemType", [(c.name, (c.value, c.label)) for c in ITEM_TYPES])

# The types a struct field may have: primitives, and arrays of them (no struct, vector,
# geoshape or attachment inside a struct).
STRUCT_FIELD_TYPES = [
    BaseType.ARRAY,
    BaseType.BOOLEAN,
    BaseType.BYTE,
    BaseType.DATE,
    BaseType.DECIMAL,
    BaseType.DOUBLE,
    BaseType.FLOAT,
    BaseType.GEOPOINT,
    BaseType.INTEGER,
    BaseType.LONG,
    BaseType.SHORT,
    BaseType.STRING,
    BaseType.TIME,
    BaseType.TIMESTAMP,
]
StructFieldType = models.TextChoices(
    "StructFieldType", [(c.name, (c.value, c.label)) for c in STRUCT_FIELD_TYPES]
)
# What an array struct field may hold: any other struct field type.
STRUCT_FIELD_ITEM_TYPES = [c for c in STRUCT_FIELD_TYPES if c != BaseType.ARRAY]
StructFieldItemType = models.TextChoices(
    "StructFieldItemType", [(c.name, (c.value, c.label)) for c in STRUCT_FIELD_ITEM_TYPES]
)


class Cardinality(models.TextChoices):
    ONE_TO_ONE = "ONE_TO_ONE", "One to one"
    ONE_TO_MANY = "ONE_TO_MANY", "One to many"
    MANY_TO_MANY = "MANY_TO_MANY", "Many to many"


class ConstraintCardinality(models.TextChoices):
    ONE = "ONE", "One"
    MANY = "MANY", "Many"
