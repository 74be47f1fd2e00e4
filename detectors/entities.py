"""The identifier vocabulary, in one place: each entity's name, placeholder prefix and plain-English label.

The order of `IDENTIFIERS` is the merge priority: when identifier spans overlap, the merged span takes the entity
that comes first (an e-mail address holding a name is still an e-mail address; a ULN is not a phone number; an
address holding a street named after a pupil is an address). Policy, engine and placeholders read it from here;
a new identifier is added here, given a recogniser, and a line in detectors/data/policy.yaml.
"""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["ENTITIES", "IDENTIFIERS", "Entity", "label", "placeholder_prefix"]


class Entity(NamedTuple):
    name: str
    prefix: str  # [PREFIX_1]
    one: str     # plain English, one of them: "a postcode"
    several: str  # plain English, several: "postcodes"


ENTITIES: tuple[Entity, ...] = (
    Entity("EMAIL_ADDRESS", "EMAIL", "an email address", "email addresses"),
    Entity("UK_UPN", "UPN", "a UPN", "UPNs"),
    Entity("UK_ULN", "ULN", "a ULN", "ULNs"),
    Entity("UK_UCI", "UCI", "a UCI", "UCIs"),
    Entity("UK_NHS", "NHS", "an NHS number", "NHS numbers"),
    Entity("UK_NINO", "NINO", "a National Insurance number", "National Insurance numbers"),
    Entity("UK_ADDRESS", "ADDRESS", "a home address", "home addresses"),
    Entity("PUPIL", "PUPIL", "a pupil's name", "pupil names"),
    Entity("DATE_OF_BIRTH", "DOB", "a date of birth", "dates of birth"),
    Entity("UK_POSTCODE", "POSTCODE", "a postcode", "postcodes"),
    Entity("PHONE_NUMBER", "PHONE", "a phone number", "phone numbers"),
    Entity("PERSON", "PERSON", "a person's name", "people's names"),
)
IDENTIFIERS: tuple[str, ...] = tuple(e.name for e in ENTITIES)
_BY_NAME = {e.name: e for e in ENTITIES}


def placeholder_prefix(entity: str) -> str:
    e = _BY_NAME.get(entity)
    return e.prefix if e else entity


def label(entity: str, count: int = 1) -> str:
    """ "a postcode" / "postcodes"; an unknown entity is shown by its name."""
    e = _BY_NAME.get(entity)
    if e is None:
        return entity
    return e.one if count == 1 else e.several
