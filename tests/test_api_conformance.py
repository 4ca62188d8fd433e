"""The API against its own OpenAPI schema, with generated requests (schemathesis).

Every operation in ``/api/schema/`` gets requests generated from the schema, valid and
invalid (positive and negative modes; the coverage phase derives boundary values from each
keyword), sent to the WSGI app in-process as an authenticated superuser on a branch that
has entities. Every check schemathesis has runs on each answer, among them:

- never a 500 (bad input is a 4xx with the field at fault);
- only status codes, content types and headers the schema documents, bodies valid
  against the documented schema;
- a schema-valid request is not refused with a 400, a schema-invalid one is not accepted;
- authentication is not ignored, unsupported methods answer 405.

A schema that lies to code generators fails here, as does any input that breaks a view.
Bounded: a few examples per operation, deterministic (derandomized), a few minutes.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories import (
    BranchFactory,
    LinkTypeFactory,
    ObjectTypeFactory,
    UserFactory,
    ValueTypeFactory,
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
# valid and invalid data (the coverage phase derives both from the schema's keywords),
# deterministic so that a run is repeatable; OMS_CONFORMANCE_EXAMPLES raises the count
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=int(os.environ.get("OMS_CONFORMANCE_EXAMPLES", "3")),
    deterministic=True,
)


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
def no_lockout(settings):
    """Login lockout off: schemathesis sends many bad credentials to one operation, and a
    locked-out pair answers 429 where the check expects 401. The lockout has its own tests
    (``tests/protection/test_lockout.py``)."""
    settings.AXES_ENABLED = False


@pytest.fixture
def token(db, keep_connection, no_lockout):
    dev = BranchFactory(name="dev")
    flight = ObjectTypeFactory(branch=dev, api_name="Flight", properties=3)
    airport = ObjectTypeFactory(branch=dev, api_name="Airport", properties=3)
    LinkTypeFactory(branch=dev, api_name="flightAirport", source=flight, target=airport)
    ValueTypeFactory(branch=dev)
    user = UserFactory(username="conformance", is_staff=True, is_superuser=True)
    return Token.objects.create(user=user).key


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_keeps_its_contract(case, token):
    # no ``checks=``: every check schemathesis has, except where a schema-valid body names
    # something that must exist and no schema can say which (see SEMANTIC_REFERENCES)
    excluded = [positive_data_acceptance] if _names_existing_users(case) else []
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, excluded_checks=excluded)


#: operations whose body names users by username: a generated name is schema-valid but
#: names nobody, and the answer is the uniform 400 on the field (no username enumeration:
#: tests/protection/test_defects.py, tests/test_api_schema_agreement.py). Every other check
#: still runs on them.
SEMANTIC_REFERENCES = {("POST", "/api/v1/proposals/"): "reviewers"}


def _names_existing_users(case) -> bool:
    key = SEMANTIC_REFERENCES.get((case.method.upper(), case.path))
    return bool(key and isinstance(case.body, dict) and case.body.get(key))
