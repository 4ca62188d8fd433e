"""The API against its own OpenAPI schema, with generated requests (schemathesis).

Every operation in ``/api/schema/`` gets requests generated from the schema (valid and
invalid parameters and bodies) sent to the WSGI app in-process, as an authenticated
superuser on a branch that has entities. Each answer must:

- never be a 500 (bad input is a 4xx with the field at fault);
- use a status code the schema documents for that operation;
- have the documented content type, and a body valid against the documented schema.

A schema that lies to code generators fails here, as does any input that breaks a view.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import (
    BranchFactory,
    LinkTypeFactory,
    ObjectTypeFactory,
    UserFactory,
    ValueTypeFactory,
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_connection():
    """Like Django's test client: the WSGI handler must not close the test's connection
    (and with it the test transaction) at the end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, keep_connection):
    dev = BranchFactory(name="dev")
    flight = ObjectTypeFactory(branch=dev, api_name="Flight", properties=3)
    airport = ObjectTypeFactory(branch=dev, api_name="Airport", properties=3)
    LinkTypeFactory(branch=dev, api_name="flightAirport", source=flight, target=airport)
    ValueTypeFactory(branch=dev)
    user = UserFactory(username="conformance", is_staff=True, is_superuser=True)
    return Token.objects.create(user=user).key


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_keeps_its_contract(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
