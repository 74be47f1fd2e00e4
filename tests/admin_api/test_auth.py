"""Accounts, passwords, lock-out and OIDC mapping (admin_api.accounts, admin_api.oidc), on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from admin_api import accounts, oidc, web_session
from admin_api.accounts import AuthError, LoginFailed
from admin_api.oidc import OidcConfig, OidcMappingError
from admin_api.db import Database
from admin_api.models import Base, User

PASSWORD = "correct horse battery"


@pytest.fixture
def database(database_url):
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def session(database):
    with database.session() as s:
        yield s


def test_create_user_stores_an_argon2id_hash_never_the_password(session):
    user = accounts.create_user(session, "dpo.smith", PASSWORD, "dpo", email="DPO@School.sch.uk")
    session.commit()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.email == "dpo@school.sch.uk"
    assert accounts.verify_password(user.password_hash, PASSWORD)
    assert not accounts.verify_password(user.password_hash, PASSWORD.upper())


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("alice", "short", "dpo", "at least 10 characters"),
        ("alice", PASSWORD, "admin", "Unknown role"),
        ("alice bob", PASSWORD, "it", "without spaces"),
        ("alicealice", "AliceAlice", "it", "same as the username"),
    ],
)
def test_create_user_refuses_bad_input_with_a_clear_message(session, username, password, role, message):
    with pytest.raises(AuthError, match=message):
        accounts.create_user(session, username, password, role)


def test_usernames_and_emails_are_unique_ignoring_case(session):
    accounts.create_user(session, "Alice", PASSWORD, "it", email="alice@school.sch.uk")
    with pytest.raises(AuthError, match="already exists"):
        accounts.create_user(session, "alice", PASSWORD, "viewer")
    with pytest.raises(AuthError, match="already has the email"):
        accounts.create_user(session, "alice2", PASSWORD, "viewer", email="ALICE@school.sch.uk")


def test_login_is_case_insensitive_on_username_and_records_last_login(session):
    accounts.create_user(session, "Bob", PASSWORD, "viewer")
    user = accounts.authenticate(session, "bob", PASSWORD)
    assert user.username == "Bob" and user.last_login_at is not None


def test_unknown_user_and_wrong_password_fail_with_the_same_message(session):
    accounts.create_user(session, "carol", PASSWORD, "viewer")
    with pytest.raises(LoginFailed) as unknown:
        accounts.authenticate(session, "nobody", PASSWORD)
    with pytest.raises(LoginFailed) as wrong:
        accounts.authenticate(session, "carol", "wrong password!")
    assert str(unknown.value) == str(wrong.value)
    assert (unknown.value.reason, wrong.value.reason) == ("unknown_user", "bad_password")


def test_five_failures_lock_the_account_for_fifteen_minutes(session):
    accounts.create_user(session, "dave", PASSWORD, "it")
    session.commit()
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for attempt in range(accounts.MAX_FAILURES):
        with pytest.raises(LoginFailed):
            accounts.authenticate(session, "dave", f"guess number {attempt}", now=t0)
    session.commit()
    session.expire_all()
    user = accounts.get_user_by_username(session, "dave")
    assert accounts.is_locked(user, t0 + timedelta(minutes=14))
    # While locked even the right password is refused.
    with pytest.raises(LoginFailed) as locked:
        accounts.authenticate(session, "dave", PASSWORD, now=t0 + timedelta(minutes=14))
    assert locked.value.reason == "locked"
    # After the lock-out period the right password works again and clears the counter.
    user = accounts.authenticate(session, "dave", PASSWORD, now=t0 + timedelta(minutes=15, seconds=1))
    assert user.failed_logins == 0 and user.locked_until is None


def test_a_success_resets_the_failure_count(session):
    accounts.create_user(session, "erin", PASSWORD, "it")
    for _ in range(accounts.MAX_FAILURES - 1):
        with pytest.raises(LoginFailed):
            accounts.authenticate(session, "erin", "not the password")
    accounts.authenticate(session, "erin", PASSWORD)
    for _ in range(accounts.MAX_FAILURES - 1):
        with pytest.raises(LoginFailed):
            accounts.authenticate(session, "erin", "not the password")
    assert not accounts.is_locked(accounts.get_user_by_username(session, "erin"))


def test_dpo_can_reset_a_lock_out(session):
    user = accounts.create_user(session, "frank", PASSWORD, "it")
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(LoginFailed):
            accounts.authenticate(session, "frank", "not the password")
    assert accounts.is_locked(user)
    accounts.reset_lockout(session, user)
    assert accounts.authenticate(session, "frank", PASSWORD) is user


def test_disabled_and_password_less_accounts_cannot_sign_in_with_a_password(session):
    user = accounts.create_user(session, "gina", PASSWORD, "dpo")
    user.disabled = True
    with pytest.raises(LoginFailed, match="Sign-in failed"):
        accounts.authenticate(session, "gina", PASSWORD)
    oidc_only = accounts.create_user(session, "hal", PASSWORD, "viewer")
    oidc_only.password_hash = None
    with pytest.raises(LoginFailed):
        accounts.authenticate(session, "hal", "")


def test_changing_the_password_changes_the_session_stamp(session):
    user = accounts.create_user(session, "ivy", PASSWORD, "dpo")
    before = web_session.session_stamp(user)
    accounts.set_password(session, user, "a brand new passphrase")
    assert web_session.session_stamp(user) != before
    assert accounts.authenticate(session, "ivy", "a brand new passphrase") is user
    with pytest.raises(LoginFailed):
        accounts.authenticate(session, "ivy", PASSWORD)


# --- OIDC mapping -------------------------------------------------------------------------------------------------

GOOGLE = OidcConfig("google", "https://accounts.google.com", "client", "secret", allowed_domain="school.sch.uk")
ENTRA = OidcConfig("entra", "https://login.microsoftonline.com/tid/v2.0", "client", "secret",
                   allowed_domain="school.sch.uk")


def _google(**claims):
    return {"iss": GOOGLE.issuer, "sub": "1001", "email": "jo@school.sch.uk", "email_verified": True,
            "hd": "school.sch.uk", **claims}


def test_oidc_maps_a_verified_email_to_the_existing_account_and_binds_the_subject(session):
    jo = accounts.create_user(session, "jo", PASSWORD, "dpo", email="jo@school.sch.uk")
    assert oidc.user_for_oidc_claims(session, _google(email="Jo@School.sch.uk"), GOOGLE) is jo
    assert (jo.oidc_issuer, jo.oidc_subject) == (GOOGLE.issuer, "1001")
    # A different person later given the same mailbox (new subject id) is not let in as jo.
    with pytest.raises(OidcMappingError, match="different sign-in"):
        oidc.user_for_oidc_claims(session, _google(sub="2002"), GOOGLE)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"email_verified": False}, "did not confirm"),
        ({"hd": "gmail.com"}, "Google Workspace"),
        ({"email": "jo@elsewhere.org", "hd": "school.sch.uk"}, "Only school.sch.uk"),
        ({"email": "nobody@school.sch.uk"}, "No pupilguard account"),
        ({"sub": ""}, "subject"),
    ],
)
def test_oidc_refuses_unverified_foreign_or_unknown_identities(session, claims, message):
    accounts.create_user(session, "jo", PASSWORD, "dpo", email="jo@school.sch.uk")
    with pytest.raises(OidcMappingError, match=message):
        oidc.user_for_oidc_claims(session, _google(**claims), GOOGLE)


def test_oidc_never_creates_accounts(session):
    with pytest.raises(OidcMappingError):
        oidc.user_for_oidc_claims(session, _google(), GOOGLE)
    assert session.query(User).count() == 0


def test_entra_uses_the_tenant_sign_in_name_when_no_email_claim(session):
    kim = accounts.create_user(session, "kim", PASSWORD, "it", email="kim@school.sch.uk")
    claims = {"iss": ENTRA.issuer, "sub": "abc", "preferred_username": "KIM@school.sch.uk", "tid": "tid"}
    assert oidc.user_for_oidc_claims(session, claims, ENTRA) is kim
    with pytest.raises(OidcMappingError, match="Only school.sch.uk"):
        oidc.user_for_oidc_claims(session, {**claims, "preferred_username": "kim@other.onmicrosoft.com"}, ENTRA)


def test_oidc_config_comes_from_settings_only_when_configured():
    class S:
        oidc_provider = "entra"
        oidc_issuer = "https://login.microsoftonline.com/tid/v2.0"
        oidc_client_id = "cid"
        oidc_client_secret = "sec"
        oidc_allowed_domain = None

    config = oidc.oidc_config(S())
    assert config.metadata_url == "https://login.microsoftonline.com/tid/v2.0/.well-known/openid-configuration"
    assert config.label == "Microsoft"
    S.oidc_issuer = None
    assert oidc.oidc_config(S()) is None
