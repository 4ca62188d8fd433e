"""Git for JSON documents: branches, commits, content-addressed blobs.

This module knows nothing about object types. The ontology registers a *workspace*
(see :mod:`versioning.workspace`) that turns a branch's editable rows into documents
keyed by ``rid`` and back.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from events.encryption import EncryptedTextField

from .domain.modes import Mode
from .names import validate_branch_name
from .workspace import domain_route_segments

BRANCH_NAME_CHARS = "[A-Za-z0-9._/-]"
BRANCH_NAME_RE = rf"^[A-Za-z0-9]{BRANCH_NAME_CHARS}{{0,99}}$"
MAIN_BRANCH = "main"
#: versioning's own path segments of the REST routes under ``branches/<name>/``; the
#: domain registers its own (:func:`versioning.workspace.register`)
OWN_SEGMENTS = frozenset({"commits", "changes", "entities", "revert", "documents"})


def reserved_segments() -> frozenset[str]:
    """Path segments of the REST routes under ``branches/<name>/``: a branch name
    containing one of them as a segment could not be routed."""
    return OWN_SEGMENTS | domain_route_segments()


def validate_branch_segments(name: str) -> None:
    """The branch-name grammar of :mod:`versioning.names`, with the API's route segments
    (the field's validator under the name its migrations know)."""
    validate_branch_name(name, reserved_segments())


class Blob(models.Model):
    """One canonical JSON document, identified by the SHA-256 of its canonical bytes and
    stored as those bytes compressed with zlib (``versioning.store.blobs`` reads them back).

    ``kind`` and ``api_name`` are copied out of the document so that the names of a whole
    tree are read without transferring or decoding any document."""

    hash = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=40, blank=True)
    api_name = models.TextField(null=True, blank=True)
    data = models.BinaryField(help_text="zlib-compressed canonical JSON bytes.")
    size = models.PositiveIntegerField(default=0, help_text="Canonical bytes, uncompressed.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind}:{self.hash[:12]}"


class Commit(models.Model):
    """An immutable commit. ``delta`` maps ``rid -> blob hash`` (``None`` = deleted)
    against the first parent. A checkpoint also stores its full tree as
    :class:`TreeEntry` rows; ``depth`` counts the commits since the last checkpoint on the
    first-parent line, so reading any tree walks at most ``CHECKPOINT_EVERY`` deltas."""

    id = models.CharField(max_length=64, primary_key=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    merge_parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merge_children"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    author_name = models.CharField(max_length=150, blank=True)
    message = models.TextField()
    created_at = models.DateTimeField()
    generation = models.PositiveIntegerField()
    delta = models.JSONField(default=dict)
    is_checkpoint = models.BooleanField(default=False)
    depth = models.PositiveIntegerField(
        default=0, help_text="Commits since the last checkpoint on the first-parent line."
    )
    branch_name = models.CharField(max_length=100, blank=True, help_text="Branch it was made on.")

    class Meta:
        ordering = ["-generation", "-created_at"]
        indexes = [models.Index(fields=["branch_name", "-generation"])]

    def __str__(self) -> str:
        return f"{self.id[:12]} {self.message.splitlines()[0][:60] if self.message else ''}"

    @property
    def parent_ids(self) -> list[str]:
        return [p for p in (self.parent_id, self.merge_parent_id) if p]

    @property
    def parents(self) -> list[str]:
        """Parent ids, first parent first (what ``versioning.domain.graph`` walks)."""
        return self.parent_ids


class TreeEntry(models.Model):
    """One ``rid -> blob hash`` of a checkpoint commit's full tree.

    Only checkpoints have entries; any other commit's tree is its checkpoint's entries
    overlaid with at most ``CHECKPOINT_EVERY`` deltas. Looking up a few rids is one
    indexed query, whatever the size of the ontology.
    """

    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="entries")
    rid = models.UUIDField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commit", "rid"], name="uniq_tree_entry")]
        indexes = [models.Index(fields=["hash"], name="tree_entry_hash")]

    def __str__(self) -> str:
        return f"{self.commit_id[:12]}:{self.rid}"


CompatibilityMode = models.TextChoices(
    "CompatibilityMode",
    [(m.name, (m.value, m.value.replace("_", " ").capitalize())) for m in Mode],
)


class Branch(models.Model):
    """A movable ref. Ontology rows (the working copy) belong to a branch."""

    name = models.CharField(
        max_length=100,
        unique=True,
        validators=[
            RegexValidator(
                BRANCH_NAME_RE,
                "Branch names use letters, digits, '.', '_', '-' and '/', starting with a "
                "letter or digit (at most 100 characters).",
            ),
            validate_branch_segments,
        ],
    )
    head = models.ForeignKey(
        Commit, null=True, blank=True, on_delete=models.PROTECT, related_name="heads"
    )
    protected = models.BooleanField(
        default=False, help_text="Protected branches change only by merging a proposal."
    )
    archived = models.BooleanField(default=False)
    compatibility_mode = models.CharField(
        max_length=24,
        choices=CompatibilityMode.choices,
        default=CompatibilityMode.NONE,
        help_text="Checked when a proposal merges into the branch and when a release is "
        "published from it (docs/releases.md).",
    )
    description = models.TextField(blank=True)
    created_from = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "branches"
        permissions = [
            ("edit_branch", "Can edit the ontology on this branch"),
            ("merge_branch", "Can merge proposals into this branch"),
            ("release_branch", "Can publish releases from this protected branch"),
            (
                "override_compatibility",
                "Can merge into or release from this branch despite compatibility findings",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WorkingChange(models.Model):
    """The dirty set of a branch: rids whose rows changed since the branch head.

    The ontology's services mark rows here in the same transaction as the change, so a
    commit reads only the changed documents, never the whole ontology.
    """

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="working_changes")
    rid = models.UUIDField()
    kind = models.CharField(max_length=40)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["branch", "rid"], name="uniq_working_change")
        ]

    def __str__(self) -> str:
        return f"{self.branch_id}:{self.kind}:{self.rid}"


class ProposalStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    MERGED = "merged", "Merged"
    CLOSED = "closed", "Closed"


class Proposal(models.Model):
    """A merge request: bring ``source``'s commits into ``target``.

    ``resolutions`` maps a conflict id of the dry run to the steward's choice:
    ``{"choice": "ours"|"theirs"|"value", "value": ..., "by": username, "at": iso time}``
    where *ours* is the target's side and *theirs* the source's.
    """

    ACTIVE = (ProposalStatus.OPEN, ProposalStatus.APPROVED)

    source = models.ForeignKey(
        Branch, null=True, on_delete=models.SET_NULL, related_name="outgoing_proposals"
    )
    target = models.ForeignKey(
        Branch, null=True, on_delete=models.SET_NULL, related_name="incoming_proposals"
    )
    source_name = models.CharField(max_length=100)
    target_name = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="proposals_to_review"
    )
    resolutions = models.JSONField(default=dict, blank=True)
    merge_commit = models.ForeignKey(
        Commit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "target"])]
        permissions = [("approve_proposal", "Can approve proposals")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title} ({self.source_name} → {self.target_name})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class Approval(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="approvals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    source_head = models.CharField(
        max_length=64,
        blank=True,
        help_text="The source head approved: commits pushed after it need a new approval.",
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="uniq_approval")]

    def __str__(self) -> str:
        return f"{self.user} approved #{self.proposal_id}"


class ProposalComment(models.Model):
    """One message of a proposal's discussion. ``requests_changes``: a reviewer's verdict
    that the proposal needs changes; it holds the merge until that reviewer approves."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    body = models.TextField()
    requests_changes = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.author_name} on #{self.proposal_id}"


class CompatibilityClass(models.TextChoices):
    COMPATIBLE = "COMPATIBLE", "Compatible"
    BACKWARD_COMPATIBLE = "BACKWARD_COMPATIBLE", "Backward compatible"
    MIGRATION_REQUIRED = "MIGRATION_REQUIRED", "Migration required"
    INCOMPATIBLE = "INCOMPATIBLE", "Incompatible"


class ReleaseImmutableError(Exception):
    """A published release never changes (a new version is a new release)."""


class Release(models.Model):
    """A SemVer tag of a commit of a protected branch, with its classified changelog and
    migration plan since the previous release of that branch. Immutable once published:
    written only by :func:`versioning.releases.publish_release`."""

    version = models.CharField(max_length=100, unique=True, help_text="SemVer, e.g. 1.2.0.")
    commit = models.ForeignKey(Commit, on_delete=models.PROTECT, related_name="releases")
    branch_name = models.CharField(max_length=100, help_text="Branch it was cut from.")
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()
    compatibility = models.CharField(
        max_length=20,
        choices=CompatibilityClass.choices,
        help_text="The worst class of its changes since the previous release.",
    )
    counts = models.JSONField(
        default=dict, blank=True, help_text="Number of changes per compatibility class."
    )
    changelog = models.JSONField(default=list, blank=True)
    migration_plan = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["branch_name", "-created_at"])]

    def __str__(self) -> str:
        return self.version

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ReleaseImmutableError(f"Release {self.version} is published and immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ReleaseImmutableError(f"Release {self.version} is published and immutable.")


API_NAME_PATH_RE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class Consumer(models.Model):
    """A system built on the ontology: who owns it, which release it pins and what it
    reads (entity api names ``Flight`` or property paths ``Flight.flightNumber``), so a
    dry run and a release preview can say whom a breaking change touches."""

    name = models.CharField(max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = EncryptedTextField(
        blank=True, help_text="E-mail, channel, pager (encrypted at rest; at most 200 characters)."
    )
    pinned_release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.PROTECT, related_name="consumers"
    )
    reads = models.JSONField(
        default=list, blank=True, help_text="Entity api names or property paths it reads."
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.contact:
            from .protection import protect

            protect([self.contact])  # so that its token (events, masked reads) resolves
        super().save(*args, **kwargs)


class RememberedResolution(models.Model):
    """A conflict resolved once: the same conflict (path, base, ours and theirs values, in
    a proposal's orientation: ours = target) is resolved the same way when it comes back."""

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the conflict.")
    conflict_id = models.TextField()
    choice = models.CharField(max_length=10)
    value = models.JSONField(null=True, blank=True)
    by_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField()
    proposal_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.conflict_id}: {self.choice}"


class ProtectedValue(models.Model):
    """A value kept out of every other table in clear (:mod:`versioning.protection`):
    rows, documents and events hold its token ``pii:<digest>``; the value is here,
    encrypted (``manage.py rotate_keys`` re-encrypts it with the first key)."""

    digest = models.CharField(max_length=64, primary_key=True, help_text="HMAC-SHA256, hex.")
    value = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()
        permissions = [("view_pii", "Can see PII example values and owner contacts in clear")]

    def __str__(self) -> str:
        return f"pii:{self.digest}"
