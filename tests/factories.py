"""factory_boy factories for every ontology model, ``Branch`` and ``User``.

Factories write rows directly (no services, no events): they build the state a test
starts from. Tests of the services and the API call those to make the changes under test.

Child rows follow their parent's branch, and references follow the referring row's
branch, so ``PropertyFactory(object_type=ot)`` or ``LinkTypeFactory(branch=dev)`` stay
on one branch::

    dev = BranchFactory(name="dev")
    flight = ObjectTypeFactory(branch=dev, properties=3)   # 3 string properties, first is the key
    LinkTypeFactory(branch=dev, source=flight)
    UserFactory(permissions=["ontology.change_objecttype"])
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from factory.django import DjangoModelFactory

from ontology.choices import BaseType, Cardinality, ConstraintCardinality
from ontology.models import (
    Interface,
    InterfaceLinkConstraint,
    LinkType,
    ObjectType,
    Property,
    SharedProperty,
    StructField,
    StructType,
    ValueType,
)
from versioning.models import Branch

PASSWORD = "password"


def _grant(user, permissions) -> None:
    """Give ``user`` the permissions named ``"app_label.codename"``."""
    for name in permissions:
        app_label, codename = name.split(".", 1)
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


class UserFactory(DjangoModelFactory):
    """A user whose password is :data:`PASSWORD`; ``permissions=[...]`` grants model perms."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        if create and extracted:
            _grant(self, extracted)


class BranchFactory(DjangoModelFactory):
    """``BranchFactory(name="main")`` returns the existing main branch."""

    class Meta:
        model = Branch
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"branch-{n}")


class ValueTypeFactory(DjangoModelFactory):
    class Meta:
        model = ValueType

    branch = factory.SubFactory(BranchFactory)
    api_name = factory.Sequence(lambda n: f"ValueType{n}")
    display_name = factory.LazyAttribute(lambda o: o.api_name)
    base_type = BaseType.STRING
    constraints = factory.LazyFunction(dict)


class StructTypeFactory(DjangoModelFactory):
    """``StructTypeFactory(fields=2)`` adds two string fields."""

    class Meta:
        model = StructType
        skip_postgeneration_save = True

    branch = factory.SubFactory(BranchFactory)
    api_name = factory.Sequence(lambda n: f"StructType{n}")
    display_name = factory.LazyAttribute(lambda o: o.api_name)

    @factory.post_generation
    def fields(self, create, extracted, **kwargs):
        if create and extracted:
            for position in range(extracted):
                StructFieldFactory(struct_type=self, position=position, **kwargs)


class StructFieldFactory(DjangoModelFactory):
    class Meta:
        model = StructField

    struct_type = factory.SubFactory(StructTypeFactory)
    branch = factory.SelfAttribute("struct_type.branch")
    api_name = factory.Sequence(lambda n: f"field{n}")
    display_name = factory.LazyAttribute(lambda o: o.api_name)
    base_type = BaseType.STRING


class SharedPropertyFactory(DjangoModelFactory):
    class Meta:
        model = SharedProperty

    branch = factory.SubFactory(BranchFactory)
    api_name = factory.Sequence(lambda n: f"sharedProperty{n}")
    display_name = factory.LazyAttribute(lambda o: o.api_name)
    base_type = BaseType.STRING


class InterfaceFactory(DjangoModelFactory):
    """``InterfaceFactory(properties=[shared, ...], extends=[other, ...])`` sets the M2Ms."""

    class Meta:
        model = Interface
        skip_postgeneration_save = True

    branch = factory.SubFactory(BranchFactory)
    api_name = factory.Sequence(lambda n: f"Interface{n}")
    display_name = factory.LazyAttribute(lambda o: o.api_name)

    @factory.post_generation
    def properties(self, create, extracted, **kwargs):
        if create and extracted:
            self.properties.set(extracted)

    @factory.post_generation
    def extends(self, create, extracted, **kwargs):
        if create and extracted:
            self.extends.set(extracted)


class ObjectTypeFactory(DjangoModelFactory):
    """``ObjectTypeFactory(properties=3)`` adds three string properties; the first becomes
    the primary key and title. ``interfaces=[...]`` sets the implemented interfaces."""

    class Meta:
        model = ObjectType
        skip_postgeneration_save = True

    branch = factory.SubFactory(BranchFactory)
    api_name = factory.Sequence(lambda n: f"ObjectType{n}")
    display_name = factory.LazyAttribute(lambda o: o.api_name)
    plural_display_name = factory.LazyAttribute(lambda o: f"{o.api_name}s")

    @factory.post_generation
    def properties(self, create, extracted, **kwargs):
        if not (create and extracted):
            return
        props = [
            PropertyFactory(object_type=self, position=position, **kwargs)
            for position in range(extracted)
        ]
        self.primary_key = self.title_property = props[0]
        self.save(update_fields=["primary_key", "title_property"])

    @factory.post_generation
    def interfaces(self, create, extracted, **kwargs):
        if create and extracted:
            self.interfaces.set(extracted)


class PropertyFactory(DjangoModelFactory):
    class Meta:
        model = Property

    object_type = factory.SubFactory(ObjectTypeFactory)
    branch = factory.SelfAttribute("object_type.branch")
    api_name = factory.Sequence(lambda n: f"property{n}")
    display_name = factory.LazyAttribute(lambda o: o.api_name)
    base_type = BaseType.STRING


class InterfaceLinkConstraintFactory(DjangoModelFactory):
    class Meta:
        model = InterfaceLinkConstraint

    interface = factory.SubFactory(InterfaceFactory)
    branch = factory.SelfAttribute("interface.branch")
    api_name = factory.Sequence(lambda n: f"linkConstraint{n}")
    target_object_type = factory.SubFactory(
        ObjectTypeFactory, branch=factory.SelfAttribute("..branch")
    )
    cardinality = ConstraintCardinality.MANY


class LinkTypeFactory(DjangoModelFactory):
    """A many-to-many link between two new object types of the same branch."""

    class Meta:
        model = LinkType

    branch = factory.SubFactory(BranchFactory)
    api_name = factory.Sequence(lambda n: f"linkType{n}")
    cardinality = Cardinality.MANY_TO_MANY
    source = factory.SubFactory(ObjectTypeFactory, branch=factory.SelfAttribute("..branch"))
    target = factory.SubFactory(ObjectTypeFactory, branch=factory.SelfAttribute("..branch"))
    source_api_name = factory.Sequence(lambda n: f"targets{n}")
    source_display_name = factory.LazyAttribute(lambda o: o.source_api_name)
    target_api_name = factory.Sequence(lambda n: f"sources{n}")
    target_display_name = factory.LazyAttribute(lambda o: o.target_api_name)
