"""The rule set over a branch's rows: what the services and ``workspace.apply`` call.

:class:`RowsGraph` reads documents from a branch's rows, with ``overlay`` (documents about
to be written, ``None`` for a deletion) laid over them, and finds who refers to whom with
indexed queries on the reference columns (:data:`ontology.kinds.REFERENCES`), so that a
check reads the changed documents' neighbourhood, never the whole branch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from ..documents import to_documents
from ..kinds import KIND_MODEL, KINDS, outside_references, references
from . import Violation, validate
from .checks import Doc

_CHUNK = 1000  # rids per lookup


class RuleViolation(ValueError):
    """Documents that break the rule set; nothing was written. A ``ValueError``, so that
    versioning reports it as an invalid state (409) where it writes documents."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        shown = "; ".join(str(v) for v in violations[:10])
        more = f" (and {len(violations) - 10} more)" if len(violations) > 10 else ""
        super().__init__(f"The ontology would break its rules: {shown}{more}")


class RowsGraph:
    def __init__(self, branch_id: int, overlay: Mapping[str, Doc | None] | None = None) -> None:
        self.branch_id = branch_id
        self.overlay = dict(overlay or {})
        self._rows: dict[str, Doc | None] = {}

    def stored(self, rid: str) -> Doc | None:
        """The document the rows hold (before ``overlay``)."""
        if rid not in self._rows:
            self.prefetch([rid])
        return self._rows.get(rid)

    def prefetch(self, rids: Iterable[Any], kinds: Iterable[str] | None = None) -> None:
        """Read the documents of ``rids`` together. ``kinds``: the kinds they should be
        (a reference's target kind), read first, one query set per kind; a rid not found
        among them (gone, or of another kind: an error the rules name) is then looked
        for in every kind, so the answer is the same as without ``kinds``."""
        wanted = {r for r in rids if isinstance(r, str) and r not in self._rows}
        wanted -= set(self.overlay)
        if not wanted:
            return
        found: dict[str, Doc] = {}
        if kinds is not None:
            kinds = sorted({k for k in kinds if k in KIND_MODEL})
            found = to_documents(self.branch_id, sorted(wanted), kinds=kinds) if kinds else {}
        missing = wanted - set(found)
        if missing:
            found.update(to_documents(self.branch_id, sorted(missing)))
        for rid in wanted:
            self._rows[rid] = found.get(rid)

    def get(self, rid: Any) -> Doc | None:
        if not isinstance(rid, str):
            return None
        if rid in self.overlay:
            return self.overlay[rid]
        return self.stored(rid)

    def referrers(self, rids: set[str], kinds: frozenset[str]) -> set[str]:
        """The documents of ``kinds`` that refer to any of ``rids``: one indexed query per
        reference that can point at the rids' kinds (all of them for a rid of no known
        kind: gone, or a child)."""
        out: set[str] = set()
        wanted = sorted(rids)
        targets = {(self.get(rid) or self.stored(rid) or {}).get("kind") for rid in rids}
        for kind in sorted(kinds):
            for ref in KINDS[kind].references:
                if ref.target == "property" and ref.kind == "objectType":
                    continue  # an object type's own keys: checked with it
                if None not in targets and ref.target not in targets:
                    continue  # it cannot point at any of them
                for start in range(0, len(wanted), _CHUNK):
                    qs = ref.holder._default_manager.filter(
                        branch_id=self.branch_id,
                        **{f"{ref.field}__rid__in": wanted[start : start + _CHUNK]},
                    )
                    out.update(str(r) for r in qs.values_list(ref.top, flat=True))
        out -= set(self.overlay)
        for rid, doc in self.overlay.items():  # the documents about to be written
            if (
                doc is not None
                and doc.get("kind") in kinds
                and any(ref in rids for _, ref, _ in references(doc))
            ):
                out.add(rid)
        return out

    def names(self, kind: str, wanted: set[str]) -> dict[str, list[str]]:
        model = KIND_MODEL.get(kind)
        out: dict[str, list[str]] = {name: [] for name in wanted}
        if model is None:
            return out
        rows = (
            model._default_manager.filter(branch_id=self.branch_id)
            .annotate(lowered=Lower("api_name"))
            .filter(lowered__in=sorted(wanted))
            .values_list("rid", "lowered")
        )
        for rid, lowered in rows:
            if str(rid) not in self.overlay:
                out[lowered].append(str(rid))
        for rid, doc in self.overlay.items():
            if doc is not None and doc.get("kind") == kind:
                lowered = str(doc.get("apiName")).lower()
                if lowered in out:
                    out[lowered].append(rid)
        return out


def check_documents(
    branch_id: int,
    changes: Mapping[str, Doc | None],
    before: Mapping[str, Doc | None] | None = None,
) -> list[Violation]:
    """Violations of writing ``changes`` onto the branch's rows as they are now.

    ``before`` (optional): what the rows hold for those rids (read from the rows when not
    given)."""
    graph = RowsGraph(branch_id, changes)
    if before is None:
        graph.prefetch(changes, kinds={d.get("kind") for d in changes.values() if d})
        previous = graph.stored
    else:
        previous = before.get  # type: ignore[assignment]
    # the documents the changed ones refer to, read together
    refs = [
        (ref, spec.target)
        for doc in changes.values()
        if doc is not None
        for _, ref, spec in outside_references(doc)
        if ref is not None
    ]
    graph.prefetch((ref for ref, _ in refs), kinds={kind for _, kind in refs})
    return validate(graph, changes, previous, graph.names)


def ensure_valid(
    branch_id: int,
    changes: Mapping[str, Doc | None],
    before: Mapping[str, Doc | None] | None = None,
) -> None:
    """Refuse (:class:`RuleViolation`) ``changes`` that would break the rule set."""
    violations = check_documents(branch_id, changes, before)
    if violations:
        raise RuleViolation(violations)


def as_validation_error(exc: RuleViolation, own: str | None = None) -> ValidationError:
    """The violations as a Django ``ValidationError``: those of the document ``own`` rid
    under their document path (``properties.<rid>.baseType``), others under the rid of the
    document at fault and the path in it (``<rid>.interfaces.<rid>``), their message
    naming that document by kind and api name ("Object type 'Flight': ..."): the rid keeps
    the key exact, the name tells a reader which entity the write broke."""
    errors: dict[str, list[str]] = {}
    for v in exc.violations:
        where = ".".join(v.path) or "__all__"
        message = f"{v.message} [rule {v.rule}]"
        if v.rid != own:
            where = f"{v.rid}.{where}" if where != "__all__" else v.rid
            message = f"{_named(v)}: {message}"
        errors.setdefault(where, []).append(message)
    return ValidationError(errors, code="invalid")


def _named(v: Violation) -> str:
    """The kind and api name of the document a violation is about: "Object type 'Flight'"."""
    model = KIND_MODEL.get(v.kind)
    kind = str(model._meta.verbose_name) if model is not None else v.kind
    return f"{kind[:1].upper()}{kind[1:]} '{v.api_name}'"
