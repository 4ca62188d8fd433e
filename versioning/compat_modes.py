"""Compatibility modes enforced at merge and release, and the report a dry run shows.

A branch's ``compatibility_mode`` (:class:`~versioning.domain.modes.Mode`) is checked

- when a proposal merges into it (:func:`check_merge`): the merged result against the
  branch's last release (every earlier release for a transitive mode), for the places
  the merge changes; a violation the target already had before the merge is not the
  proposal's and is not reported again;
- when a release is published from it (:func:`check_release`): everything since the
  previous release.

The domain's rules (what a direction allows, the deprecation gate) are registered by the
ontology (:func:`versioning.workspace.get_compatibility`); each violation becomes a BLOCK
:class:`~versioning.domain.modes.Finding`. :func:`enforce` refuses them (409) unless the
caller overrides, which needs ``override_compatibility`` on the branch (403) and is
recorded (:func:`override_trailer` on the merge commit, the record in the event).
NONE checks no direction; the deprecation gate holds on every protected branch, whatever
its mode (a removal needs an earlier release that deprecated it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import consumers, permissions, store
from .domain.compatibility import (
    ClassifiedChange,
    Compatibility,
    bump_for,
    counts,
    migration_plan,
    next_version,
    worst,
)
from .domain.modes import Finding, Mode, Violation
from .exceptions import VersioningError
from .models import Branch, Release
from .workspace import get_compatibility

Document = dict[str, Any]


class CompatibilityError(VersioningError):
    """Changes the branch's compatibility mode refuses (409); carries the findings."""

    http_status = 409
    code = "compatibility"

    def __init__(self, message: str, findings: list[dict[str, Any]]):
        super().__init__(message, extra={"findings": findings})
        self.findings = findings


def mode_of(branch: Branch) -> Mode:
    return Mode(branch.compatibility_mode or Mode.NONE)


def parse_mode(value: Any, *, field: str = "compatibilityMode") -> Mode:
    try:
        return Mode(str(value).strip().upper())
    except ValueError:
        raise VersioningError(
            f"'{value}' is not a compatibility mode (one of {', '.join(Mode)}).", field=field
        ) from None


def releases_of(branch_name: str) -> list[Release]:
    """The branch's releases, oldest first."""
    return list(Release.objects.filter(branch_name=branch_name).order_by("created_at", "id"))


def _next(last: Release | None, changes: Iterable[ClassifiedChange]) -> str:
    from .releases import parse_version

    previous = parse_version(last.version) if last else None
    return str(
        next_version(previous, bump_for(worst(changes) or Compatibility.COMPATIBLE, previous))
    )


@dataclass
class Report:
    """The compatibility of a result against a branch's last release under its mode."""

    branch: str
    mode: Mode
    release: Release | None
    changes: list[ClassifiedChange]
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def next_version(self) -> str:
        return _next(self.release, self.changes)

    def impact(self) -> list[dict[str, Any]]:
        return consumers.impact(self.changes)

    def to_dict(self) -> dict[str, Any]:
        touched = self.impact()
        changelog = [c.to_dict() for c in self.changes]
        consumers.annotate(changelog, touched)
        return {
            "branch": self.branch,
            "mode": self.mode.value,
            "release": self.release.version if self.release else None,
            "checkedAgainst": self.checked,
            "compatibility": (worst(self.changes) or Compatibility.COMPATIBLE).value,
            "counts": counts(self.changes),
            "changelog": changelog,
            "findings": [f.to_dict() for f in self.findings],
            "impact": touched,
        }

    def plan(self) -> list[dict[str, Any]]:
        return migration_plan(self.changes)


def _findings(
    mode: Mode,
    history: list[Release],
    last_view: store.TreeView,
    result: Mapping[str, Document],
    names: Mapping[str, str],
    *,
    rids: list[str],
    gate: bool,
    last_changes: list[ClassifiedChange],
    before_result: Mapping[str, Document] | None = None,
    upcoming: list[ClassifiedChange] | None = None,
) -> tuple[list[Finding], list[str]]:
    """Violations of ``result`` (the documents of ``rids`` checked) against the releases
    the mode names, newest first; with ``before_result`` (the target before a merge),
    those it already had are left out. Each violation is reported once, against the
    newest release it breaks; an earlier release is classified only for the rids whose
    document differs from every newer one's (20 releases that changed a few entities
    each cost little more than one). The deprecation gate runs against the last release;
    the release it names to deprecate in is the one ``upcoming`` (every change since the
    last release, the branch's own included; default ``last_changes``) would make without
    the refused removals."""
    rules = get_compatibility()
    last = history[-1]
    against = list(reversed(history if mode.transitive else [last]))
    views = [last_view]
    views.extend(store.TreeView(r.commit_id, last_view.cache) for r in against[1:])
    store.prefetch_trees(views, rids)
    seen: dict[str, set[str | None]] = {rid: set() for rid in rids}
    found_keys: set[tuple[str, tuple[str, ...], str, str]] = set()
    out: list[Finding] = []
    for release, view in zip(against, views, strict=True):
        is_last = release is last
        differing = [rid for rid in rids if view.hash_of(rid) not in seen[rid]]
        for rid in differing:
            seen[rid].add(view.hash_of(rid))
        if not differing:
            continue
        docs = {r: d for r in differing if (d := view.get(r)) is not None}
        after = {r: result[r] for r in differing if r in result}
        options = {
            "backward": mode.backward,
            "forward": mode.forward,
            "deprecation": gate and is_last,
        }
        changes = last_changes if is_last else None
        found = rules.violations(docs, after, names, changes=changes, **options)
        if found and before_result is not None:
            before = {r: before_result[r] for r in differing if r in before_result}
            had = {_key(v) for v in rules.violations(docs, before, names, **options)}
            found = [v for v in found if _key(v) not in had]
        for violation in found:
            if _key(violation) not in found_keys:
                found_keys.add(_key(violation))
                out.append(Finding(mode, release.version, violation))
    removals = [f for f in out if f.violation.rule == "deprecation"]
    if removals:
        refused = {f.key[:3] for f in removals}
        pending = last_changes if upcoming is None else upcoming
        rest = [c for c in pending if (c.rid, c.path, c.kind) not in refused]
        version = _next(last, rest)
        out = [
            Finding(f.mode, f.release, f.violation, version)
            if f.violation.rule == "deprecation"
            else f
            for f in out
        ]
    return out, [r.version for r in against]


def _view(commit: str, cache: store.BlobCache, known: Iterable[Any] = ()) -> store.TreeView:
    """A tree view of ``commit`` sharing ``cache`` (a merge's: the blobs it already
    decoded are not read again); one of ``known`` when it is of that commit."""
    found = next((t for t in known if t.commit_id == commit), None)
    return found if found is not None else store.TreeView(commit, cache)


def _key(v: Violation) -> tuple[str, tuple[str, ...], str, str]:
    return (v.change.rid, v.change.path, v.change.kind, v.rule)


def check_merge(target: Branch, merge: Any) -> Report:
    """The merged result of ``merge`` (:class:`versioning.services.Merge`) into ``target``
    against its last release and mode."""
    from .releases import _Names

    mode = mode_of(target)
    history = releases_of(target.name)
    rules = get_compatibility()
    touched = set(merge.result.tree_changes)
    view = merge.result.view
    if not history:
        head = {r: d for r in touched if (d := merge.ours_tree.get(r)) is not None}
        merged = {r: d for r in touched if (d := view.get(r)) is not None}
        names = _Names(merge.ours, merge.theirs)
        return Report(target.name, mode, None, rules.classify(head, merged, names))
    last = history[-1]
    since = (
        store.changed_rids(store.Graph(), last.commit_id, merge.ours)
        if last.commit_id != merge.ours
        else set()
    )
    rids = sorted(touched | since)
    merge.ours_tree.prefetch(since - touched)
    trees = (merge.base_tree, merge.ours_tree, merge.theirs_tree)
    last_view = _view(last.commit_id, merge.ours_tree.cache, trees)
    last_view.prefetch(rids)
    last_docs = {r: d for r in rids if (d := last_view.get(r)) is not None}
    result = {r: d for r in rids if (d := view.get(r)) is not None}
    names = _Names(last.commit_id, merge.ours, merge.theirs)
    changes = rules.classify(last_docs, result, names)
    report = Report(target.name, mode, last, changes, checked=[])
    if (mode.checks or target.protected) and touched:
        mine = sorted(touched)
        head = {r: d for r in mine if (d := merge.ours_tree.get(r)) is not None}
        report.findings, report.checked = _findings(
            mode,
            history,
            last_view,
            {r: result[r] for r in mine if r in result},
            names,
            rids=mine,
            gate=target.protected,
            last_changes=[c for c in changes if c.rid in touched],
            before_result=head,
            upcoming=changes,
        )
    return report


def check_release(
    branch: Branch,
    previous: Release | None,
    target: str,
    changes: list[ClassifiedChange],
) -> list[Finding]:
    """The findings of publishing ``target`` (changes since ``previous``) from ``branch``."""
    from .releases import _Names

    mode = mode_of(branch)
    if not (mode.checks or branch.protected) or previous is None or not changes:
        return []
    history = releases_of(branch.name)
    rids = sorted({c.rid for c in changes})
    cache = store.BlobCache()
    result = _view(target, cache)
    result.prefetch(rids)
    findings, _ = _findings(
        mode,
        history,
        _view(previous.commit_id, cache),
        {r: d for r in rids if (d := result.get(r)) is not None},
        _Names(previous.commit_id, target),
        rids=rids,
        gate=branch.protected,
        last_changes=changes,
    )
    return findings


def enforce(
    branch: Branch, findings: list[Finding], user: Any, *, override: bool, action: str
) -> dict[str, Any] | None:
    """Refuse the findings (409), or with ``override`` let an allowed user (403 otherwise)
    go on; returns the override record (``None``: nothing to override)."""
    if not findings:
        return None
    shown = [f.to_dict() for f in findings]
    if not override:
        raise CompatibilityError(
            f"{len(findings)} change(s) break the compatibility rules of '{branch.name}' "
            f"(mode {mode_of(branch).value}, deprecation lifecycle): fix them, or {action} "
            "with override_compatibility.",
            shown,
        )
    permissions.check(permissions.override_compatibility_refusal, user, branch)
    return {
        "by": getattr(user, "username", None) or None,
        "mode": mode_of(branch).value,
        "findings": shown[:100],
        "count": len(shown),
    }


def override_trailer(record: dict[str, Any]) -> str:
    """The lines a merge commit's message records an override with."""
    lines = [
        f"Compatibility-Override: {record['mode']} by {record['by'] or 'system'} "
        f"({record['count']} finding(s))"
    ]
    lines.extend(f"Compatibility-Finding: {f['message']}" for f in record["findings"])
    return "\n".join(lines)


def dry_run_sections(target: Branch, merge: Any) -> tuple[Report, dict[str, Any]]:
    """What a proposal's dry run adds: the compatibility report of the merged result
    against the target's last release and mode (with the consumers each breaking change
    touches), the migration plan and the version the next release would get."""
    report = check_merge(target, merge)
    return report, {
        "compatibility": report.to_dict(),
        "migrationPlan": report.plan(),
        "nextVersion": report.next_version,
    }
