"""The hashed pupil roster: keyed hashes of normalised name forms and identifiers, never plaintext.

A roster file holds, for every name form and identifier of every pupil, the first 64 bits of
HMAC-SHA256(key, fold(form)) in one sorted array, with flags saying what kind of form it is and the pupils it
belongs to; each pupil is known only by a pseudonymous reference derived with the same key. Without the key
the file reveals nothing but counts; with the key a name can be checked, but not listed.

Lookups are batched numpy binary searches, so a recogniser can test every token n-gram of a long prompt in a
few milliseconds, and 250,000 pupils load in well under a second.

(Over 350 lines on purpose: the keyed hashing, the name forms and the batched look-up must agree
exactly between import and scan; they are kept in one module so they cannot drift.)
"""
from __future__ import annotations

import base64
import binascii
import hmac
import io
import json
import os
import re
import secrets
import stat
import zipfile
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

import numpy as np

from detectors.normalise import clean, fold

__all__ = [
    "FORENAME", "FULL_NAME", "NAME_PART", "SURNAME", "UPN", "ULN",
    "ImportReport", "Roster", "RosterBuilder", "RosterError", "RosterKey", "RosterKeyError", "RosterKeySource",
    "hash_query", "import_mis_csv", "name_forms", "normalise_identifier",
]

KEY_ENV = "PUPILGUARD_ROSTER_KEY"
KEY_FILE_ENV = "PUPILGUARD_ROSTER_KEY_FILE"
FORMAT = "pupilguard-roster"
VERSION = 1

# Flags of a hashed form (a form can be several at once: "Grace" may be one pupil's forename and a
# token of another's surname).
FULL_NAME = 1   # two or more name words that together name one pupil, in either order
FORENAME = 2    # a forename on its own
SURNAME = 4     # a surname on its own
NAME_PART = 8   # any single word occurring in some name: gates which n-grams are worth hashing
UPN = 16
ULN = 32
_IDENTIFIER_FLAGS = {"UPN": UPN, "ULN": ULN}
_NO_PUPIL = np.uint32(0xFFFFFFFF)

# Surname particles: "van der Berg" is also called "Berg"; "de la Cruz", "Cruz".
_PARTICLES = frozenset("van von der den de del della di da dos das du la le al el bin ben ibn st mac".split())
# Fresh key per roster file for nothing but a check that the right key is in use.
_FINGERPRINT_MESSAGE = b"pupilguard roster key fingerprint v1"


class RosterError(Exception):
    """The roster file is missing, corrupt or of an unknown format."""


class RosterKeyError(RosterError):
    """The roster key is missing, malformed, unsafe to use, or not the key the roster was built with."""


class RosterKey:
    """The secret HMAC key. Keep it apart from the roster file: the pair identifies pupils, either alone does not."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes | bytearray) or len(secret) < 16:
            raise RosterKeyError("roster key must be at least 16 bytes")
        self._secret = bytes(secret)

    def __repr__(self) -> str:  # never the secret
        return f"RosterKey(fingerprint={self.fingerprint})"

    @classmethod
    def generate(cls) -> RosterKey:
        return cls(secrets.token_bytes(32))

    @classmethod
    def parse(cls, text: str) -> RosterKey:
        """A key written as hex (64 digits) or base64."""
        text = text.strip()
        try:
            if re.fullmatch(r"[0-9a-fA-F]{32,}", text) and len(text) % 2 == 0:
                return cls(bytes.fromhex(text))
            return cls(base64.b64decode(text, validate=True))
        except (ValueError, binascii.Error):
            raise RosterKeyError("roster key is neither hex nor base64") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RosterKey | None:
        """The key in PUPILGUARD_ROSTER_KEY, or None when the variable is unset."""
        value = (os.environ if environ is None else environ).get(KEY_ENV)
        if not value:
            return None
        try:
            return cls.parse(value)
        except RosterKeyError as exc:
            raise RosterKeyError(f"{KEY_ENV}: {exc}") from None

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> RosterKey:
        """Read the key file, creating it (mode 0600, new random key) if it does not exist.

        A key file that other users can read or write is refused: anyone holding it can test names against
        every roster and event log."""
        path = Path(path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXO | stat.S_IWGRP):
                raise RosterKeyError(
                    f"key file {path} is accessible to other users (mode {stat.S_IMODE(mode):04o}); "
                    f"run: chmod 600 {path}"
                ) from None
            try:
                return cls.parse(path.read_text(encoding="ascii", errors="replace"))
            except RosterKeyError as exc:
                raise RosterKeyError(f"key file {path}: {exc}") from None
            except OSError as exc:
                raise RosterKeyError(f"cannot read key file {path}: {exc.strerror}") from None
        except OSError as exc:
            raise RosterKeyError(f"cannot create key file {path}: {exc.strerror}") from None
        key = cls.generate()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key._secret.hex() + "\n")
        return key

    @classmethod
    def resolve(cls, key_file: str | os.PathLike[str] | None = None, *,
                default: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> RosterKey:
        """The roster key for a command given `key_file` (its --key-file flag) in this environment, by the one
        precedence every command and service uses (RosterKeySource)."""
        return RosterKeySource.of(key_file, environ).load(default)

    @property
    def fingerprint(self) -> str:
        """Public, non-reversible identity of the key, stored in roster files to catch a wrong key."""
        return hmac.digest(self._secret, _FINGERPRINT_MESSAGE, "sha256")[:8].hex()

    def hash(self, form: str) -> bytes:
        """HMAC-SHA256 of the folded form."""
        return hmac.digest(self._secret, fold(form).encode(), "sha256")

    def key64(self, folded: str) -> int:
        """The 64-bit roster key of an already folded form (fold it first: this is the hot path)."""
        return int.from_bytes(hmac.digest(self._secret, folded.encode(), "sha256")[:8], "big")

    def identifier64(self, kind: str, value: str) -> int:
        """64-bit roster key of an identifier; a separate domain so no identifier can collide with a name."""
        message = f"id:{kind}:{normalise_identifier(kind, value)}".encode()
        return int.from_bytes(hmac.digest(self._secret, message, "sha256")[:8], "big")

    def pupil_ref(self, seed: str) -> str:
        """Stable pseudonymous reference: "P-" + 10 base32 characters of HMAC(key, "pupil:" + seed)."""
        digest = hmac.digest(self._secret, ("pupil:" + seed).encode(), "sha256")
        return "P-" + base64.b32encode(digest[:10]).decode()[:10]


@dataclass(frozen=True)
class RosterKeySource:
    """Where the roster key comes from, by the one precedence of every setting: flag > env > file > default.

    A key file given as a flag (--key-file), else the key itself (PUPILGUARD_ROSTER_KEY), else the key file named
    by PUPILGUARD_ROSTER_KEY_FILE, else the service's own default file, created (0600, new key) if it does not exist
    yet. Plain values, so it pickles into worker processes; the key is read when a roster is loaded."""

    key: str | None = field(default=None, repr=False)  # the key itself, hex or base64
    file: str | os.PathLike[str] | None = None

    @classmethod
    def of(cls, flag: str | os.PathLike[str] | None = None,
           environ: Mapping[str, str] | None = None) -> RosterKeySource:
        """From a command's --key-file flag and the environment (this process's unless given)."""
        if flag:  # a flag outranks the environment
            return cls(file=flag)
        environ = os.environ if environ is None else environ
        return cls(key=environ.get(KEY_ENV) or None, file=environ.get(KEY_FILE_ENV) or None)

    def load(self, default: str | os.PathLike[str] | None = None) -> RosterKey:
        if self.key:
            return RosterKey.from_env({KEY_ENV: self.key})
        path = self.file or default
        if not path:
            raise RosterKeyError(f"no roster key: give --key-file, or set {KEY_ENV} or {KEY_FILE_ENV}")
        return RosterKey.load_or_create(path)


def normalise_identifier(kind: str, value: str) -> str:
    kind = kind.upper()
    if kind not in _IDENTIFIER_FLAGS:
        raise ValueError(f"unknown identifier kind {kind!r}; expected one of {sorted(_IDENTIFIER_FLAGS)}")
    return re.sub(r"[\s\-]", "", value).upper()


def _spellings(raw: str) -> frozenset[str]:
    """Folded spellings of one name: "Smith-Jones" -> {"smith jones", "smithjones"};
    "O'Brien" -> {"obrien", "o brien"}."""
    cleaned = clean(raw).text
    out = {fold(cleaned), fold(cleaned.replace("'", " "))}
    out.update(v.replace(" ", "") for v in list(out) if 1 < len(v.split()) <= 3)
    return frozenset(v for v in out if v)


def _surname_alone(folded: str) -> set[str]:
    """Forms of a surname usable on their own: "van der berg" -> also "berg"; "smith jones" -> also each part."""
    words = folded.split()
    out = {folded}
    if len(words) > 1:
        core = [w for w in words if w not in _PARTICLES]
        if core and len(core) < len(words):
            out.add(" ".join(core))
        elif len(words) == 2 and all(len(w) > 2 for w in words):
            out.update(words)
    return out


def name_forms(
    forenames: Iterable[str],
    surnames: Iterable[str],
    middle_names: str = "",
    cache: dict[str, frozenset[str]] | None = None,
) -> dict[str, int]:
    """Every folded form under which a pupil may be named, with its flags.

    forenames: legal and preferred forenames; surnames: legal, preferred (and former) surnames.
    Full names in both orders, with and without middle names; forename and surname alone; hyphenated and
    apostrophe names both joined and split; multi-word surnames also by their last word after particles.
    `cache` (raw name -> spellings) speeds up bulk imports, where the same names recur thousands of times."""
    forms: dict[str, int] = {}

    def add(folded: str, flags: int) -> None:
        forms[folded] = forms.get(folded, 0) | flags

    def spellings(raw: str) -> frozenset[str]:
        if cache is None:
            return _spellings(raw)
        hit = cache.get(raw)
        if hit is None:
            hit = cache[raw] = _spellings(raw)
        return hit

    fores = set().union(*(spellings(f) for f in forenames if f and f.strip()))
    surs = set().union(*(spellings(s) for s in surnames if s and s.strip()))
    middle = fold(middle_names) if middle_names else ""

    for f in fores:
        add(f, FORENAME)
        for s in surs:
            add(f"{f} {s}", FULL_NAME)
            add(f"{s} {f}", FULL_NAME)
            if middle:
                add(f"{f} {middle} {s}", FULL_NAME)
                add(f"{s} {f} {middle}", FULL_NAME)
    for s in surs:
        for a in _surname_alone(s):
            add(a, SURNAME)
            if a != s:
                for f in fores:
                    add(f"{f} {a}", FULL_NAME)
                    add(f"{a} {f}", FULL_NAME)
    for form in list(forms):
        if " " in form:
            for word in form.split():
                add(word, NAME_PART)
        else:
            add(form, NAME_PART)
    return forms


class RosterBuilder:
    """Collects pupils and writes a roster file. Holds hashes only, never the names it was given."""

    def __init__(self, key: RosterKey) -> None:
        self.key = key
        self._keys = array("Q")
        self._flags = array("B")
        self._pupils = array("I")
        self._refs: list[str] = []
        self._ref_index: dict[str, int] = {}
        # Names recur across thousands of pupils: cache their spellings and the hashes of single words.
        # Both caches die with the builder, so no plaintext outlives the import.
        self._spelling_cache: dict[str, frozenset[str]] = {}
        self._name_cache: dict[str, int] = {}

    @property
    def pupil_count(self) -> int:
        return len(self._refs)

    def add_pupil(
        self,
        *,
        legal_forename: str,
        legal_surname: str,
        preferred_forename: str = "",
        preferred_surname: str = "",
        middle_names: str = "",
        former_surnames: Sequence[str] = (),
        upns: Sequence[str] = (),
        ulns: Sequence[str] = (),
        date_of_birth: date | None = None,
    ) -> tuple[str, bool]:
        """Add one pupil; returns (pupil_ref, is_new). Rows naming the same pupil (same ref) merge."""
        if upns:
            seed = "upn:" + normalise_identifier("UPN", upns[0])
        else:
            dob = date_of_birth.isoformat() if date_of_birth else ""
            seed = f"name:{fold(legal_forename)}|{fold(legal_surname)}|{dob}"
        ref = self.key.pupil_ref(seed)
        index = self._ref_index.get(ref)
        is_new = index is None
        if index is None:
            index = self._ref_index[ref] = len(self._refs)
            self._refs.append(ref)

        forms = name_forms(
            (legal_forename, preferred_forename),
            (legal_surname, preferred_surname, *former_surnames),
            middle_names,
            self._spelling_cache,
        )
        cache, key64 = self._name_cache, self.key.key64
        for folded, flags in forms.items():
            if " " in folded:
                h = key64(folded)
            else:
                h = cache.get(folded)
                if h is None:
                    h = cache[folded] = key64(folded)
            self._keys.append(h)
            self._flags.append(flags)
            # A bare name part links to no pupil: it only gates n-gram lookups.
            self._pupils.append(index if flags != NAME_PART else int(_NO_PUPIL))
        for kind, values in (("UPN", upns), ("ULN", ulns)):
            for value in values:
                self._keys.append(self.key.identifier64(kind, value))
                self._flags.append(_IDENTIFIER_FLAGS[kind])
                self._pupils.append(index)
        return ref, is_new

    def arrays(self) -> dict[str, np.ndarray]:
        keys = np.frombuffer(self._keys, dtype=np.uint64) if len(self._keys) else np.zeros(0, np.uint64)
        flags = np.frombuffer(self._flags, dtype=np.uint8) if len(self._flags) else np.zeros(0, np.uint8)
        pupils = np.frombuffer(self._pupils, dtype=np.uint32) if len(self._pupils) else np.zeros(0, np.uint32)
        order = np.lexsort((pupils, keys))
        keys, flags, pupils = keys[order], flags[order], pupils[order]
        if len(keys):
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            unique_keys = keys[starts]
            unique_flags = np.bitwise_or.reduceat(flags, starts).astype(np.uint8)
            keep = np.r_[True, (keys[1:] != keys[:-1]) | (pupils[1:] != pupils[:-1])] & (pupils != _NO_PUPIL)
        else:
            unique_keys, unique_flags, keep = keys, flags, np.zeros(0, bool)
        members = pupils[keep]
        offsets = np.zeros(len(unique_keys) + 1, dtype=np.uint32)
        offsets[:-1] = np.searchsorted(keys[keep], unique_keys)
        offsets[-1] = len(members)
        refs = np.array([r.encode() for r in self._refs], dtype="S12")
        return {"keys": unique_keys, "flags": unique_flags, "offsets": offsets, "members": members, "refs": refs}

    def write(self, path: str | os.PathLike[str] | BinaryIO) -> dict[str, int]:
        """Write the roster to a path, atomically (readers never see a half-written file), or to a binary
        file object; returns counts."""
        arrays = self.arrays()
        counts = {
            "pupils": len(self._refs),
            "keys": int(len(arrays["keys"])),
            "name_forms": int(np.count_nonzero(arrays["flags"] & (FULL_NAME | FORENAME | SURNAME))),
            "identifiers": int(np.count_nonzero(arrays["flags"] & (UPN | ULN))),
        }
        header = {"format": FORMAT, "version": VERSION, "key_fingerprint": self.key.fingerprint, **counts}
        header_array = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        if hasattr(path, "write"):
            np.savez(path, header=header_array, **arrays)
            return counts
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, header=header_array, **arrays)
            os.replace(tmp, path)
        except OSError as exc:
            raise RosterError(f"cannot write roster to {path}: {exc.strerror}") from None
        finally:
            tmp.unlink(missing_ok=True)
        return counts


class Roster:
    """A loaded roster: answers "is this (folded) form a pupil's name or identifier, and whose?"."""

    def __init__(self, key: RosterKey, arrays: dict[str, np.ndarray], header: dict) -> None:
        self.key = key
        self.header = header
        self._keys: np.ndarray = arrays["keys"]
        self._flags: np.ndarray = arrays["flags"]
        self._offsets: np.ndarray = arrays["offsets"]
        self._members: np.ndarray = arrays["members"]
        self._refs: np.ndarray = arrays["refs"]

    def __len__(self) -> int:
        return len(self._refs)

    def __repr__(self) -> str:
        return f"Roster(pupils={len(self)}, keys={len(self._keys)}, key={self.key.fingerprint})"

    @classmethod
    def load(cls, path: str | os.PathLike[str] | bytes, key: RosterKey) -> Roster:
        """Load a roster file (or its bytes, as served by the admin API); wrong key -> RosterKeyError."""
        source = io.BytesIO(path) if isinstance(path, bytes) else path
        try:
            with np.load(source, allow_pickle=False) as npz:
                header = json.loads(npz["header"].tobytes())
                if header.get("format") != FORMAT or header.get("version") != VERSION:
                    raise RosterError(f"not a pupilguard roster (format {header.get('format')!r})")
                arrays = {name: npz[name] for name in ("keys", "flags", "offsets", "members", "refs")}
        except FileNotFoundError:
            raise RosterError(f"roster file not found: {path}") from None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise RosterError(f"roster file is unreadable or corrupt ({type(exc).__name__})") from None
        if header.get("key_fingerprint") != key.fingerprint:
            raise RosterKeyError(
                f"roster was built with another key (roster key fingerprint {header.get('key_fingerprint')}, "
                f"this key {key.fingerprint}); use the key file it was imported with or re-import"
            )
        return cls(key, arrays, header)

    # -- batch lookups (the recogniser's hot path) -------------------------------------------------
    def lookup_keys(self, keys: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For 64-bit keys: (flags, index) arrays; flags 0 where absent. Index feeds `refs_at`."""
        query = np.asarray(keys, dtype=np.uint64)
        if not len(self._keys) or not len(query):
            return np.zeros(len(query), np.uint8), np.zeros(len(query), np.intp)
        idx = np.searchsorted(self._keys, query)
        idx_clipped = np.minimum(idx, len(self._keys) - 1)
        found = self._keys[idx_clipped] == query
        return np.where(found, self._flags[idx_clipped], 0).astype(np.uint8), idx_clipped

    def lookup_folded(self, folded_forms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        key64 = self.key.key64
        return self.lookup_keys([key64(f) for f in folded_forms])

    def refs_at(self, index: int) -> list[str]:
        start, end = int(self._offsets[index]), int(self._offsets[index + 1])
        return [r.decode() for r in self._refs[self._members[start:end]]]

    def members_at(self, index: int) -> int:
        return int(self._offsets[index + 1] - self._offsets[index])

    def _flags_and_refs(self, folded: str) -> tuple[int, list[str]]:
        flags, idx = self.lookup_folded([folded])
        if not flags[0]:
            return 0, []
        return int(flags[0]), self.refs_at(int(idx[0]))

    # -- single lookups ------------------------------------------------------------------------------
    def match_full_name(self, *tokens: str) -> list[str]:
        """Pupil refs whose full name (any order, legal or preferred) is these tokens; [] if none."""
        flags, refs = self._flags_and_refs(fold(" ".join(tokens)))
        return refs if flags & FULL_NAME else []

    def is_forename(self, name: str) -> bool:
        return bool(self._flags_and_refs(fold(name))[0] & FORENAME)

    def is_surname(self, name: str) -> bool:
        return bool(self._flags_and_refs(fold(name))[0] & SURNAME)

    def pupil_ref_for_name(self, name: str) -> list[str]:
        """Refs of pupils named `name` (full name, or forename or surname alone)."""
        flags, refs = self._flags_and_refs(fold(name))
        return refs if flags & (FULL_NAME | FORENAME | SURNAME) else []

    def lookup_identifier(self, kind: str, value: str) -> str | None:
        """The pupil_ref holding this UPN or ULN, or None."""
        kind = kind.upper()
        flags, idx = self.lookup_keys([self.key.identifier64(kind, value)])
        if not flags[0] & _IDENTIFIER_FLAGS[kind]:
            return None
        refs = self.refs_at(int(idx[0]))
        return refs[0] if refs else None

    def find_pupils(self, query: str) -> list[str]:
        """For the DPO's "find a pupil": refs matching a typed UPN, ULN or name (full, forename or surname)."""
        found: list[str] = []
        flags, idx = self.lookup_keys(hash_query(self.key, query))
        for f, i in zip(flags.tolist(), idx.tolist()):
            if f & (FULL_NAME | FORENAME | SURNAME | UPN | ULN):
                found.extend(r for r in self.refs_at(i) if r not in found)
        return found


def hash_query(key: RosterKey, name_or_identifier: str) -> list[int]:
    """Candidate 64-bit roster keys for something a DPO typed: the name as typed, and as a UPN/ULN if it could be."""
    candidates = []
    folded = fold(name_or_identifier)
    if folded:
        candidates.append(key.key64(folded))
    compact = re.sub(r"[\s\-]", "", name_or_identifier).upper()
    if re.fullmatch(r"[A-Z]\d{11}[0-9A-Z]", compact):
        candidates.append(key.identifier64("UPN", compact))
    if re.fullmatch(r"[1-9]\d{9}", compact):
        candidates.append(key.identifier64("ULN", compact))
    return candidates


def __getattr__(name: str):  # the CSV importer lives in mis_import; the contract names it here too
    if name in ("import_mis_csv", "ImportReport"):
        from detectors import mis_import

        return getattr(mis_import, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
