"""django-filter FilterSets of the REST API; query parameters are camelCase.

References to other entities (``interface``, ``source``, ``valueType``, ...) take api
names, case-insensitively. ``ordering`` takes camelCase field names, ``-`` for descending.
"""

from __future__ import annotations

import django_filters as filters

from .choices import BaseType, Cardinality, ItemType, Status, Visibility
from .models import Interface, LinkType, ObjectType, SharedProperty, StructType, ValueType

COMMON_ORDERING = (
    ("api_name", "apiName"),
    ("display_name", "displayName"),
    ("status", "status"),
    ("created_at", "createdAt"),
    ("updated_at", "updatedAt"),
)


def _ordering(*extra: tuple[str, str]) -> filters.OrderingFilter:
    return filters.OrderingFilter(
        fields=COMMON_ORDERING + extra, help_text="Sort by these fields; prefix - to reverse."
    )


def _by_name(field: str, help_text: str) -> filters.CharFilter:
    return filters.CharFilter(
        field_name=field, lookup_expr="iexact", help_text=help_text, distinct="__" in field
    )


class EntityFilterSet(filters.FilterSet):
    apiName = _by_name("api_name", "API name (case-insensitive, exact).")
    status = filters.MultipleChoiceFilter(choices=Status.choices)
    ordering = _ordering()


class ObjectTypeFilterSet(EntityFilterSet):
    visibility = filters.MultipleChoiceFilter(choices=Visibility.choices)
    interface = _by_name("interfaces__api_name", "Implements this interface.")
    sharedProperty = _by_name(
        "properties__shared_property__api_name", "Has a property using this shared property."
    )
    ordering = _ordering(("visibility", "visibility"))

    class Meta:
        model = ObjectType
        fields: list[str] = []


class TypedFilterSet(EntityFilterSet):
    baseType = filters.MultipleChoiceFilter(field_name="base_type", choices=BaseType.choices)
    itemType = filters.MultipleChoiceFilter(field_name="item_type", choices=ItemType.choices)
    ordering = _ordering(("base_type", "baseType"))


class ValueTypeFilterSet(TypedFilterSet):
    class Meta:
        model = ValueType
        fields: list[str] = []


class SharedPropertyFilterSet(TypedFilterSet):
    pii = filters.BooleanFilter()
    valueType = _by_name("value_type__api_name", "Uses this value type.")
    structType = _by_name("struct_type__api_name", "Uses this struct type.")

    class Meta:
        model = SharedProperty
        fields: list[str] = []


class StructTypeFilterSet(EntityFilterSet):
    class Meta:
        model = StructType
        fields: list[str] = []


class InterfaceFilterSet(EntityFilterSet):
    extends = _by_name("extends__api_name", "Directly extends this interface.")
    sharedProperty = _by_name("properties__api_name", "Requires this shared property.")

    class Meta:
        model = Interface
        fields: list[str] = []


class LinkTypeFilterSet(EntityFilterSet):
    cardinality = filters.MultipleChoiceFilter(choices=Cardinality.choices)
    source = _by_name("source__api_name", "Source object type.")
    target = _by_name("target__api_name", "Target object type.")
    objectType = filters.CharFilter(
        method="filter_object_type", help_text="Either side is this object type."
    )
    ordering = filters.OrderingFilter(
        fields=(
            ("api_name", "apiName"),
            ("status", "status"),
            ("cardinality", "cardinality"),
            ("created_at", "createdAt"),
            ("updated_at", "updatedAt"),
        ),
        help_text="Sort by these fields; prefix - to reverse.",
    )

    class Meta:
        model = LinkType
        fields: list[str] = []

    def filter_object_type(self, queryset, name, value):
        return queryset.filter(source__api_name__iexact=value) | queryset.filter(
            target__api_name__iexact=value
        )
