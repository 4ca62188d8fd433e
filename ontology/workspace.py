"""The ontology's implementation of versioning's workspace interface (the merge policy is
in :mod:`ontology.merge_policy`).

* ``copy_rows`` / ``drop_rows`` (:mod:`ontology.workspace_copy`): a branch's whole working
  copy in one statement per table;
* ``apply`` checks the rule set (:mod:`ontology.rule_set`) over the documents and their
  neighbourhood on the branch's rows, then writes them (:mod:`ontology.workspace_write`):
  merge, update from target, revert, discard and branch from a commit all end here, so
  nothing that breaks the rules lands on a branch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .documents import Document, to_documents
from .rule_set.rows import ensure_valid
from .workspace_copy import copy_rows, drop_rows
from .workspace_write import as_stored, write

__all__ = ["OntologyWorkspace", "apply", "as_stored", "copy_rows", "drop_rows", "write"]


def apply(
    branch,
    changes: Mapping[str, Document | None],
    before: Mapping[str, Document | None] | None = None,
    *,
    checked: bool = False,
) -> None:
    """Make the branch's rows match ``changes`` (``None`` deletes the entity), refusing
    with :class:`~ontology.rule_set.rows.RuleViolation` (a ``ValueError``, which
    versioning reports as 409) documents that would break the rule set; nothing is
    written then. ``before``: what the rows hold now (see :func:`write`). ``checked``:
    the caller has run the rule set over the whole tree these changes make, in this
    transaction with the branch locked (a bundle import; a merge landed by
    ``versioning.merging.land``, whose policy validated the merged tree), so it is not run
    again."""
    if not changes:
        return
    if not checked:
        ensure_valid(branch.pk, changes, before)
    write(branch, changes, before)


# --- the registered interfaces ----------------------------------------------------------


class OntologyWorkspace:
    """How a branch's rows become documents and back (registered with versioning)."""

    def documents(self, branch, rids: Iterable[str]) -> dict[str, Document | None]:
        wanted = [str(r) for r in rids]
        found = to_documents(branch.pk, wanted)
        return {rid: found.get(rid) for rid in wanted}

    def all_documents(self, branch) -> dict[str, Document]:
        return to_documents(branch.pk)

    def apply(
        self,
        branch,
        changes: Mapping[str, Document | None],
        before: Mapping[str, Document | None] | None = None,
        *,
        checked: bool = False,
    ) -> None:
        apply(branch, changes, before, checked=checked)

    def copy_rows(self, source, target) -> None:
        copy_rows(source, target)

    def drop_rows(self, branch) -> None:
        drop_rows(branch)

    def stored_value(self, value: Any) -> Any:
        return as_stored(value)
