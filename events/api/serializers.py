from __future__ import annotations

from rest_framework import serializers

MAX_LIMIT = 1000


class FeedQuerySerializer(serializers.Serializer):
    after = serializers.RegexField(
        r"^\d{1,18}$",
        required=False,
        help_text="Cursor: the `next` value of the previous page (omit to start at the beginning).",
        error_messages={"invalid": "Not a valid cursor: use the `next` value of a previous page."},
    )
    type = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        help_text="Only these event types (repeat or comma-separate). Older versions that "
        "upcast to a requested type are included.",
    )
    subject = serializers.CharField(
        required=False,
        max_length=512,
        help_text="Only this subject; a trailing `*` matches a prefix (`branches/main/*`).",
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=100)


class CloudEventSerializer(serializers.Serializer):
    """A CloudEvents 1.0 event in structured JSON mode."""

    specversion = serializers.CharField()
    id = serializers.UUIDField()
    source = serializers.CharField()
    type = serializers.CharField()
    subject = serializers.CharField()
    time = serializers.DateTimeField()
    datacontenttype = serializers.CharField()
    dataschema = serializers.URLField(required=False)
    branch = serializers.CharField(required=False, help_text="Extension: the branch changed.")
    commit = serializers.CharField(required=False, help_text="Extension: the commit, if any.")
    sequence = serializers.CharField(help_text="Extension: the change-feed position.")
    data = serializers.JSONField()


class FeedPageSerializer(serializers.Serializer):
    events = CloudEventSerializer(many=True)
    next = serializers.CharField(help_text="Pass as `after` to read the following events.")
    hasMore = serializers.BooleanField(help_text="More events are available right now.")


class EventTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    area = serializers.CharField()
    description = serializers.CharField()
    dataschema = serializers.URLField()


class EventTypeListSerializer(serializers.Serializer):
    types = EventTypeSerializer(many=True)
