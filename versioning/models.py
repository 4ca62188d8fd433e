"""Git for JSON documents: branches, commits, content-addressed blobs.

This module knows nothing about object types. The ontology registers a *workspace*
(see :mod:`versioning.workspace`) that turns a branch's editable rows into documents
keyed by ``rid`` and back.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

BRANCH_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$"
MAIN_BRANCH = "main"


class Blob(models.Model):
    """One canonical JSON document, identified by the SHA-256 of its canonical bytes."""

    hash = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=40, blank=True)
    document = models.JSONField()
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind}:{self.hash[:12]}"


class Commit(models.Model):
    """An immutable commit. ``delta`` maps ``rid -> blob hash`` (``None`` = deleted)
    against the first parent; a checkpoint also stores the full ``tree``."""

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
    tree = models.JSONField(null=True, blank=True)
    is_checkpoint = models.BooleanField(default=False)
    branch_name = models.CharField(max_length=100, blank=True, help_text="Branch it was made on.")

    class Meta:
        ordering = ["-generation", "-created_at"]
        indexes = [models.Index(fields=["branch_name", "-generation"])]

    def __str__(self) -> str:
        return f"{self.id[:12]} {self.message.splitlines()[0][:60] if self.message else ''}"

    @property
    def parent_ids(self) -> list[str]:
        return [p for p in (self.parent_id, self.merge_parent_id) if p]


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
            )
        ],
    )
    head = models.ForeignKey(
        Commit, null=True, blank=True, on_delete=models.PROTECT, related_name="heads"
    )
    protected = models.BooleanField(
        default=False, help_text="Protected branches change only by merging a proposal."
    )
    archived = models.BooleanField(default=False)
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
