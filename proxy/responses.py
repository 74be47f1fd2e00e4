"""What a refused request gets back: the provider's own error shape for API clients (so SDKs raise their usual
permission error with our message), an HTML notice page for page navigations, plain JSON otherwise.

Messages name entity types and reasons, never the data itself; the HTML page escapes everything it shows.

The page carries the school's name, logo and colour, and speaks English, Welsh or both (Welsh-medium and bilingual
schools), from the proxy's settings (proxy/settings.py; e.g. in /etc/pupilguard/proxy.env):
    PUPILGUARD_SCHOOL_NAME=Ysgol Gymraeg Aberdaugleddau
    PUPILGUARD_SCHOOL_LOGO_URL=https://school.example/logo.png     (https or a data:image URL)
    PUPILGUARD_SCHOOL_COLOUR=#00594f
    PUPILGUARD_PAGE_LANGUAGES=cy,en                                 (en, cy, cy,en or en,cy; first is first)
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from mitmproxy import ctx, http

from detectors.entities import ENTITIES

ENTITY_WORDS = {**{e.name: e.one for e in ENTITIES}, "SPECIAL_CATEGORY": "special-category information"}
SPECIAL_WORDS = {
    "SEN": "special educational needs", "HEALTH": "health", "MENTAL_HEALTH": "mental health",
    "ETHNICITY": "ethnicity", "RELIGION": "religion", "SAFEGUARDING": "safeguarding",
    "LOOKED_AFTER": "looked-after status", "FSM": "free school meals / pupil premium", "SEXUALITY": "sexuality",
    "CRIMINAL": "criminal record",
}
# Fail-closed reasons, in the words a teacher needs.
REASON_SENTENCES = {
    "tool_blocked": "{tool} is not approved by your school for you to use.",
    "body_too_large": "it is too large to check for pupil data, so it was not sent to {tool}.",
    "unreadable_body": "it could not be read to check it for pupil data, so it was not sent to {tool}.",
    "analysis_timeout": "checking it for pupil data took too long, so it was not sent to {tool}. "
                        "Please try again.",
    "analysis_error": "it could not be checked for pupil data, so it was not sent to {tool}. Please try again.",
    "unredactable_body": "an attached file contains pupil data and cannot be edited, so it was not sent to "
                         "{tool}. Remove the pupil data from the file and try again.",
    "recheck_failed": "not all pupil data could be removed from it, so it was not sent to {tool}.",
    "unredactable_channel": "pupil data was in a header or cookie name, which cannot be changed, so it was not "
                            "sent to {tool}.",
    "not_recorded": "pupilguard could not record it for your school's data protection officer, so it was not "
                    "sent to {tool}. Please tell IT.",
    "other_tenant": "sign in with your school account: only the school's own {tool} account may be used here.",
    "uncatalogued_ai_tool": "this AI tool is not approved by your school for you to use.",
    "scanned_pdf": "an attached scanned PDF contains pupil data, and pupilguard cannot edit scanned PDFs, so it was "
                   "not sent to {tool}. Remove the pupil data, or send the pages as pictures, and try again.",
    "image_too_large": "a picture in it is too large to check for pupil data, so it was not sent to {tool}.",
    "pdf_too_many_scanned_pages": "a scanned PDF in it has too many pages to check for pupil data, so it was not "
                                  "sent to {tool}.",
    "image_unreadable": "a picture in it could not be read to check it for pupil data, so it was not sent to "
                        "{tool}.",
    "image_too_many_frames": "an animated picture in it has too many frames to check for pupil data, so it was "
                             "not sent to {tool}.",
    "ocr_timeout": "reading the text in a picture took too long, so it was not sent to {tool}. Please try again "
                   "with a smaller picture.",
    "ocr_busy": "pupilguard was busy reading other pictures, so it was not sent to {tool}. Please try again.",
    "ocr_unavailable": "pupilguard cannot read the text in pictures at the moment, so it was not sent to {tool}. "
                       "Please tell IT.",
}
REASON_SENTENCES_CY = {
    "tool_blocked": "nid yw'r ysgol wedi cymeradwyo {tool} i chi ei ddefnyddio.",
    "body_too_large": "mae'n rhy fawr i'w wirio am ddata disgyblion, felly ni chafodd ei anfon at {tool}.",
    "unreadable_body": "nid oedd modd ei ddarllen i'w wirio am ddata disgyblion, felly ni chafodd ei anfon at "
                       "{tool}.",
    "analysis_timeout": "cymerodd ormod o amser i'w wirio am ddata disgyblion, felly ni chafodd ei anfon at "
                        "{tool}. Rhowch gynnig arall arni.",
    "analysis_error": "nid oedd modd ei wirio am ddata disgyblion, felly ni chafodd ei anfon at {tool}. "
                      "Rhowch gynnig arall arni.",
    "unredactable_body": "mae ffeil sydd ynghlwm yn cynnwys data disgyblion nad oes modd ei olygu, felly ni "
                         "chafodd ei hanfon at {tool}. Tynnwch y data disgyblion o'r ffeil a rhowch gynnig arall arni.",
    "recheck_failed": "nid oedd modd tynnu'r holl ddata disgyblion ohono, felly ni chafodd ei anfon at {tool}.",
    "other_tenant": "mewngofnodwch gyda'ch cyfrif ysgol: dim ond cyfrif {tool} yr ysgol ei hun y gellir ei "
                    "ddefnyddio yma.",
    "uncatalogued_ai_tool": "nid yw'r ysgol wedi cymeradwyo'r offeryn AI hwn i chi ei ddefnyddio.",
    "scanned_pdf": "mae PDF wedi'i sganio sydd ynghlwm yn cynnwys data disgyblion, ac ni all pupilguard olygu PDF "
                   "wedi'i sganio, felly ni chafodd ei anfon at {tool}. Tynnwch y data disgyblion, neu anfonwch y "
                   "tudalennau fel lluniau, a rhowch gynnig arall arni.",
    "image_too_large": "mae llun ynddo yn rhy fawr i'w wirio am ddata disgyblion, felly ni chafodd ei anfon at "
                       "{tool}.",
    "pdf_too_many_scanned_pages": "mae gormod o dudalennau mewn PDF wedi'i sganio ynddo i'w wirio am ddata "
                                  "disgyblion, felly ni chafodd ei anfon at {tool}.",
    "image_unreadable": "nid oedd modd darllen llun ynddo i'w wirio am ddata disgyblion, felly ni chafodd ei anfon "
                        "at {tool}.",
    "image_too_many_frames": "mae gormod o fframiau mewn llun wedi'i animeiddio ynddo i'w wirio am ddata "
                             "disgyblion, felly ni chafodd ei anfon at {tool}.",
    "ocr_timeout": "cymerodd ormod o amser i ddarllen y testun mewn llun, felly ni chafodd ei anfon at {tool}. "
                   "Rhowch gynnig arall arni gyda llun llai.",
    "ocr_busy": "roedd pupilguard yn brysur yn darllen lluniau eraill, felly ni chafodd ei anfon at {tool}. "
                "Rhowch gynnig arall arni.",
    "ocr_unavailable": "ni all pupilguard ddarllen y testun mewn lluniau ar hyn o bryd, felly ni chafodd ei anfon "
                       "at {tool}. Rhowch wybod i'r tîm TG.",
}
# The block page's own words, per language.
PAGE_WORDS = {
    "en": {"title": "Blocked by pupilguard", "blocked": "{tool} is blocked", "prefix": "pupilguard blocked this "
           "request: ", "pupil_data": "it contains pupil data that may not be sent to {tool} ({found}). Remove it "
           "and try again.", "approved": "AI tools you can use:", "policy": "Read the school's AI policy",
           "footer": "pupilguard protects pupils' personal data. Ask your IT team if you think this is wrong."},
    "cy": {"title": "Wedi'i rwystro gan pupilguard", "blocked": "Mae {tool} wedi'i rwystro", "prefix": "Mae "
           "pupilguard wedi rhwystro'r cais hwn: ", "pupil_data": "mae'n cynnwys data disgyblion na chaniateir ei "
           "anfon at {tool}. Tynnwch y data a rhowch gynnig arall arni.", "approved": "Offer AI y gallwch eu "
           "defnyddio:", "policy": "Darllenwch bolisi AI yr ysgol",
           "footer": "Mae pupilguard yn diogelu data personol disgyblion. Gofynnwch i'ch tîm TG os ydych chi'n "
                     "credu bod hyn yn anghywir."},
}
SENTENCES = {"en": REASON_SENTENCES, "cy": REASON_SENTENCES_CY}


@lru_cache(maxsize=1)
def _service_kinds() -> dict[str, str]:
    from proxy.catalogue import default_catalogue

    return {service.name: service.kind for service in default_catalogue().services}


def browser_tools(names: Iterable[str]) -> list[str]:
    """Of these tool names, the ones a person opens in a browser (web apps, not APIs), each once, in order."""
    kinds = _service_kinds()
    return list(dict.fromkeys(name for name in names if kinds.get(name) == "web"))


@dataclass(frozen=True)
class SchoolStyle:
    """The school's name, logo, colour and page languages (see the module docstring)."""

    name: str = ""
    logo_url: str | None = None
    colour: str = "#1d4f91"
    languages: tuple[str, ...] = ("en",)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SchoolStyle:
        """From PUPILGUARD_SCHOOL_NAME, …_LOGO_URL, …_COLOUR and PUPILGUARD_PAGE_LANGUAGES."""
        return cls.parse(environ.get("PUPILGUARD_SCHOOL_NAME", ""), environ.get("PUPILGUARD_SCHOOL_LOGO_URL", ""),
                         environ.get("PUPILGUARD_SCHOOL_COLOUR", ""), environ.get("PUPILGUARD_PAGE_LANGUAGES", "en"))

    @classmethod
    def from_options(cls) -> SchoolStyle:
        """From the running proxy's settings (its mitmproxy options); the defaults outside a proxy."""
        options = getattr(ctx, "options", None)  # set once mitmproxy's master is made
        if options is None or "pupilguard_school_name" not in options:
            return cls()
        return cls.parse(options.pupilguard_school_name, options.pupilguard_school_logo_url,
                         options.pupilguard_school_colour, options.pupilguard_page_languages)

    @classmethod
    def parse(cls, name: str, logo: str, colour: str, languages: str) -> SchoolStyle:
        """Only what is safe on the page: an https or data:image logo, a #rgb colour, languages we have words for."""
        chosen = tuple(lang for lang in languages.replace(" ", "").split(",") if lang in PAGE_WORDS) or ("en",)
        return cls(name=name.strip(),
                   logo_url=logo if re.match(r"^(https://|data:image/(png|gif|jpeg|webp);base64,)", logo) else None,
                   colour=colour if re.fullmatch(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?", colour) else cls.colour,
                   languages=chosen)


def describe_entities(entities: dict[str, int]) -> str:
    words: list[str] = []
    for entity in sorted(entities):
        base, _, sub = entity.partition(":")
        word = (SPECIAL_WORDS.get(sub, sub.lower().replace("_", " ")) + " information") if sub \
            else ENTITY_WORDS.get(base, base.lower().replace("_", " "))
        if word not in words:
            words.append(word)
    return ", ".join(words)


@dataclass
class Refusal:
    tool: str  # display name
    reasons: list[str]
    entities: dict[str, int] = field(default_factory=dict)
    approved_tools: list[str] = field(default_factory=list)
    policy_url: str | None = None

    def reason_in(self, language: str) -> str:
        """Why, in one sentence, in this language (the block page shows it; the tools and policy come apart)."""
        sentences, words = SENTENCES[language], PAGE_WORDS[language]
        sentence = next((sentences[r] for r in self.reasons if r in sentences), words["pupil_data"])
        found = describe_entities(self.entities) or "pupil data"
        return words["prefix"] + sentence.format(tool=self.tool, found=found)

    @property
    def message(self) -> str:
        """For programs and web apps' scripts: one line with the reason, the tools to use instead and the policy."""
        parts = [self.reason_in("en")]
        if "tool_blocked" in self.reasons and self.approved_tools:
            parts.append("Approved AI tools: " + ", ".join(self.approved_tools) + ".")
        if self.policy_url:
            parts.append(f"School AI policy: {self.policy_url}")
        return " ".join(parts)


def is_navigation(request: http.Request) -> bool:
    """A top-level page load the browser will render (rather than fetch/XHR from a script)."""
    mode = request.headers.get("sec-fetch-mode")
    if mode is not None:
        return mode == "navigate" or request.headers.get("sec-fetch-dest") == "document"
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def error_body(shape: str, refusal: Refusal) -> dict:
    msg = refusal.message
    if shape == "openai":  # a program can tell "this tool is not allowed" from "this prompt held pupil data"
        code = "tool_not_approved" if "tool_blocked" in refusal.reasons else "pupil_data_blocked"
        return {"error": {"message": msg, "type": "invalid_request_error", "param": None, "code": code}}
    if shape == "anthropic":
        return {"type": "error", "error": {"type": "permission_error", "message": msg}}
    if shape == "gemini":
        return {"error": {"code": 403, "message": msg, "status": "PERMISSION_DENIED"}}
    # web apps' own scripts commonly show a JSON error's "detail" to the user
    return {"detail": msg, "error": {"message": msg, "reasons": refusal.reasons, "blocked_by": "pupilguard"}}


def block_response(request: http.Request, shape: str, refusal: Refusal) -> http.Response:
    headers = {"Cache-Control": "no-store", "X-Pupilguard-Action": "block"}
    if is_navigation(request):  # fetch/XHR from a web app gets JSON its script can show, not a page
        return http.Response.make(403, notice_page(refusal).encode(),
                                  {**headers, "Content-Type": "text/html; charset=utf-8",
                                   "Content-Security-Policy":
                                       "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"})
    return http.Response.make(403, json.dumps(error_body(shape, refusal)).encode(),
                              {**headers, "Content-Type": "application/json"})


def notice_page(refusal: Refusal, style: SchoolStyle | None = None) -> str:
    """The block page: in each of the school's languages, the tools a person may open in a browser instead."""
    e = html.escape
    style = style or SchoolStyle.from_options()
    tools = browser_tools(refusal.approved_tools) if "tool_blocked" in refusal.reasons else []
    approved = "".join(f"<li>{e(t)}</li>" for t in tools)
    policy = refusal.policy_url if refusal.policy_url and refusal.policy_url.startswith(("https://", "http://")) \
        else None
    sections = []
    for language in style.languages:
        words = PAGE_WORDS[language]
        sections.append(
            f'<section lang="{language}"><h1>{e(words["blocked"].format(tool=refusal.tool))}</h1>'
            f"<p>{e(refusal.reason_in(language))}</p>"
            + (f"<p>{e(words['approved'])}</p><ul>{approved}</ul>" if approved else "")
            + (f'<p><a href="{e(policy, quote=True)}">{e(words["policy"])}</a></p>' if policy else "")
            + f"<p><small>{e(words['footer'])}</small></p></section>")
    title = " / ".join(PAGE_WORDS[language]["title"] for language in style.languages)
    return _school_page(style, title, sections)


# --- an AI service that cannot be reached --------------------------------------------------------------------------

UNREACHABLE_CODE = "ai_service_unreachable"  # what a program can tell apart from a block, in every shape
UNREACHABLE_WORDS = {
    "en": {"title": "{tool} cannot be reached",
           "body": "pupilguard could not connect to {tool}: {why}. Nothing was sent. Try again in a few minutes; "
                   "if it keeps happening, tell your IT team.",
           "dns": "its address could not be found", "refused": "the connection was refused",
           "tls": "its secure connection could not be checked", "timeout": "it did not answer"},
    "cy": {"title": "Nid oes modd cyrraedd {tool}",
           "body": "Nid oedd pupilguard yn gallu cysylltu â {tool}: {why}. Ni chafodd dim ei anfon. Rhowch gynnig "
                   "arall arni ymhen ychydig funudau; os yw'n dal i ddigwydd, dywedwch wrth eich tîm TG.",
           "dns": "nid oedd modd dod o hyd i'w gyfeiriad", "refused": "gwrthodwyd y cysylltiad",
           "tls": "nid oedd modd gwirio ei gysylltiad diogel", "timeout": "ni atebodd"},
}


def unreachable_response(request: http.Request, shape: str, tool: str, why: str) -> http.Response:
    """502 when `tool` cannot be reached (`why`: dns, refused, tls or timeout): the school's page, in its
    languages, for a page load; the provider's error shape with the code `ai_service_unreachable` otherwise."""
    headers = {"Cache-Control": "no-store", "X-Pupilguard-Error": UNREACHABLE_CODE}
    if is_navigation(request):
        return http.Response.make(502, unreachable_page(tool, why).encode(),
                                  {**headers, "Content-Type": "text/html; charset=utf-8",
                                   "Content-Security-Policy":
                                       "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"})
    words = UNREACHABLE_WORDS["en"]
    msg = words["body"].format(tool=tool, why=words.get(why, words["timeout"]))
    if shape == "openai":
        body: dict = {"error": {"message": msg, "type": "api_connection_error", "param": None,
                                "code": UNREACHABLE_CODE}}
    elif shape == "anthropic":  # Anthropic's errors carry a type only: the message and header say which
        body = {"type": "error", "error": {"type": "api_error", "message": msg}}
    elif shape == "gemini":
        body = {"error": {"code": 502, "message": msg, "status": "UNAVAILABLE"}}
    else:
        body = {"detail": msg, "error": {"message": msg, "code": UNREACHABLE_CODE, "from": "pupilguard"}}
    return http.Response.make(502, json.dumps(body).encode(), {**headers, "Content-Type": "application/json"})


def unreachable_page(tool: str, why: str, style: SchoolStyle | None = None) -> str:
    e = html.escape
    style = style or SchoolStyle.from_options()
    sections = []
    for language in style.languages:
        words = UNREACHABLE_WORDS[language]
        sections.append(f'<section lang="{language}"><h1>{e(words["title"].format(tool=tool))}</h1>'
                        f'<p>{e(words["body"].format(tool=tool, why=words.get(why, words["timeout"])))}</p>'
                        "</section>")
    title = " / ".join(UNREACHABLE_WORDS[language]["title"].format(tool=tool) for language in style.languages)
    return _school_page(style, title, sections)


def _school_page(style: SchoolStyle, title: str, sections: list[str]) -> str:
    """A teacher-facing page in the school's name, logo and colour: one `<section>` per language."""
    e = html.escape
    logo = f'<img src="{e(style.logo_url, quote=True)}" alt="">' if style.logo_url else ""
    school = f"<header>{logo}<span>{e(style.name)}</span></header>" if style.name or logo else ""
    return f"""<!doctype html>
<html lang="{style.languages[0]}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}}
header{{display:flex;align-items:center;gap:.75rem;padding-bottom:.75rem;border-bottom:.3rem solid {style.colour};
font-weight:600}} header img{{max-height:3rem}} h1{{font-size:1.4rem;color:{style.colour}}}
section+section{{border-top:1px solid #ccc;margin-top:1.5rem}}</style></head>
<body>{school}{"".join(sections)}</body></html>
"""
