"""Single sign-on end to end: the real app and authlib against a tiny local OpenID Connect provider.

The provider is a FastAPI app on a loopback port that signs RS256 ID tokens; it stands in for Microsoft Entra ID
or Google Workspace, which this machine cannot reach. Everything on the app's side is the production code path:
discovery, the authorization redirect with state and nonce, the code exchange, ID-token signature and claim checks,
and the mapping to an existing account by email.
"""
from __future__ import annotations

import secrets
import socket
import threading
import time
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from admin_api import accounts
from admin_api.app import create_app
from admin_api.models import AuditEntry

PASSWORD = "correct horse battery"


class FakeProvider:
    """Just enough of an OIDC provider: discovery, authorize (auto-consents as `self.claims`), token, JWKS."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.signing_key = self.key  # tests swap in another key to forge a token
        self.claims: dict = {}
        self.codes: dict[str, dict] = {}
        self.url = ""
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                    "response_types_supported": ["code"], "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"]}

        @app.get("/jwks")
        def jwks():
            return {"keys": [self.key.as_dict(private=False)]}

        @app.get("/authorize")
        def authorize(request: Request):
            q = request.query_params
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": q.get("nonce"), "client_id": q["client_id"]}
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}")

        @app.post("/token")
        def token(code: str = Form(...)):
            grant = self.codes.pop(code)
            now = int(time.time())
            claims = {"iss": self.url, "aud": grant["client_id"], "iat": now, "exp": now + 300,
                      "nonce": grant["nonce"], **self.claims}
            id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.signing_key)
            return {"access_token": secrets.token_urlsafe(8), "token_type": "Bearer", "expires_in": 300,
                    "id_token": id_token}

        self.app = app


@pytest.fixture(scope="module")
def provider():
    fake = FakeProvider()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake.url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield fake
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def sso_app(make_settings, provider):
    app = create_app(make_settings(oidc_provider="google", oidc_issuer=provider.url, oidc_client_id="pupilguard",
                                   oidc_client_secret="s3cret", oidc_allowed_domain="school.sch.uk"))
    with app.state.db.session() as session:
        accounts.create_user(session, "jo", PASSWORD, "dpo", email="jo@school.sch.uk")
        session.commit()
    return app


def sign_in_via_provider(client: TestClient, provider: FakeProvider, claims: dict):
    provider.claims = claims
    start = client.get("/login/oidc?next=/audit", follow_redirects=False)
    assert start.status_code == 302
    authorize = start.headers["location"]
    assert authorize.startswith(f"{provider.url}/authorize?")
    query = parse_qs(urlparse(authorize).query)
    assert query["scope"] == ["openid email profile"] and query["nonce"] and query["state"]
    back = httpx.get(authorize, follow_redirects=False).headers["location"]
    callback = urlparse(back)
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_login_page_offers_single_sign_on_when_configured(sso_app):
    with TestClient(sso_app) as client:
        assert "Sign in with Google" in client.get("/login").text


def test_a_verified_school_account_signs_in_as_its_existing_user(sso_app, provider):
    with TestClient(sso_app) as client:
        response = sign_in_via_provider(client, provider, {
            "sub": "g-1001", "email": "Jo@School.sch.uk", "email_verified": True, "hd": "school.sch.uk"})
        assert response.status_code == 303 and response.headers["location"] == "/audit"
        assert client.get("/audit").status_code == 200  # signed in as the DPO
    with sso_app.state.db.session() as session:
        jo = accounts.get_user_by_username(session, "jo")
        assert jo.oidc_subject == "g-1001" and jo.oidc_issuer == provider.url
        assert session.query(AuditEntry).filter_by(action="login", username="jo").one().detail == {"method": "oidc"}


@pytest.mark.parametrize(("claims", "message"), [
    ({"sub": "g-2", "email": "stranger@school.sch.uk", "email_verified": True, "hd": "school.sch.uk"},
     "No pupilguard account is linked"),
    ({"sub": "g-3", "email": "jo@school.sch.uk", "email_verified": True, "hd": "gmail.com"}, "Google Workspace"),
    ({"sub": "g-4", "email": "jo@school.sch.uk", "email_verified": False, "hd": "school.sch.uk"}, "did not confirm"),
])
def test_identities_without_an_account_or_from_elsewhere_are_refused(sso_app, provider, claims, message):
    with TestClient(sso_app) as client:
        response = sign_in_via_provider(client, provider, claims)
        assert response.status_code == 403 and message in response.text
        assert client.get("/", follow_redirects=False).status_code == 303  # still signed out


def test_a_forged_callback_is_refused(sso_app, provider):
    with TestClient(sso_app) as client:
        client.get("/login/oidc", follow_redirects=False)
        response = client.get("/login/oidc/callback?code=made-up&state=wrong", follow_redirects=False)
        assert response.status_code == 400 and "did not complete" in response.text
        assert client.get("/", follow_redirects=False).status_code == 303


def test_an_id_token_not_signed_by_the_provider_is_refused(sso_app, provider):
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    try:
        with TestClient(sso_app) as client:
            response = sign_in_via_provider(client, provider, {
                "sub": "g-1001", "email": "jo@school.sch.uk", "email_verified": True, "hd": "school.sch.uk"})
            assert response.status_code == 400
            assert client.get("/", follow_redirects=False).status_code == 303
    finally:
        provider.signing_key = provider.key
