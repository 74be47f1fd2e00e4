"""What the engine decides about a request: one type for everyone who needs it (`pupilguard scan`, the evaluation,
the proxy on both sides of its worker pipe). Plain data, so it pickles across processes and importing it loads
neither spaCy nor Presidio."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Finding:
    """Where something was found; never the text itself."""

    entity: str
    start: int
    end: int
    score: float
    index: int = 0
    subtype: str | None = None  # for SPECIAL_CATEGORY: SEN, HEALTH, ...
    evasion: bool = False  # written to slip past detection: letter-spaced, leetspeak, reversed

    @property
    def label(self) -> str:
        return f"{self.entity}:{self.subtype}" if self.subtype else self.entity


@dataclass
class Decision:
    action: str  # "allow" | "redact" | "block"
    texts: list[str] | None = None  # the request's texts as they may leave (redacted), for allow and redact
    findings: list[Finding] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    entity_counts: dict[str, int] = field(default_factory=dict)
    pupil_refs: list[str] = field(default_factory=list)
    excerpt: str = ""
    elapsed_ms: float = 0.0
    placeholders_used: list[str] = field(default_factory=list)  # [PUPIL_1]... given to this request's identifiers

    @classmethod
    def failed(cls, reason: str, elapsed_ms: float = 0.0) -> Decision:
        """Blocked without an analysis (fail closed): too big, unreadable, out of time, an error."""
        return cls(action="block", reasons=[reason], elapsed_ms=elapsed_ms)
