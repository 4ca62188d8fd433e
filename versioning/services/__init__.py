"""Versioning services: every write to branches, commits and proposals goes through these.

Each write runs in one transaction: lock the branch row, check (protection, then the
acting user's permission with its rule from :mod:`versioning.permissions`; ``user=None``
is an internal write with no user to check), write blobs and the commit, apply documents
to the ontology rows through the registered workspace, move the head with a
compare-and-set on the expected head, and publish the event through the outbox. Admin,
API, management commands and tasks all call these functions, and none can skip the
permission check.

Reading (``resolve_ref``, ``documents_at``, ``history``, ``diff``...) never rebuilds a
whole tree unless asked for one: see :mod:`versioning.store`.

By domain: :mod:`.reading` (refs, the past, diffs), :mod:`.commits` (commit, discard,
revert), :mod:`.branches` (create, delete, settings), :mod:`.proposals` (open, dry run,
resolve, approve, merge, update from target, close), :mod:`.reviews` (comments, requests
for changes). Merge, update from target and revert
share one sequence, :mod:`versioning.merging`; every head moves through
:mod:`versioning.writing`. Everything is re-exported here: call ``services.name``.
"""

from ..merging import Merge, three_way
from ..writing import (
    BRANCH_CREATED,
    BRANCH_DELETED,
    BRANCH_UPDATED,
    CHANGES_DISCARDED,
    COMMIT_CREATED,
    EVENT_PREFIX,
    PROPOSAL_APPROVED,
    PROPOSAL_CLOSED,
    PROPOSAL_COMMENTED,
    PROPOSAL_MERGED,
    PROPOSAL_OPENED,
    PROPOSAL_RESOLVED,
    Document,
    has_uncommitted_changes,
)
from .branches import (
    BRANCH_SETTINGS,
    NAME_IS_FIXED,
    NOT_A_SETTING,
    archive_branch,
    branch_update_refusals,
    create_branch,
    delete_branch,
    grant_edit_branch,
    update_branch,
)
from .commits import commit_changes, discard_changes, revert_commit
from .proposals import (
    RESOLUTION_CHOICES,
    approve,
    approved_by_other,
    changes_requested,
    close_proposal,
    current_approvals,
    dry_run,
    merge_proposal,
    open_proposal,
    resolve,
    update_from_target,
)
from .reading import (
    MIN_PREFIX,
    Comparison,
    changes,
    commit_id_of,
    compare_commits,
    compare_working_copy,
    diff,
    documents_at,
    entity_history,
    get_branch,
    history,
    register_ref_resolver,
    resolve_ref,
    tree_at,
)
from .reviews import MAX_COMMENT, comment

__all__ = [
    "BRANCH_CREATED",
    "BRANCH_DELETED",
    "BRANCH_SETTINGS",
    "BRANCH_UPDATED",
    "CHANGES_DISCARDED",
    "COMMIT_CREATED",
    "EVENT_PREFIX",
    "MAX_COMMENT",
    "MIN_PREFIX",
    "NAME_IS_FIXED",
    "NOT_A_SETTING",
    "PROPOSAL_APPROVED",
    "PROPOSAL_CLOSED",
    "PROPOSAL_COMMENTED",
    "PROPOSAL_MERGED",
    "PROPOSAL_OPENED",
    "PROPOSAL_RESOLVED",
    "RESOLUTION_CHOICES",
    "Comparison",
    "Document",
    "Merge",
    "approve",
    "approved_by_other",
    "archive_branch",
    "branch_update_refusals",
    "changes",
    "changes_requested",
    "close_proposal",
    "comment",
    "commit_changes",
    "commit_id_of",
    "compare_commits",
    "compare_working_copy",
    "create_branch",
    "current_approvals",
    "delete_branch",
    "diff",
    "discard_changes",
    "documents_at",
    "dry_run",
    "entity_history",
    "get_branch",
    "grant_edit_branch",
    "has_uncommitted_changes",
    "history",
    "merge_proposal",
    "open_proposal",
    "register_ref_resolver",
    "resolve",
    "resolve_ref",
    "revert_commit",
    "three_way",
    "tree_at",
    "update_branch",
    "update_from_target",
]
