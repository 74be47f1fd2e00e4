"""The reviewed list of what may leave unscanned: fields that cannot carry free text, each checked for its shape.

The completeness rule of the adapters: every string of a body (values *and* object keys, at any depth) is scanned,
unless it is on this list *and* has the shape its field allows. A value that fails its shape is scanned like any
other text - a `model` of "Leo Fischer" is read, never forwarded because of where it sits. Nothing is skipped
because an adapter did not look.

What is on the list, and why it is not scanned:
* machine values that a redaction would break and that give false matches (ids, tokens, hashes, signatures):
  they must look like machine values - no spaces, and no Capitalised Word pairs ("LeoFischer2011" is not an id);
* enum-like settings (`type`, `role`, `finish_reason`...): one token, one case, or a member of the field's set;
* URLs: they must parse, and their path and query must carry no words with spaces or capitalised name pairs;
* object keys made only of protocol words (`max_tokens`, `parentMessageId`): a key with any other word - a
  JSON-schema property named after a pupil, a `metadata` key - is scanned, and rewritten if redacted.

`user`-like fields and anything called a name are never on the list: they are where people put names.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

__all__ = ["skippable", "plain_key", "opaque", "url_shape", "name_pair"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^(?:0x)?[0-9a-fA-F]{16,}$")
# "c_8f2a1b3c4d5e6f70": a prefixed random hex id. Three hex letters at least, so "upn_a820106510023" stays text.
_PREFIXED_HEX = re.compile(r"^[A-Za-z]{1,12}[_-](?=(?:[0-9]*[a-f]){3})(?=(?:[a-f]*[0-9]){2})[0-9a-f]{12,}$")
_JWT = re.compile(r"^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$")
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/+@=\-]*$")
# Two capitalised words, joined ("LeoFischer") or separated ("Leo_Fischer", "Leo-Fischer"): how a name looks in a
# token. Random ids and signatures have them joined by chance, so those are only checked for separated pairs.
_NAME_PAIR = re.compile(r"[A-Z][a-z]{2,}[^A-Za-z]{0,3}[A-Z][a-z]{2,}")
_SEPARATED_PAIR = re.compile(r"[A-Z][a-z]{2,}[^A-Za-z0-9]{1,3}[A-Z][a-z]{2,}")


def name_pair(value: str) -> bool:
    """Two capitalised words in a token-like run ("LeoFischer", "Leo_Fischer"): a name, not a machine value."""
    return bool(_NAME_PAIR.search(value))


def opaque(value: str) -> bool:
    """A value that is a machine id by its shape alone, wherever it sits (it cannot spell a name)."""
    return bool(_UUID.match(value) or _HEX.match(value) or _PREFIXED_HEX.match(value) or _JWT.match(value))


def _token(value: str, limit: int = 64) -> bool:
    """One enum-like token: no spaces, one case or with digits, no pair of capitalised words."""
    if not 0 < len(value) <= limit or not _TOKEN.match(value) or _NAME_PAIR.search(value):
        return False
    letters = "".join(ch for ch in value if ch.isalpha())
    return letters.islower() or letters.isupper() or any(ch.isdigit() for ch in value) or not letters


def _machine_id(value: str) -> bool:
    """A UUID, a hash, or a token with digits in it ("msg_01XFDUDYJgAACzvnptvVoYEL", "call_abc123")."""
    return opaque(value) or (len(value) <= 200 and bool(_TOKEN.match(value)) and not _NAME_PAIR.search(value)
                             and (any(ch.isdigit() for ch in value) or _token(value)))


def _secret(value: str) -> bool:
    """A signature, token or hash: long, one run of token characters, no separated name pair."""
    return opaque(value) or (16 <= len(value) <= 65536 and bool(_TOKEN.match(value))
                             and not _SEPARATED_PAIR.search(value))


def _mime(value: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9.+\-]+/[a-z0-9.+\-]+(?:\s*;\s*[a-z0-9\-]+=[A-Za-z0-9.\-\"]+)*", value.lower())) \
        and _token(value.split(";")[0])


def _locale(value: str) -> bool:
    return bool(re.fullmatch(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}|[A-Z][A-Za-z_]+/[A-Za-z_]+(?:/[A-Za-z_]+)?"
                             r"|[+-]?\d{1,4}(?::\d\d)?|UTC|GMT", value))


_URL_SCHEMES = {"http", "https", "ws", "wss", "gs", "s3", "blob", "file", "sediment", "file-service"}


def url_shape(value: str) -> bool:
    """A URL that parses and whose path, query and fragment carry no free text (spaces, capitalised name pairs)."""
    if len(value) > 4096 or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    if parts.scheme.lower() not in _URL_SCHEMES or not (parts.netloc or parts.scheme == "blob") or "@" in parts.netloc:
        return False
    rest = unquote(parts.path + "?" + parts.query + "#" + parts.fragment).replace("+", " ")
    return not any(ch.isspace() for ch in rest) and not _NAME_PAIR.search(rest) and "@" not in rest


_ROLES = {"system", "user", "assistant", "tool", "function", "developer", "model", "critic", "ipython", "bot",
          "human", "ai"}

# The reviewed list: normalised field name -> the shape its string value must have to be left unscanned.
_FIELDS: dict[str, Callable[[str], bool]] = {
    "role": lambda v: v.lower() in _ROLES,
    **dict.fromkeys(("model", "models", "modelname", "modelslug", "defaultmodel"), lambda v: _token(v, 128)),
    **dict.fromkeys(("type", "object", "kind", "status", "finishreason", "stopreason", "toolchoice", "servicetier",
                     "reasoningeffort", "effort", "modalities", "encoding", "format", "voice", "action", "method",
                     "event", "mode", "detail", "truncation", "contenttype", "responsemimetype", "category",
                     "threshold", "platform", "version", "apiversion", "clientversion", "operationname",
                     "queryname", "conversationmode", "renderingmode", "searchfocus", "sourcetype",
                     "promptsource", "querysource", "origin", "target", "command", "at"), _token),
    **dict.fromkeys(("mimetype", "mediatype", "filemimetype", "filetype"), _mime),
    **dict.fromkeys(("id", "ids", "uuid", "docid", "requestid", "nonce", "clientnonce", "assetpointer"), _machine_id),
    **dict.fromkeys(("hash", "sha256", "checksum", "etag", "signature", "encryptedcontent", "thoughtsignature",
                     "token", "csrftoken", "fbdtsg", "jazoest", "lsd", "authorization", "apikey"), _secret),
    **dict.fromkeys(("url", "uri", "href", "fileuri", "imageurl"), url_shape),
    **dict.fromkeys(("timezone", "usertimezone", "locale", "language", "selectedlanguage"), _locale),
}
_SUFFIXES: tuple[tuple[re.Pattern[str], Callable[[str], bool]], ...] = (
    (re.compile(r"(?:^|[_\-.])(?:id|ids|uuid)$|[a-z0-9](?:Id|Ids|Uuid|ID)$"), _machine_id),
    (re.compile(r"(?:^|[_\-.])(?:url|uri)$|[a-z0-9](?:Url|Uri|URL)$"), url_shape),
    (re.compile(r"(?:^|[_\-.])(?:token|hash)$|[a-z0-9](?:Token|Hash)$"), _secret),
    (re.compile(r"(?:^|[_\-.])(?:type|format)$|[a-z0-9](?:Type|Format)$"), _token),
)


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def skippable(key: str, value: str) -> bool:
    """May the string `value` of the field `key` leave unscanned? Only a reviewed field with a value of its shape.
    A user-like or name field never: those are where people's names are."""
    name = _norm(key)
    if "user" in name or "name" in name:
        return False
    shape = _FIELDS.get(name)
    if shape is None:
        shape = next((fn for pattern, fn in _SUFFIXES if pattern.search(key)), None)
    return shape is not None and shape(value.strip())


# Words of the protocols we read (OpenAI, Anthropic, Gemini and the web apps' own JSON), reviewed: a key made only
# of these, written as one lower-case snake/kebab/camel identifier, is the protocol's, not someone's words.
_KEY_WORDS = frozenset("""
a accept action active actions add additional agent all allow allowed and annotations answer any api app
append args arguments array as asset assistant async at attachment attachments audio author auto background
badge base batch be beta block blocks body bool boolean boring bot break budget buffering by bytes cache call
calls can candidate candidates card categories category chat check choice citations class client code
coordinates completion completions composer config connector const container content contents context
contextual control conversation coordinates cot count create created creation current custom dalle data date
default defs definitions dependent deployment description descriptions detail device dialog disable disabled
display do document documents dsl duration effort emu enable enabled encoding encodings end ephemeral event
examples exclusive extended extensions external extracted features file files filter finish first focus
follow followups for force format fovea frequency from frontend full function functions generate generation
generations gizmo github glimpse grok hash height hidden hints history human id ids image images in include
incognito index info inline input instructions interpreter is item items json key kind language last layout
length level limit link links local locale log logit logprobs mask max maximum media mention mentions message
messages meta metadata mime min minimum mode model modalities models multiple n nav need no not num number
object of offset omit on one only options or order origin output override overrides page pair paragen
parallel parameters params parent part parts patches pattern penalty per personalized pixel prediction
preference prefix presence preview previous primary prompt properties property provider query queries
random ratio raw reasoning recency ref reference related rendering repos request requests required
reset response responses result results return returned role run safety sampling sanitized schema
schematized screen sdk search seed selected send sequences serialization server service session settings
side signature size skip source sources speech sponsored start status stop store stream streaming strict
string style styles suggestions summary supported supports symbol sync system target temperature temporary
text thinking thread threshold time timeout timezone title to token tokens tool tools top total training
truncation ts tts turn type types ui unique update url use user uuid value values variables version voice
watermarked web webpage websocket width with
name names filename caption label labels field fields payload purpose term terms enum note notes location
instruction declaration declarations sha jwt empty link links image input output query tag tags annotation
comment comments dimensions dimension embedding embeddings chunk chunks store stores vector vectors collection
collections cursor after before next prev order by sort filters group groups owner permissions scope scopes
email phone address region country city zone size url uri path dir directory extension ext lang
abra back caller cases character command comparison concise dark debug dev doc dpr dtsg entrypoint fb final
flash friendly gpt icebreaker internal invocation jazoest loaded lsd market method nonce offline platform
pointer product pv relay onlyrelayprovider ratiorelayprovider recap record req sdid sensitive set since slice
spoken str suggested switch threading timestamp tone trace ups video visitor xai calling csrf callback year
tier approximate recipient pupil student
""".split())
_KEY_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_IDENTIFIER = re.compile(r"^[$_]*[a-z][A-Za-z0-9_.\-]{0,127}$")  # lower-case first: snake, kebab or camel case


def plain_key(key: str) -> bool:
    """An object key that carries no words of its own: a protocol key, a number, a machine id."""
    if key.isdigit() or opaque(key):
        return True
    return bool(_IDENTIFIER.match(key)) and all(_key_word(w.lower()) for w in _KEY_WORD.findall(key))


def _key_word(word: str) -> bool:
    return len(word) <= 2 or word.isdigit() or word in _KEY_WORDS or (word[-1] == "s" and word[:-1] in _KEY_WORDS)
