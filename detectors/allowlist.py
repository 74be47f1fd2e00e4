"""Which AI tools each profile (staff, pupil, ...) may use: the schema of allowlist.yaml, edited by IT.

Statuses: `approved` (scan, then redact/block per policy), `monitor` (the same, and every prompt is recorded for the
DPO, allowed ones included), `blocked`. Monitor never forwards special-category data about someone; a tool may say
`monitor_identifiers: log_only` to forward identifiers unredacted (recorded as `would_redact`) while it is assessed.
A client's profile comes from a proxy-authenticated user or group first, then its subnet (most specific wins), then
`default_profile`.
"""
from __future__ import annotations

import ipaddress
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


class ToolRule(BaseModel):
    """Per-profile statuses (`staff: approved`) plus per-tool options."""

    model_config = ConfigDict(extra="allow")

    restore_placeholders: bool = False  # put original values back into replies (see proxy/restore.py)
    # for profiles where the tool is on `monitor`: redact identifiers (the default) or only log them
    monitor_identifiers: Literal["redact", "log_only"] = "redact"

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
                                     "nor a tool option (restore_placeholders, monitor_identifiers)")
        return tools

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


__all__ = ["Allowlist", "AllowlistError", "Profile", "STATUSES", "Status", "ToolRule", "load_allowlist"]
