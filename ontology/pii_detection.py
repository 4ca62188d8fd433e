"""Which properties look like PII: pure detectors over a property's (or shared property's)
document — its api name, display name, description and examples (docs/documents.md, "PII").

:func:`detect` answers the *reasons* (one per category: ``email``, ``phone``,
``national_id``, ``card_number``, ``ip_address``, ``person_name``, ``postal_address``,
``birth_date``); the rule set turns them into WARN findings
(:func:`ontology.rule_set.pii.pii_findings`). A reason is also the key under which a
steward's dismissal is remembered, so it must stay stable.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from versioning.protection import is_token

#: category -> how a finding names it
CATEGORIES = {
    "email": "an e-mail address",
    "phone": "a phone number",
    "national_id": "a national id",
    "card_number": "a card number",
    "ip_address": "an IP address",
    "person_name": "a person's name",
    "postal_address": "a postal address",
    "birth_date": "a birth date",
}

#: the reasons a finding can give (also the OpenAPI enum PiiReasonEnum)
REASONS = list(CATEGORIES)

#: single words (of an api name split at case changes and separators, or a display name)
_WORDS = {
    "email": {"email", "emails", "e-mail", "mail"},
    "phone": {"phone", "telephone", "mobile", "cellphone", "fax", "msisdn", "tel"},
    "national_id": {"ssn", "nin", "nino", "passport", "sin", "tin", "nid", "aadhaar"},
    "card_number": {"pan", "creditcard", "ccn"},
    "ip_address": {"ip", "ipv4", "ipv6", "ipaddress"},
    "person_name": {"surname", "firstname", "lastname", "fullname", "forename", "username"},
    "postal_address": {"address", "street", "postcode", "zip", "zipcode", "postal"},
    "birth_date": {"dob", "birthdate", "birthday", "birth"},
}
#: two consecutive words
_PAIRS = {
    "national_id": {("national", "id"), ("social", "security"), ("tax", "id")},
    "card_number": {("card", "number"), ("credit", "card"), ("debit", "card")},
    "ip_address": {("ip", "address")},
    "person_name": {
        ("first", "name"),
        ("last", "name"),
        ("full", "name"),
        ("given", "name"),
        ("family", "name"),
        ("middle", "name"),
        ("maiden", "name"),
        ("person", "name"),
    },
    "postal_address": {("post", "code"), ("zip", "code"), ("home", "address")},
    "birth_date": {("birth", "date")},
}
_TRIPLES = {"birth_date": {("date", "of", "birth")}}
#: a name word that another category explains ("emailAddress" is an e-mail, not a letter box)
_EXPLAINED_BY = {"postal_address": {"email", "ip_address"}}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
_SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_DATE = re.compile(r"^(19|20)\d{2}-\d{2}-\d{2}$")


def words(text: str) -> list[str]:
    """``dateOfBirth`` / ``date_of_birth`` / ``Date of birth`` -> ``[date, of, birth]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w for w in re.split(r"[^A-Za-z0-9-]+|(?<=[a-z])-(?=[a-z])", spaced.lower()) if w]


def _from_words(found: list[str]) -> set[str]:
    out = set()
    for category, singles in _WORDS.items():
        if singles & set(found):
            out.add(category)
    pairs = set(zip(found, found[1:], strict=False))
    for category, wanted in _PAIRS.items():
        if wanted & pairs:
            out.add(category)
    triples = set(zip(found, found[1:], found[2:], strict=False))
    for category, wanted in _TRIPLES.items():
        if wanted & triples:
            out.add(category)
    for category, others in _EXPLAINED_BY.items():
        if category in out and out & others and "address" in found:
            out.discard(category)
    return out


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def example_category(value: str) -> str | None:
    """The category a single example value looks like, if any."""
    text = value.strip()
    compact = re.sub(r"[\s-]", "", text)
    if _EMAIL.match(text):
        return "email"
    if _SSN.match(text):
        return "national_id"
    if compact.isdigit() and 13 <= len(compact) <= 19 and luhn(compact):
        return "card_number"
    if _ip(text):
        return "ip_address"
    if _DATE.match(text):
        return None  # a date alone is not PII; a birth date is told by its name
    if _PHONE.match(text) and 7 <= sum(c.isdigit() for c in text) <= 15:  # E.164: <= 15
        return "phone"
    return None


def detect(holder: Mapping[str, Any]) -> dict[str, str]:
    """category -> where it was seen (``api name``, ``display name``, ``description``,
    ``examples``) for a property's or shared property's document."""
    out: dict[str, str] = {}
    for source, text in (
        ("api name", holder.get("apiName")),
        ("display name", holder.get("displayName")),
        ("description", holder.get("description")),
    ):
        if isinstance(text, str) and text:
            for category in sorted(_from_words(words(text))):
                out.setdefault(category, source)
    for value in holder.get("examples") or ():
        if isinstance(value, str) and not is_token(value):
            category = example_category(value)
            if category:
                out.setdefault(category, "examples")
    return out
