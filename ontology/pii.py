"""Suspected PII on a branch: the findings, and the steward's answers (services).

* :func:`branch_findings` — the WARN findings of the rule set's PII detector
  (:mod:`ontology.rule_set.pii`) over the branch's properties and shared properties;
* :func:`confirm` — flag the entity ``pii`` on the branch (a write like any other: the
  editor's permission and the right to edit the branch; its examples are encrypted);
* :func:`dismiss` — remember "not PII" for a reason of an entity, for every branch; the
  steward's call (``versioning.view_pii``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from versioning.models import Branch
from versioning.protection import may_view

from . import services
from .documents import stored_document, to_documents
from .exceptions import NotAllowedError, OntologyError
from .models import PiiDismissal, Property, SharedProperty
from .pii_detection import CATEGORIES
from .rule_set.pii import Finding, pii_findings


class UnknownEntityError(OntologyError):
    http_status = 404
    code = "not_found"


def dismissed_pairs() -> set[tuple[str, str]]:
    return {(str(rid), reason) for rid, reason in PiiDismissal.objects.values_list("rid", "reason")}


def branch_findings(branch: Branch) -> list[Finding]:
    docs = to_documents(branch.pk, kinds=["objectType", "sharedProperty"])
    return pii_findings(docs, dismissed_pairs())


def entity_findings(row: Property | SharedProperty) -> list[Finding]:
    """The findings of one property or shared property: those of the one document holding
    it, not of the whole branch."""
    top = services.top_level(row)
    doc = stored_document(top)
    found = pii_findings({str(top.rid): doc}, dismissed_pairs()) if doc else []
    return [f for f in found if f.entity == str(row.rid)]


def _entity(branch: Branch, rid: str) -> Property | SharedProperty:
    try:
        key = uuid.UUID(str(rid))
    except ValueError:
        key = None
    for model in (Property, SharedProperty) if key else ():
        found = model.objects.filter(branch=branch, rid=key).first()
        if found is not None:
            return found
    raise UnknownEntityError(f"No property or shared property {rid} on '{branch.name}'.")


def confirm(branch: Branch, rid: str, user: Any) -> Property | SharedProperty:
    """Flag the entity PII on ``branch`` (its examples are encrypted as it is saved)."""
    row = _entity(branch, rid)
    if not row.pii:
        row.pii = True
        services.save(row, user=user)
    return row


def check_dismiss(user: Any) -> None:
    """Dismissing is a steward's call: ``versioning.view_pii`` (403 otherwise)."""
    if user is not None and not may_view(user):
        raise NotAllowedError("Dismissing a PII finding is a steward's call (view_pii).")


@transaction.atomic
def dismiss(branch: Branch, rid: str, user: Any, reason: str | None = None) -> list[str]:
    """Remember "not PII" for ``reason`` (else every reason found now) of the entity;
    answers the reasons dismissed."""
    check_dismiss(user)
    row = _entity(branch, rid)
    if reason is not None and reason not in CATEGORIES:
        raise OntologyError(f"Not a PII reason: {reason!r}.", field="reason")
    reasons = [reason] if reason is not None else sorted({f.reason for f in entity_findings(row)})
    for each in reasons:
        PiiDismissal.objects.get_or_create(rid=row.rid, reason=each, defaults={"by": user})
    return reasons
