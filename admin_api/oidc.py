"""Sign-in with the school's identity provider (Microsoft Entra ID / Google Workspace): which account a verified
identity is. The redirect and token exchange are the sign-in pages' (admin_api.web.routes.account)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from .accounts import get_user_by_email, is_locked
from .models import User, utcnow
from .settings import secret_value


@dataclass(frozen=True)
class OidcConfig:
    """Sign-in with the school's identity provider, configured by settings (environment):

        PUPILGUARD_OIDC_PROVIDER=entra   PUPILGUARD_OIDC_ISSUER=https://login.microsoftonline.com/<tenant-id>/v2.0
        PUPILGUARD_OIDC_PROVIDER=google  PUPILGUARD_OIDC_ISSUER=https://accounts.google.com
        PUPILGUARD_OIDC_CLIENT_ID=…  PUPILGUARD_OIDC_CLIENT_SECRET=…  PUPILGUARD_OIDC_ALLOWED_DOMAIN=school.sch.uk

    Register the redirect URI https://<admin host>/login/oidc/callback with the provider. Accounts are still
    created by the DPO (with the person's email); sign-in only maps a verified identity onto one.
    """

    provider: str  # "entra" | "google" | "generic"
    issuer: str
    client_id: str
    client_secret: str
    allowed_domain: str | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    @property
    def label(self) -> str:
        return {"entra": "Microsoft", "google": "Google"}.get(self.provider, "single sign-on")


def oidc_config(settings: Any) -> OidcConfig | None:
    issuer = getattr(settings, "oidc_issuer", None)
    client_id = getattr(settings, "oidc_client_id", None)
    if not issuer or not client_id:
        return None
    return OidcConfig(
        provider=getattr(settings, "oidc_provider", None) or "generic",
        issuer=issuer,
        client_id=client_id,
        client_secret=secret_value(getattr(settings, "oidc_client_secret", None)) or "",
        allowed_domain=(getattr(settings, "oidc_allowed_domain", None) or None),
    )


class OidcMappingError(Exception):
    """The identity provider vouched for someone we will not let in; message is safe to show."""


def email_from_claims(claims: dict[str, Any], config: OidcConfig) -> str:
    """The verified email address an ID token vouches for, or OidcMappingError.

    Google sets ``email_verified`` and ``hd`` (the Workspace domain). Entra ID's ``email`` claim is the mail
    attribute, which nobody verifies (the "nOAuth" account-takeover pattern), so it is never used:
    ``preferred_username`` / ``upn`` is the sign-in name of the tenant's own account, which is what a school
    staff account is.
    """
    if config.provider == "entra":
        email = claims.get("preferred_username") or claims.get("upn")
    else:
        email = claims.get("email")
        if claims.get("email_verified") not in (True, "true"):
            raise OidcMappingError("Your identity provider did not confirm your email address.")
    if not email or "@" not in str(email):
        raise OidcMappingError("Your identity provider did not send an email address.")
    email = str(email).strip().lower()
    if config.allowed_domain:
        domain = config.allowed_domain.strip().lower()
        if config.provider == "google" and str(claims.get("hd", "")).lower() != domain:
            raise OidcMappingError(f"Only {domain} Google Workspace accounts may sign in.")
        if email.rsplit("@", 1)[1] != domain:
            raise OidcMappingError(f"Only {domain} accounts may sign in.")
    return email


def user_for_oidc_claims(session: Session, claims: dict[str, Any], config: OidcConfig) -> User:
    """Map a signed-in identity to an existing account by email. Never creates accounts: the DPO does that.

    The first sign-in binds the account to the provider's subject id; afterwards a different subject with the same
    email (a recycled or re-created mailbox) is refused.
    """
    email = email_from_claims(claims, config)
    subject = str(claims.get("sub") or "")
    issuer = str(claims.get("iss") or config.issuer)
    if not subject:
        raise OidcMappingError("Your identity provider did not send a subject identifier.")
    user = get_user_by_email(session, email)
    if user is None or user.disabled:
        raise OidcMappingError(f"No pupilguard account is linked to {email}. Ask the DPO to add one.")
    if user.oidc_subject is None:
        user.oidc_issuer, user.oidc_subject = issuer, subject
    elif (user.oidc_issuer, user.oidc_subject) != (issuer, subject):
        raise OidcMappingError(f"The account for {email} is linked to a different sign-in. Ask the DPO.")
    if is_locked(user):
        raise OidcMappingError("This account is locked after repeated failed sign-ins. Ask the DPO to unlock it.")
    user.last_login_at = utcnow()
    session.flush()
    return user
