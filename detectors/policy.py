"""The detection policy: what to redact, what to block, per tool and per profile.

`load_policy(path)` reads YAML (the default is detectors/data/policy.yaml = the project's default policy);
`Policy.resolve(tool, profile)` merges `default`, `profiles.<profile>` and `tools.<tool>` into the `Rules` one
prompt is judged by.

`mode: monitor` still blocks special-category data about someone and still redacts identifiers; it only reports,
instead of enforcing, what the policy blocks beyond that. A policy under which a prompt linking an identifier to
special-category data could leave (special_category: allow, an identifier ignored or left out of
identifiers_for_special) is refused unless the file says `acknowledge_special_category_unredacted: true`.
"""
from __future__ import annotations

import re
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detectors import yamlfile
from detectors.entities import IDENTIFIERS

SPECIAL_SUBTYPES: tuple[str, ...] = (
    "SEN", "HEALTH", "MENTAL_HEALTH", "ETHNICITY", "RELIGION", "SAFEGUARDING", "LOOKED_AFTER", "FSM", "SEXUALITY",
    "CRIMINAL",
)
EntityAction = Literal["redact", "block", "ignore"]


class PolicyError(ValueError):
    """A bad policy file; the message names the line and key to fix."""


def _known(values: list[str] | dict, known: tuple[str, ...], what: str) -> None:
    for value in values:
        if value not in known:
            raise ValueError(f"unknown {what} {value!r} (known: {', '.join(known)})")


class Overrides(BaseModel):
    """Settings a profile or tool may change; anything left out keeps the value from the level above."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["enforce", "monitor"] | None = None
    score_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    entities: dict[str, EntityAction] | None = None
    special_category: Literal["block_with_identifier", "block", "allow"] | None = None
    special_subtypes: list[str] | None = None
    identifiers_for_special: list[str] | None = None
    special_with_initials: bool | None = None
    deny_terms: dict[str, list[str]] | None = None
    allow_terms: list[str] | None = None

    @field_validator("entities", "identifiers_for_special")
    @classmethod
    def _entities_known(cls, value):
        if value is not None:
            _known(value, IDENTIFIERS, "entity")
        return value

    @field_validator("special_subtypes", "deny_terms")
    @classmethod
    def _subtypes_known(cls, value):
        if value is not None:
            _known(value, SPECIAL_SUBTYPES, "special-category subtype")
        return value


class Rules(BaseModel):
    """The fully resolved settings one prompt is judged by."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["enforce", "monitor"] = "enforce"
    score_threshold: float = 0.5
    entities: dict[str, EntityAction] = Field(default_factory=lambda: dict.fromkeys(IDENTIFIERS, "redact"))
    special_category: Literal["block_with_identifier", "block", "allow"] = "block_with_identifier"
    special_subtypes: tuple[str, ...] = SPECIAL_SUBTYPES
    identifiers_for_special: tuple[str, ...] = IDENTIFIERS
    special_with_initials: bool = True  # initials, or a class with one child in view, identify ("T.R. in 8C ...")
    deny_terms: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    allow_terms: tuple[str, ...] = ()

    def action_for(self, entity: str) -> EntityAction:
        return self.entities.get(entity, "ignore")

    @property
    def forwards_special_category(self) -> list[str]:
        """Why a prompt naming someone together with special-category data could leave under these rules."""
        if self.special_category == "block":
            return []
        if self.special_category == "allow":
            return ["special_category: allow"]
        ignored = [e for e in IDENTIFIERS if self.action_for(e) == "ignore"]
        uncounted = [e for e in IDENTIFIERS if e not in self.identifiers_for_special and e not in ignored]
        return ([f"entities ignored: {', '.join(ignored)}"] if ignored else []) + \
            ([f"identifiers_for_special leaves out {', '.join(uncounted)}"] if uncounted else [])

    @cached_property
    def deny_pattern(self) -> re.Pattern[str] | None:
        """One case-insensitive whole-word pattern for the extra deny terms; group names give the subtype."""
        parts = [f"(?P<{subtype}>" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + ")"
                 for subtype, terms in self.deny_terms.items() if terms]
        return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE) if parts else None

    @cached_property
    def allowed_values(self) -> frozenset[str]:
        from detectors.normalise import fold

        return frozenset(fold(t) for t in self.allow_terms)

    def merged(self, over: Overrides | None) -> Rules:
        if over is None:
            return self
        data = self.model_dump()
        for key, value in over.model_dump(exclude_none=True).items():
            if key == "entities":
                data[key] = {**data[key], **value}
            elif key == "deny_terms":
                merged = dict(data[key])
                for subtype, terms in value.items():
                    merged[subtype] = tuple(dict.fromkeys((*merged.get(subtype, ()), *terms)))
                data[key] = merged
            elif key == "allow_terms":
                data[key] = tuple(dict.fromkeys((*data[key], *value)))
            else:
                data[key] = value
        return Rules.model_validate(data)

    @property
    def relied_on(self) -> set[str]:
        """Entities this policy needs a recogniser for."""
        needed = {e for e, action in self.entities.items() if action != "ignore"}
        if self.special_category != "allow":
            needed.add("SPECIAL_CATEGORY")
            if self.special_category == "block_with_identifier":
                needed.update(self.identifiers_for_special)
        return needed


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    # The school accepts that, somewhere in this policy, special-category data about a pupil can leave.
    acknowledge_special_category_unredacted: bool = False
    default: Overrides = Field(default_factory=Overrides)
    profiles: dict[str, Overrides] = Field(default_factory=dict)
    tools: dict[str, Overrides] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _special_category_protected(self) -> Policy:
        if self.acknowledge_special_category_unredacted:
            return self
        problems = {}
        for tool in (None, *self.tools):
            for profile in (None, *self.profiles):
                for why in self.resolve(tool, profile).forwards_special_category:
                    where = " / ".join(f"{k} {v}" for k, v in (("tool", tool), ("profile", profile)) if v)
                    problems.setdefault(why, where or "default")
        if problems:
            found = "; ".join(f"{why} ({where})" for why, where in problems.items())
            raise ValueError(f"this policy would let special-category data about a pupil leave unredacted: {found}. "
                             "Fix it, or add `acknowledge_special_category_unredacted: true` to accept that")
        return self

    def resolve(self, tool: str | None = None, profile: str | None = None) -> Rules:
        return _resolve(self, tool, profile)

    def all_rules(self) -> list[Rules]:
        """Every combination a prompt can be judged by (for the start-up recogniser check)."""
        return [self.resolve(t, p) for t in (None, *self.tools) for p in (None, *self.profiles)]

    def __hash__(self) -> int:
        return id(self)


@lru_cache(maxsize=256)
def _resolve(policy: Policy, tool: str | None, profile: str | None) -> Rules:
    rules = Rules().merged(policy.default)
    rules = rules.merged(policy.profiles.get(profile) if profile else None)
    return rules.merged(policy.tools.get(tool) if tool else None)


def load_policy(path_or_text: str | Path | None = None) -> Policy:
    """Load and validate a policy from a YAML file or text; None gives the shipped default policy."""
    if path_or_text is None:
        return default_policy()
    return yamlfile.load_model(path_or_text, Policy, PolicyError, "version, default, profiles, tools")


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    return load_policy(resources.files("detectors").joinpath("data/policy.yaml").read_text(encoding="utf-8"))


__all__ = ["IDENTIFIERS", "SPECIAL_SUBTYPES", "Overrides", "Policy", "PolicyError", "Rules", "default_policy",
           "load_policy"]
