"""Releases: SemVer tags of commits of protected branches, with their classified changes.

- :func:`preview` compares any two refs with the registered compatibility classifier:
  the worst class, the bump it calls for, the suggested next version, the changelog and
  the migration plan. Stewards see it before publishing; consumers call it (through
  ``GET /api/v1/compatibility/``) before they deploy.
- :func:`publish_release` writes an immutable :class:`~versioning.models.Release` and its
  event in one transaction, under the branch's row lock.
- :func:`release_commit` names a release's commit wherever a ref is accepted (registered
  with :func:`versioning.services.register_ref_resolver`), and :func:`released_commits`
  keeps those commits from compaction (:func:`versioning.compaction.register_keeper`).

Versioning knows nothing about object types: the ontology registers the classifier
(``classify(before, after, names) -> [ClassifiedChange]``) with :func:`register_classifier`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import semver
from django.db import IntegrityError, transaction
from django.utils import timezone

import events

from . import compat_modes, consumers, permissions, services, store
from .domain.compatibility import (
    ClassifiedChange,
    Compatibility,
    bump_for,
    counts,
    migration_plan,
    next_version,
    worst,
)
from .domain.graph import is_ancestor
from .exceptions import DuplicateNameError, InvalidStateError, UnknownRefError, VersioningError
from .models import Branch, Release
from .writing import lock_branch

Document = dict[str, Any]
Classifier = Callable[
    [Mapping[str, Document], Mapping[str, Document], Mapping[str, str]], list[ClassifiedChange]
]

RELEASE_PUBLISHED = f"{services.EVENT_PREFIX}.release.published.v1"


class DuplicateReleaseError(DuplicateNameError):
    """The version is taken, or the commit is already released (409)."""


_registry: dict[str, Classifier] = {}


def register_classifier(fn: Classifier) -> None:
    """The domain's compatibility classifier (the ontology registers its own)."""
    _registry["classifier"] = fn


def get_classifier() -> Classifier:
    try:
        return _registry["classifier"]
    except KeyError:
        raise RuntimeError("No compatibility classifier is registered with versioning.") from None


# --- versions and refs -----------------------------------------------------------------------


def parse_version(text: Any, *, field: str = "version") -> semver.Version:
    """A SemVer ``MAJOR.MINOR.PATCH[-pre-release]``, with or without a leading ``v``."""
    raw = str(text or "").strip()
    plain = raw[1:] if raw[:1] in ("v", "V") else raw
    try:
        version = semver.Version.parse(plain)
    except (ValueError, TypeError):
        raise VersioningError(
            f"'{raw}' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0).", field=field
        ) from None
    if len(str(version)) > Release._meta.get_field("version").max_length:
        raise VersioningError("A version has at most 100 characters.", field=field)
    if version.build:
        raise VersioningError(
            "Build metadata ('+...') does not order versions: leave it out.", field=field
        )
    return version


def _as_version(ref: str) -> str | None:
    plain = ref[1:] if ref[:1] in ("v", "V") else ref
    return plain if semver.Version.is_valid(plain) else None


def release_commit(ref: str) -> str | None:
    """The commit of the release ``ref`` names (``1.2.0`` or ``v1.2.0``), else ``None``."""
    version = _as_version(str(ref).strip())
    if version is None:
        return None
    return Release.objects.filter(version=version).values_list("commit_id", flat=True).first()


def released_commits() -> Iterable[str]:
    """Commits that compaction must keep."""
    return Release.objects.values_list("commit_id", flat=True)


def get_release(version: str) -> Release:
    found = _as_version(str(version).strip())
    release = (
        Release.objects.select_related("previous", "author").filter(version=found).first()
        if found
        else None
    )
    if release is None:
        raise UnknownRefError(f"No release '{version}'.", field="version")
    return release


def latest_release(branch_name: str) -> Release | None:
    return Release.objects.filter(branch_name=branch_name).order_by("-created_at", "-id").first()


# --- comparing two commits -------------------------------------------------------------------


class _Names(Mapping[str, str]):
    """``rid -> apiName`` at two commits (the later wins), read only if a message needs a
    referenced entity's name; the database extracts the two fields of each document."""

    def __init__(self, *commits: str | None) -> None:
        self._commits = [c for c in commits if c]
        self._names: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._names is None:
            self._names = {}
            for commit in self._commits:
                names = store.TreeView(commit).names().items()
                self._names.update((rid, name) for rid, (_, name) in names if name)
        return self._names

    def document(self, rid: str) -> Document | None:
        """The document of ``rid`` at the latest of the commits that has it (the classifier
        reads an unchanged neighbour this way, e.g. whether a link's old end implements
        its new interface end)."""
        for commit in reversed(self._commits):
            found = store.TreeView(commit).get(rid)
            if found is not None:
                return found
        return None

    def __getitem__(self, rid: str) -> str:
        return self._load()[rid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def classify_commits(before: str | None, after: str | None) -> list[ClassifiedChange]:
    """The classified changes from commit ``before`` to ``after`` (``None`` = empty), reading
    only the documents of the rids their histories changed."""
    if before == after:
        return []
    if before is None:
        old: dict[str, Document] = {}
        new = store.documents_at(after)
    else:
        rids = list(store.changed_rids(store.Graph(), before, after))
        old, new = store.documents_at(before, rids), store.documents_at(after, rids)
    return get_classifier()(old, new, _Names(before, after))


@dataclass
class Preview:
    """What changed from ``since`` to ``ref`` and what it means for a release."""

    ref: str
    commit: str | None
    since: str | None
    since_commit: str | None
    base: Release | None
    changes: list[ClassifiedChange]

    @property
    def compatibility(self) -> Compatibility:
        return worst(self.changes) or Compatibility.COMPATIBLE

    @property
    def bump(self) -> str | None:
        previous = parse_version(self.base.version) if self.base else None
        return bump_for(worst(self.changes), previous)

    @property
    def suggested_version(self) -> str | None:
        """The next version after ``base`` (1.0.0 without one), or ``None`` when comparing
        with a ref that is no release."""
        if self.base is None and self.since_commit is not None:
            return None
        previous = parse_version(self.base.version) if self.base else None
        return str(next_version(previous, self.bump))

    def plan(self) -> list[dict[str, Any]]:
        return migration_plan(self.changes)

    def to_dict(self) -> dict[str, Any]:
        touched = consumers.impact(self.changes)
        changelog = [c.to_dict() for c in self.changes]
        consumers.annotate(changelog, touched)
        return {
            "from": self.since,
            "fromCommit": self.since_commit,
            "fromVersion": self.base.version if self.base else None,
            "to": self.ref,
            "toCommit": self.commit,
            "compatibility": self.compatibility.value,
            "bump": self.bump,
            "suggestedVersion": self.suggested_version,
            "counts": counts(self.changes),
            "changelog": changelog,
            "migrationPlan": self.plan(),
            "impact": touched,
        }


def preview(ref: str, since: str | None = None) -> Preview:
    """Compare ``since`` with ``ref`` (any refs: branch, commit, release).

    Without ``since``: the latest release of the branch ``ref`` names (everything, from an
    empty ontology, when there is none or ``ref`` is no branch)."""
    commit = services.commit_id_of(ref)
    if since is None:
        base = latest_release(ref) if Branch.objects.filter(name=ref).exists() else None
        since_commit = base.commit_id if base else None
        shown = base.version if base else None
    else:
        since_commit = services.commit_id_of(since)
        version = _as_version(since.strip())
        base = Release.objects.filter(version=version).first() if version else None
        shown = since
    return Preview(ref, commit, shown, since_commit, base, classify_commits(since_commit, commit))


# --- publishing ------------------------------------------------------------------------------


def publish_release(
    branch: Branch | str,
    user: Any,
    *,
    version: str | None = None,
    commit: str | None = None,
    notes: str = "",
    override: bool = False,
) -> Release:
    """Tag a commit of a protected branch (its head by default) with the next SemVer.

    The bump is the worst class of the changes since the branch's previous release
    (INCOMPATIBLE / MIGRATION_REQUIRED -> major, BACKWARD_COMPATIBLE -> minor, COMPATIBLE
    -> patch; below 1.0.0: minor / patch). A steward's ``version`` may be higher than that,
    never lower, and must be above the previous one; the first release is 1.0.0 unless
    the steward names another. One transaction under the branch's row lock: two publishes
    at once serialise, and the second finds the commit released or the version taken (409).
    An acting ``user`` needs ``release_branch`` on the branch (403); ``None`` is a system
    publish. The branch's compatibility mode is enforced (``compat_modes``): findings are
    refused (409 ``compatibility``) unless ``override`` and ``override_compatibility``.
    Each registered consumer a breaking change touches gets a ``consumer.broken.v1`` event.
    """
    with transaction.atomic():
        locked = lock_branch(branch)
        permissions.check(permissions.release_refusal, user, locked)
        if not locked.protected or locked.archived:
            raise InvalidStateError(
                f"Branch '{locked.name}' is not a protected, active branch: releases are cut "
                "from protected branches (merge your changes into one).",
                field="branch",
            )
        target = _target_commit(locked, commit)
        previous = latest_release(locked.name)
        graph = store.Graph()
        if previous is not None:
            if previous.commit_id == target:
                raise DuplicateReleaseError(
                    f"Commit {target[:12]} is already released as {previous.version}.",
                    field="commit",
                    extra={"release": previous.version},
                )
            if not is_ancestor(previous.commit_id, target, graph):
                raise InvalidStateError(
                    f"Commit {target[:12]} does not contain the previous release "
                    f"{previous.version}: release a later commit.",
                    field="commit",
                )
        changes = classify_commits(previous.commit_id if previous else None, target)
        findings = compat_modes.check_release(locked, previous, target, changes)
        overridden = compat_modes.enforce(
            locked, findings, user, override=override, action="publish"
        )
        chosen = _choose_version(previous, changes, version)
        try:
            with transaction.atomic():
                release = Release.objects.create(
                    version=str(chosen),
                    commit_id=target,
                    branch_name=locked.name,
                    previous=previous,
                    author=user,
                    author_name=getattr(user, "username", "") or "",
                    created_at=timezone.now(),
                    compatibility=(worst(changes) or Compatibility.COMPATIBLE).value,
                    counts=counts(changes),
                    changelog=[c.to_dict() for c in changes],
                    migration_plan=migration_plan(changes),
                    notes=(notes or "").strip(),
                )
        except IntegrityError:
            raise _taken(chosen) from None
        touched = consumers.impact(changes)
        extra: dict[str, Any] = {}
        if touched:
            extra["brokenConsumers"] = [t["consumer"] for t in touched]
        if overridden:
            extra["compatibilityOverride"] = overridden
        events.publish(
            RELEASE_PUBLISHED,
            f"releases/{release.version}",
            {
                "version": release.version,
                "branch": locked.name,
                "commit": target,
                "previousVersion": previous.version if previous else None,
                "compatibility": release.compatibility,
                "counts": release.counts,
                "migrationSteps": len(release.migration_plan),
                "author": release.author_name or None,
                **extra,
            },
            branch=locked.name,
            commit=target,
        )
        consumers.publish_broken(release, touched)
    return release


def _target_commit(branch: Branch, commit: str | None) -> str:
    if branch.head_id is None:
        raise InvalidStateError(f"Branch '{branch.name}' has no commits to release.")
    if commit in (None, ""):
        if services.has_uncommitted_changes(branch):
            raise InvalidStateError(
                f"Branch '{branch.name}' has uncommitted changes: a release names a commit; "
                "commit them or name the commit to release.",
                field="commit",
            )
        return branch.head_id
    target = services.commit_id_of(commit)
    if target is None or not is_ancestor(target, branch.head_id, store.Graph()):
        raise InvalidStateError(
            f"'{commit}' is not a commit of branch '{branch.name}'.", field="commit"
        )
    return target


def _choose_version(
    previous: Release | None, changes: list[ClassifiedChange], wanted: str | None
) -> semver.Version:
    last = parse_version(previous.version) if previous else None
    bump = bump_for(worst(changes) or Compatibility.COMPATIBLE, last)
    required = next_version(last, bump)
    version = required if wanted in (None, "") else parse_version(wanted)
    if Release.objects.filter(version=str(version)).exists():
        raise _taken(version)
    if version is required:
        return version
    if last is not None and version <= last:
        raise VersioningError(
            f"{version} is not above the previous release {last} of this branch.",
            field="version",
        )
    # a pre-release of the required version (2.0.0-rc.1 for 2.0.0) makes the bump too
    if last is not None and version.finalize_version() < required:
        raise VersioningError(
            f"The changes since {last} are {worst(changes) or Compatibility.COMPATIBLE}: "
            f"they need a {bump} bump, at least {required}.",
            field="version",
        )
    return version


def _taken(version: semver.Version) -> DuplicateReleaseError:
    return DuplicateReleaseError(f"Version {version} is already released.", field="version")
