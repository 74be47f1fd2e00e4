"""Which AI tools each profile (staff, pupil, ...) may use: the schema of allowlist.yaml, edited by IT.

Statuses: `approved` (scan, then redact/block per policy), `monitor` (the same, and every prompt is recorded for the
DPO, allowed ones included), `blocked`. Monitor never forwards special-category data about someone; a tool may say
`monitor_identifiers: log_only` to forward identifiers unredacted (recorded as `would_redact`) while it is assessed.
A client's profile comes from a proxy-authenticated user or group first, then its subnet (most specific wins), then
`default_profile`.

A tool may also carry `tenant:` - the school's own tenant of the vendor's service (its ChatGPT Enterprise/Edu
workspace, Google Workspace domains, Microsoft Entra tenant), which the proxy tells the vendor in the headers each
vendor documents for this, so that sign-in to any other account (personal, another organisation's) is refused.
`uncatalogued_ai` gives each profile's status for AI services that are not in the catalogue (proxy/data/
ai_domains.txt): blocked connections are refused, monitored ones recorded (host only, never decrypted); `ai_hosts`
sets the status of one such host (IT's "allow this tool" in one step).
"""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import (BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationInfo, field_validator,
                      model_validator)

from detectors import yamlfile

Status = Literal["approved", "monitor", "blocked"]
STATUSES: tuple[str, ...] = ("approved", "monitor", "blocked")


class AllowlistError(ValueError):
    """A bad allowlist file; the message names the line and field to fix."""


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subnets: list[IPvAnyNetwork] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)


_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_DOMAIN = r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
TENANT_OPTIONS = ("chatgpt_workspace_ids", "google_domains", "microsoft_tenants", "microsoft_context",
                  "microsoft_policy", "microsoft_block_consumer")


class TenantRestriction(BaseModel):
    """The school's tenant of a vendor's service; header values are checked here so none can be malformed."""

    model_config = ConfigDict(extra="forbid")

    chatgpt_workspace_ids: list[str] = Field(default_factory=list)  # ChatGPT Enterprise/Edu workspace UUIDs
    google_domains: list[str] = Field(default_factory=list)  # Google Workspace primary and secondary domains
    microsoft_tenants: list[str] = Field(default_factory=list)  # v1: tenant domains or directory (tenant) ids
    microsoft_context: str | None = None  # v1: the directory id of the tenant setting the restriction
    microsoft_policy: str | None = None  # v2: "<tenant id>:<policy id>" from Entra cross-tenant access settings
    microsoft_block_consumer: bool = False  # personal Microsoft accounts (login.live.com) refused

    @field_validator("chatgpt_workspace_ids")
    @classmethod
    def _uuids(cls, values: list[str]) -> list[str]:
        for v in values:
            if not re.fullmatch(_GUID, v):
                raise ValueError(f"{v!r} is not a ChatGPT workspace id (a UUID from the workspace settings)")
        return [v.lower() for v in values]

    @field_validator("google_domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        for v in values:
            if v != "consumer_accounts" and not re.fullmatch(_DOMAIN, v.lower()):
                raise ValueError(f"{v!r} is not a domain name")
        return [v.lower() for v in values]

    @field_validator("microsoft_tenants")
    @classmethod
    def _tenants(cls, values: list[str]) -> list[str]:
        for v in values:
            if not (re.fullmatch(_GUID, v) or re.fullmatch(_DOMAIN, v.lower())):
                raise ValueError(f"{v!r} is neither a tenant domain nor a directory id")
        return [v.lower() for v in values]

    @model_validator(mode="after")
    def _microsoft(self) -> TenantRestriction:
        if self.microsoft_context is not None and not re.fullmatch(_GUID, self.microsoft_context):
            raise ValueError("microsoft_context must be the school's directory (tenant) id, a GUID")
        if bool(self.microsoft_tenants) != (self.microsoft_context is not None):
            raise ValueError("microsoft_tenants and microsoft_context go together (tenant restrictions v1)")
        if self.microsoft_policy is not None and not re.fullmatch(f"{_GUID}:{_GUID}", self.microsoft_policy):
            raise ValueError("microsoft_policy must be '<tenant id>:<policy id>' (tenant restrictions v2)")
        if self.microsoft_policy and self.microsoft_tenants:
            raise ValueError("use tenant restrictions v1 (microsoft_tenants) or v2 (microsoft_policy), not both")
        return self


class ToolRule(BaseModel):
    """Per-profile statuses (`staff: approved`) plus per-tool options."""

    model_config = ConfigDict(extra="allow")

    restore_placeholders: bool = False  # put original values back into replies (see proxy/restore.py)
    # for profiles where the tool is on `monitor`: redact identifiers (the default) or only log them
    monitor_identifiers: Literal["redact", "log_only"] = "redact"
    tenant: TenantRestriction | None = None  # sign-in only to the school's own tenant of this tool's vendor

    @model_validator(mode="after")
    def _statuses(self) -> ToolRule:
        for profile, status in (self.model_extra or {}).items():
            if status not in STATUSES:
                raise ValueError(f"status for profile {profile!r} must be one of {', '.join(STATUSES)}, "
                                 f"not {status!r}")
        return self

    @property
    def statuses(self) -> dict[str, str]:
        return dict(self.model_extra or {})


class Allowlist(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    policy_url: str | None = None
    profiles: dict[str, Profile] = Field(min_length=1)
    default_profile: str
    default_status: Status = "blocked"
    tools: dict[str, ToolRule] = Field(default_factory=dict)
    # AI services not in the catalogue (host only, never decrypted): status per profile, else blocked
    uncatalogued_ai: dict[str, Status] = Field(default_factory=dict)
    ai_hosts: dict[str, dict[str, Status]] = Field(default_factory=dict)  # one such host's statuses, by IT

    @field_validator("default_profile")
    @classmethod
    def _default_is_a_profile(cls, value: str, info: ValidationInfo) -> str:
        profiles = info.data.get("profiles")
        if profiles is not None and value not in profiles:  # None: profiles itself is wrong, reported already
            raise ValueError(f"{value!r} is not one of the profiles ({', '.join(profiles)})")
        return value

    @field_validator("tools")
    @classmethod
    def _tool_profiles_exist(cls, tools: dict[str, ToolRule], info: ValidationInfo) -> dict[str, ToolRule]:
        profiles = info.data.get("profiles")
        for tool, rule in tools.items() if profiles is not None else ():
            for profile in rule.statuses:
                if profile not in profiles:
                    raise ValueError(f"{tool}: {profile!r} is neither a profile ({', '.join(profiles)}) "
                                     "nor a tool option (restore_placeholders, monitor_identifiers, tenant)")
        return tools

    @field_validator("uncatalogued_ai")
    @classmethod
    def _uncatalogued_profiles(cls, statuses: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        profiles = info.data.get("profiles")
        for profile in statuses if profiles is not None else ():
            if profile not in profiles:
                raise ValueError(f"{profile!r} is not one of the profiles ({', '.join(profiles)})")
        return statuses

    @field_validator("ai_hosts")
    @classmethod
    def _ai_hosts(cls, hosts: dict[str, dict[str, str]], info: ValidationInfo) -> dict[str, dict[str, str]]:
        profiles = info.data.get("profiles")
        out = {}
        for host, statuses in hosts.items():
            name = host.strip().lower().rstrip(".")
            if not re.fullmatch(_DOMAIN, name):
                raise ValueError(f"{host!r} is not a host name")
            for profile in statuses if profiles is not None else ():
                if profile not in profiles:
                    raise ValueError(f"{host}: {profile!r} is not one of the profiles ({', '.join(profiles)})")
            out[name] = statuses
        return out

    @model_validator(mode="after")
    def _one_microsoft_tenant(self) -> Allowlist:
        contexts = {(r.tenant.microsoft_context, r.tenant.microsoft_policy) for r in self.tools.values()
                    if r.tenant and (r.tenant.microsoft_context or r.tenant.microsoft_policy)}
        if len(contexts) > 1:
            raise ValueError("tools name different Microsoft tenant restriction contexts/policies; the proxy sends "
                             "one (give the same microsoft_context or microsoft_policy on each)")
        return self

    def tenant_restrictions(self) -> list[TenantRestriction]:
        return [rule.tenant for rule in self.tools.values() if rule.tenant is not None]

    def uncatalogued_status(self, host: str, profile: str) -> Status:
        """Status of an AI service not in the catalogue: its `ai_hosts` entry (the host or a parent domain),
        then `uncatalogued_ai`, then blocked - never default_status, which is for catalogued tools."""
        name = host.lower().rstrip(".")
        while name:
            if name in self.ai_hosts:
                return self.ai_hosts[name].get(profile, self.uncatalogued_ai.get(profile, "blocked"))  # type: ignore
            name = name.partition(".")[2]
        return self.uncatalogued_ai.get(profile, "blocked")  # type: ignore[return-value]

    def profile_for(self, client_ip: str | None = None, user: str | None = None,
                    groups: list[str] | tuple[str, ...] = ()) -> str:
        # user and group names compare without case, as Active Directory's do
        if user:
            for name, profile in self.profiles.items():
                if user.casefold() in {u.casefold() for u in profile.users}:
                    return name
        member_of = {g.casefold() for g in groups}
        for name, profile in self.profiles.items():
            if any(g.casefold() in member_of for g in profile.groups):
                return name
        if client_ip:
            try:
                addr = ipaddress.ip_address(client_ip.split("%")[0])
            except ValueError:
                return self.default_profile
            if addr.version == 6 and addr.ipv4_mapped:
                addr = addr.ipv4_mapped
            best: tuple[int, str] | None = None
            for name, profile in self.profiles.items():
                for net in profile.subnets:
                    if addr.version == net.version and addr in net and (best is None or net.prefixlen > best[0]):
                        best = (net.prefixlen, name)
            if best:
                return best[1]
        return self.default_profile

    def status(self, tool: str | None, profile: str) -> Status:
        rule = self.tools.get(tool) if tool else None
        if rule is None:
            return self.default_status
        return rule.statuses.get(profile, self.default_status)  # type: ignore[return-value]

    def approved_tools(self, profile: str) -> list[str]:
        """Tools this profile may use (approved or monitor), for notices that name the alternatives."""
        return [t for t in self.tools if self.status(t, profile) != "blocked"]

    def restore_placeholders(self, tool: str | None) -> bool:
        rule = self.tools.get(tool) if tool else None
        return rule is not None and rule.restore_placeholders

    def logs_identifiers_only(self, tool: str | None, profile: str) -> bool:
        """Does this monitored tool forward identifiers unredacted for this profile (never special-category data)?"""
        rule = self.tools.get(tool) if tool else None
        return rule is not None and rule.monitor_identifiers == "log_only" and self.status(tool, profile) == "monitor"


def load_allowlist(path_or_text: str | Path) -> Allowlist:
    """Load and validate allowlist YAML from a file path or from YAML text; AllowlistError on any problem."""
    return yamlfile.load_model(path_or_text, Allowlist, AllowlistError,
                               "version, profiles, default_profile, tools")


__all__ = ["Allowlist", "AllowlistError", "Profile", "STATUSES", "Status", "TENANT_OPTIONS", "TenantRestriction",
           "ToolRule", "load_allowlist"]
