"""Suspected PII: a WARN :class:`~.checks.Violation` for each property or shared property
not flagged ``pii`` whose names, description or examples look like personal data
(:mod:`ontology.pii_detection`), unless a steward dismissed that reason for that entity
(``PiiDismissal``, keyed by the entity's rid, which every branch shares)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from versioning.domain.policy import Severity

from ..pii_detection import CATEGORIES, detect
from .checks import Doc, Violation

RULE_PREFIX = "pii-"


@dataclass(frozen=True)
class Finding:
    """A WARN violation with the entity it is about (a property's or shared property's
    rid) and the detector's reason (its category)."""

    entity: str
    reason: str
    violation: Violation

    def as_dict(self) -> dict[str, object]:
        v = self.violation
        return {
            "rid": self.entity,
            "reason": self.reason,
            "severity": v.severity.value,
            "rule": v.rule,
            "kind": "property" if v.path else v.kind,
            "apiName": v.api_name,
            "document": v.rid,
            "path": "/".join(v.path),
            "message": v.message,
        }


def _holders(rid: str, doc: Doc) -> Iterator[tuple[str, tuple[str, ...], str, Mapping]]:
    """(entity rid, path, shown name, holder) of each property of the document."""
    if doc.get("kind") == "sharedProperty":
        yield rid, (), str(doc.get("apiName")), doc
    elif doc.get("kind") == "objectType":
        for prid, prop in (doc.get("properties") or {}).items():
            if isinstance(prop, Mapping):
                name = f"{doc.get('apiName')}.{prop.get('apiName')}"
                yield prid, ("properties", prid), name, prop


def pii_findings(
    documents: Mapping[str, Doc], dismissed: Iterable[tuple[str, str]] = ()
) -> list[Finding]:
    """The findings of ``documents`` (rid -> document), without the ``(entity rid,
    reason)`` pairs dismissed, ordered by name."""
    skip = set(dismissed)
    out: list[Finding] = []
    for rid, doc in documents.items():
        for entity, path, name, holder in _holders(rid, doc):
            if holder.get("pii"):
                continue
            for reason, source in sorted(detect(holder).items()):
                if (entity, reason) in skip:
                    continue
                message = (
                    f"{name} looks like {CATEGORIES[reason]} (from its {source}): "
                    "confirm it PII or dismiss the finding."
                )
                violation = Violation(
                    rid,
                    path,
                    RULE_PREFIX + reason,
                    message,
                    str(doc.get("kind")),
                    name,
                    Severity.WARN,
                )
                out.append(Finding(entity, reason, violation))
    return sorted(out, key=lambda f: (f.violation.api_name, f.reason))
