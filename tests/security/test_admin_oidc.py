"""Single sign-on must map a person to an account by a name their identity provider vouches for."""
from __future__ import annotations

from admin_api import oidc


def test_entra_sign_in_is_not_mapped_by_the_unverified_email_claim():
    # Entra ID's `email` claim is the mail attribute: not verified, not proof of owning the address ("nOAuth").
    # The tenant's own sign-in name (preferred_username/upn) is what identifies the person.
    config = oidc.OidcConfig(provider="entra", issuer="https://login.microsoftonline.com/tenant-1/v2.0",
                             client_id="app", client_secret="", allowed_domain="school.sch.uk")
    claims = {"sub": "s1", "tid": "tenant-1", "email": "dpo@school.sch.uk",
              "preferred_username": "mallory@school.sch.uk"}
    try:
        mapped = oidc.email_from_claims(claims, config)
    except oidc.OidcMappingError:
        return
    assert mapped != "dpo@school.sch.uk", "the account was chosen by the unverified email claim"

