"""Git for JSON documents, without Django: canonical hashing, diff, three-way merge, DAG walks.

Documents are plain dicts (see ``docs/documents.md``); a tree is ``{rid: document}``.
Nothing here copies or hashes a whole tree: costs follow the changed rids.
"""

from .canonical import canonical_bytes, doc_hash, parse
from .diff import EntityChange, FieldChange, TreeDiff, diff_documents, diff_trees
from .graph import CommitNode, is_ancestor, merge_base, merge_bases
from .merge import Conflict, MergedView, MergeResult, merge3
from .policy import MISSING, Policy, Problem, Resolution, Severity

__all__ = [
    "MISSING",
    "CommitNode",
    "Conflict",
    "EntityChange",
    "FieldChange",
    "MergeResult",
    "MergedView",
    "Policy",
    "Problem",
    "Resolution",
    "Severity",
    "TreeDiff",
    "canonical_bytes",
    "diff_documents",
    "diff_trees",
    "doc_hash",
    "is_ancestor",
    "merge3",
    "merge_base",
    "merge_bases",
    "parse",
]
