"""Versioning REST representations (camelCase, as the documents they carry)."""

from __future__ import annotations

from rest_framework import serializers

from oms_site.api import StrictCharField
from oms_site.strict import StrictSerializer

from .. import compat_modes, services
from ..exceptions import VersioningError
from ..models import Branch, Commit, Proposal


class BranchSerializer(serializers.ModelSerializer):
    head = StrictCharField(source="head_id", read_only=True, allow_null=True)
    createdFrom = StrictCharField(source="created_from", read_only=True)
    createdBy = StrictCharField(
        source="created_by.username", read_only=True, default=None, allow_null=True
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    compatibilityMode = serializers.CharField(source="compatibility_mode", read_only=True)

    class Meta:
        model = Branch
        fields = [
            "name",
            "head",
            "protected",
            "archived",
            "compatibilityMode",
            "description",
            "createdFrom",
            "createdBy",
            "createdAt",
            "updatedAt",
        ]


class BranchDetailSerializer(BranchSerializer):
    uncommittedChanges = serializers.IntegerField(source="uncommitted_count", read_only=True)

    class Meta(BranchSerializer.Meta):
        fields = [*BranchSerializer.Meta.fields, "uncommittedChanges"]


class BranchCreateSerializer(StrictSerializer):
    name = StrictCharField(max_length=100)
    description = StrictCharField(required=False, allow_blank=True, default="")
    locals()["from"] = StrictCharField(
        max_length=120, default="main", help_text="Branch, commit id (or prefix ≥ 7) or release."
    )


class BranchUpdateSerializer(StrictSerializer):
    """``PATCH branches/{b}/``: the settings to change; those left out stay as they are."""

    description = StrictCharField(required=False, allow_blank=True, max_length=10000)
    archived = serializers.BooleanField(
        required=False, help_text="Read-only branch (no edits, commits or merges); not main."
    )
    protected = serializers.BooleanField(
        required=False,
        help_text="Changes only by merging a proposal; main stays protected. Needs "
        "versioning.change_branch model-wide.",
    )

    compatibilityMode = StrictCharField(
        source="compatibility_mode",
        required=False,
        help_text="NONE, BACKWARD, FORWARD, FULL or their _TRANSITIVE forms (any case); "
        "checked at merge and release (docs/releases.md). Needs versioning.change_branch "
        "model-wide.",
    )

    def validate_compatibilityMode(self, value):
        try:
            return compat_modes.parse_mode(value).value
        except VersioningError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def unknown_key(self, key: str, writable: list[str]) -> str:
        # refused, not ignored: a rename or a head moved would not happen
        return services.NAME_IS_FIXED if key == "name" else services.NOT_A_SETTING


class CommitSerializer(serializers.ModelSerializer):
    parents = serializers.ListField(source="parent_ids", child=StrictCharField())
    author = StrictCharField(source="author_name")
    createdAt = serializers.DateTimeField(source="created_at")
    branch = StrictCharField(source="branch_name")
    isCheckpoint = serializers.BooleanField(source="is_checkpoint")
    changed = serializers.SerializerMethodField()

    class Meta:
        model = Commit
        fields = [
            "id",
            "parents",
            "author",
            "message",
            "createdAt",
            "generation",
            "branch",
            "isCheckpoint",
            "changed",
        ]

    def get_changed(self, commit: Commit) -> int:
        return len(commit.delta)


class CommitDetailSerializer(CommitSerializer):
    delta = serializers.DictField(
        child=StrictCharField(allow_null=True),
        help_text="rid -> blob hash against the first parent (null = deleted).",
    )

    class Meta(CommitSerializer.Meta):
        fields = [*CommitSerializer.Meta.fields, "delta"]


class CommitPageSerializer(serializers.Serializer):
    results = CommitSerializer(many=True)
    next = StrictCharField(allow_null=True, help_text="Cursor for ?after= (last id).")


class CommitCreateSerializer(StrictSerializer):
    message = StrictCharField(max_length=10000)
    expectedHead = StrictCharField(
        max_length=64,
        required=False,
        allow_null=True,
        default=None,
        help_text="The head you edited from; a different head answers 409.",
    )


class FieldChangeSerializer(serializers.Serializer):
    path = serializers.ListField(child=StrictCharField())
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class EntityChangeSerializer(serializers.Serializer):
    rid = StrictCharField()
    entityKind = StrictCharField()
    apiName = StrictCharField()
    change = serializers.ChoiceField(["added", "removed", "modified", "renamed"])
    oldApiName = StrictCharField(allow_null=True)
    fields = FieldChangeSerializer(many=True)


class DiffSerializer(serializers.Serializer):
    locals()["from"] = StrictCharField(allow_null=True, help_text="Commit id of from.")
    to = StrictCharField(allow_null=True, help_text="Commit id of to.")
    changes = EntityChangeSerializer(many=True)


class ChangesSerializer(serializers.Serializer):
    branch = StrictCharField()
    head = StrictCharField(allow_null=True)
    changes = EntityChangeSerializer(many=True)


class DiscardSerializer(StrictSerializer):
    rids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        allow_null=True,
        allow_empty=False,
        max_length=10000,
        default=None,
        help_text="Entities whose changes to discard; absent or null: every change.",
    )


class DiscardResultSerializer(serializers.Serializer):
    branch = StrictCharField()
    head = StrictCharField(help_text="The commit the entities went back to.")
    discarded = serializers.ListField(
        child=StrictCharField(), help_text="Rids whose changes were discarded."
    )


class DocumentsSerializer(serializers.Serializer):
    ref = StrictCharField()
    commit = StrictCharField(allow_null=True)
    documents = serializers.DictField(child=serializers.JSONField(), help_text="rid -> document")


class DocumentSerializer(serializers.Serializer):
    ref = StrictCharField()
    commit = StrictCharField(allow_null=True)
    document = serializers.JSONField()


class EntityHistorySerializer(serializers.Serializer):
    commit = CommitSerializer()
    change = serializers.ChoiceField(["added", "removed", "modified", "renamed"])
    apiName = StrictCharField()
    oldApiName = StrictCharField(allow_null=True)
    hash = StrictCharField(allow_null=True)


class ResolutionSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(["ours", "theirs", "value"])
    value = serializers.JSONField(required=False, allow_null=True)


class ConflictSerializer(serializers.Serializer):
    id = StrictCharField()
    rid = StrictCharField()
    entityKind = StrictCharField()
    apiName = StrictCharField()
    path = serializers.ListField(child=StrictCharField())
    kind = StrictCharField()
    severity = serializers.ChoiceField(["INFO", "WARN", "ERROR", "BLOCK"])
    base = serializers.JSONField(allow_null=True)
    ours = serializers.JSONField(allow_null=True, help_text="The target's value.")
    theirs = serializers.JSONField(allow_null=True, help_text="The source's value.")
    proposed = ResolutionSerializer(allow_null=True)
    message = StrictCharField()
    resolution = ResolutionSerializer(allow_null=True)
    resolved = serializers.BooleanField()
    remembered = serializers.DictField(
        allow_null=True,
        required=False,
        help_text="Resolved as before (the same path, base, ours and theirs values): "
        "{choice, by, at, note}; a choice stored on the proposal overrides it.",
    )


class DryRunSerializer(serializers.Serializer):
    proposal = serializers.IntegerField()
    status = StrictCharField()
    base = StrictCharField(allow_null=True)
    targetHead = StrictCharField(allow_null=True)
    sourceHead = StrictCharField(allow_null=True)
    upToDate = serializers.BooleanField()
    diff = EntityChangeSerializer(many=True, help_text="What the source changed since the base.")
    mergeChanges = EntityChangeSerializer(
        many=True, help_text="What merging would change on the target."
    )
    conflicts = ConflictSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())
    canMerge = serializers.BooleanField(help_text="No unresolved ERROR and no BLOCK.")
    needsApproval = serializers.BooleanField()
    approvals = serializers.ListField(child=StrictCharField())
    changesRequested = serializers.ListField(
        child=StrictCharField(),
        help_text="Reviewers who requested changes and have not approved since: the merge "
        "waits for them.",
    )
    sourceHasUncommittedChanges = serializers.BooleanField()
    mergeable = serializers.BooleanField(
        help_text="Active, can merge, approved where needed, and no compatibility finding."
    )
    compatibility = serializers.DictField(
        help_text="The merged result against the target's last release under its mode: "
        "branch, mode, release, checkedAgainst, compatibility, counts, changelog (each with "
        "the consumers it touches), findings (BLOCK: mode, rule, release, entity, change, "
        "reason, deprecateIn) and impact (per consumer: owner, contact, pinnedRelease, "
        "changes). See docs/releases.md."
    )
    migrationPlan = serializers.ListField(child=serializers.DictField())
    nextVersion = serializers.CharField(help_text="The version the next release would get.")


class ProposalSerializer(serializers.ModelSerializer):
    source = StrictCharField(source="source_name", read_only=True)
    target = StrictCharField(source="target_name", read_only=True)
    author = StrictCharField(
        source="author.username", read_only=True, default=None, allow_null=True
    )
    reviewers = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    approvals = serializers.SerializerMethodField()
    status = StrictCharField(read_only=True, help_text="open, approved, merged or closed.")
    mergeCommit = StrictCharField(source="merge_commit_id", read_only=True, allow_null=True)
    mergedBy = StrictCharField(
        source="merged_by.username", read_only=True, default=None, allow_null=True
    )
    mergedAt = serializers.DateTimeField(source="merged_at", read_only=True, allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Proposal
        fields = [
            "id",
            "title",
            "description",
            "status",
            "source",
            "target",
            "author",
            "reviewers",
            "approvals",
            "resolutions",
            "mergeCommit",
            "mergedBy",
            "mergedAt",
            "createdAt",
            "updatedAt",
        ]
        read_only_fields = fields

    def get_approvals(self, proposal: Proposal) -> list[str]:
        return [a.user.username for a in proposal.approvals.all()]


class ProposalCreateSerializer(StrictSerializer):
    source = StrictCharField(max_length=100)
    target = StrictCharField(max_length=100, default="main")
    title = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, default="")
    reviewers = serializers.ListField(
        child=StrictCharField(max_length=150), required=False, default=list
    )


class ResolveSerializer(StrictSerializer):
    conflictId = StrictCharField(max_length=2000)
    choice = serializers.ChoiceField(
        ["ours", "theirs", "value"], allow_null=True, help_text="null forgets the choice."
    )
    value = serializers.JSONField(required=False, allow_null=True, default=None)


class ProposalActionSerializer(StrictSerializer):
    action = serializers.ChoiceField(["close"])


class MergeResultSerializer(serializers.Serializer):
    proposal = ProposalSerializer()
    commit = CommitSerializer()


class RevertSerializer(StrictSerializer):
    commit = StrictCharField(max_length=64, help_text="Commit id or prefix to revert.")
    expectedHead = StrictCharField(max_length=64, required=False, allow_null=True, default=None)


class MergeSerializer(StrictSerializer):
    """``POST proposals/{id}/merge/``: an empty body merges; ``override`` goes ahead
    despite compatibility findings."""

    override = serializers.BooleanField(
        default=False,
        help_text="Merge despite the target's compatibility findings (needs "
        "versioning.override_compatibility; recorded on the merge commit and its event).",
    )
