"""JWT (issue 12): OMS's own tokens (obtain, refresh, verify, blacklist on logout) and an
external issuer's, checked against a JWKS served inside the test."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-password-for-jwt-1"


@pytest.fixture
def main():
    return BranchFactory(name="main", protected=True)


# --- OMS's own JWTs --------------------------------------------------------------------
def test_obtain_use_refresh_verify_and_logout(main):
    user = UserFactory(username="svc")
    user.set_password(PASSWORD)
    user.save()
    api = APIClient()
    pair = api.post("/api/v1/auth/token/", {"username": "svc", "password": PASSWORD}, format="json")
    assert pair.status_code == 200, pair.content
    access, refresh = pair.json()["access"], pair.json()["refresh"]
    assert api.get("/api/v1/branches/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    verify = api.post("/api/v1/auth/token/verify/", {"token": access}, format="json")
    assert verify.status_code == 200
    renewed = api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert renewed.status_code == 200
    new_refresh = renewed.json()["refresh"]
    # the refresh token used is blacklisted on rotation
    again = api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert again.status_code == 401
    assert again.json()["error"]["status"] == 401
    out = api.post("/api/v1/auth/logout/", {"refresh": new_refresh}, format="json")
    assert out.status_code == 200
    after = api.post("/api/v1/auth/token/refresh/", {"refresh": new_refresh}, format="json")
    assert after.status_code == 401


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/auth/token/", {"username": "svc", "password": PASSWORD}),
        ("/api/v1/auth/token/refresh/", {"refresh": "x"}),
        ("/api/v1/auth/token/verify/", {"token": "x"}),
        ("/api/v1/auth/logout/", {"refresh": "x"}),
    ],
)
def test_a_jwt_body_with_an_unknown_key_is_400_naming_it(main, path, body):
    """Like every other body: an unknown key is refused by name, before any check of the
    credentials or token (which would answer 401), and nothing is issued."""
    user = UserFactory(username="svc")
    user.set_password(PASSWORD)
    user.save()
    answer = APIClient().post(path, {**body, "scope": "admin"}, format="json")
    assert answer.status_code == 400, answer.content
    assert list(answer.json()["error"]["fields"]) == ["scope"]
    assert "access" not in answer.content.decode()


def test_the_jwt_bodies_are_strict_in_the_openapi_document(client):
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    for operation in ("token", "token/refresh", "token/verify", "logout"):
        body = schema["paths"][f"/api/v1/auth/{operation}/"]["post"]["requestBody"]
        ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert components[ref]["additionalProperties"] is False, operation


def test_a_wrong_password_gets_no_token():
    UserFactory(username="svc")
    answer = APIClient().post(
        "/api/v1/auth/token/", {"username": "svc", "password": "nope"}, format="json"
    )
    assert answer.status_code == 401 and "access" not in answer.content.decode()


def test_a_forged_token_is_refused(main):
    user = UserFactory(username="svc")
    forged = jwt.encode(
        {
            "token_type": "access",
            "user_id": str(user.pk),
            "exp": int(time.time()) + 60,
            "jti": uuid.uuid4().hex,
        },
        "not-the-signing-key-" * 3,
        algorithm="HS256",
    )
    answer = APIClient().get("/api/v1/branches/", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert answer.status_code == 401


# --- an external issuer -----------------------------------------------------------------
class Issuer:
    """An identity provider of our own: an RSA key, its JWKS on a local HTTP server."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:8]
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwks = json.dumps({"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]})

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = jwks.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.jwks_url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        self.iss = f"https://idp-{self.kid}.example.org/"

    def token(self, key=None, kid=None, **claims) -> str:
        now = int(time.time())
        payload = {"iss": self.iss, "aud": "oms", "sub": "u-1", "iat": now, "exp": now + 300}
        payload.update(claims)
        return jwt.encode(
            {k: v for k, v in payload.items() if v is not None},
            key or self.key,
            algorithm="RS256",
            headers={"kid": kid or self.kid},
        )

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def issuer(settings, main):
    idp = Issuer()
    settings.OMS_OIDC = {
        "ISSUER": idp.iss,
        "JWKS_URL": idp.jwks_url,
        "AUDIENCE": "oms",
        "USERNAME_CLAIM": "preferred_username",
        "ROLES_CLAIM": "roles",
        "ROLE_MAP": {"oms-stewards": "steward", "oms-readers": "viewer"},
        "LEEWAY_SECONDS": 0,
    }
    yield idp
    idp.close()


def _get(token: str):
    return APIClient().get("/api/v1/branches/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_token_of_the_issuer_maps_to_a_user_and_role_groups(issuer):
    token = issuer.token(preferred_username="alice", roles=["oms-stewards", "unrelated"])
    assert _get(token).status_code == 200
    from django.contrib.auth import get_user_model

    alice = get_user_model().objects.get(username="alice")
    assert not alice.has_usable_password()
    assert set(alice.groups.values_list("name", flat=True)) == {"steward"}
    assert alice.has_perm("versioning.merge_branch")
    # roles follow the token: a later token with other roles replaces the role groups
    team = Group.objects.create(name="flight-team")
    alice.groups.add(team)
    assert _get(issuer.token(preferred_username="alice", roles=["oms-readers"])).status_code == 200
    assert set(alice.groups.values_list("name", flat=True)) == {"viewer", "flight-team"}


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-else"},
        {"exp": int(time.time()) - 10},
        {"aud": None},
    ],
    ids=["audience", "expired", "no-audience"],
)
def test_tokens_failing_a_check_are_refused(issuer, claims):
    answer = _get(issuer.token(preferred_username="bob", **claims))
    assert answer.status_code == 401, answer.content
    assert answer.json()["error"]["code"] in ("authentication_failed", "token_not_valid")


def test_a_token_signed_by_another_key_is_refused(issuer):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _get(issuer.token(key=other, preferred_username="eve")).status_code == 401
    assert _get(issuer.token(kid="unknown", preferred_username="eve")).status_code == 401


def test_a_token_of_another_issuer_is_refused(issuer):
    token = issuer.token(iss="https://evil.example.org/", preferred_username="eve")
    assert _get(token).status_code == 401


def test_an_inactive_user_is_refused(issuer):
    UserFactory(username="carol", is_active=False)
    assert _get(issuer.token(preferred_username="carol")).status_code == 401
