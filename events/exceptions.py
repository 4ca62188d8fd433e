"""Errors of the events app. ``http_status`` lets the API render them without DRF here."""

from __future__ import annotations


class EventsError(Exception):
    http_status = 400
    code = "invalid"


class InvalidEvent(EventsError, ValueError):
    """publish() was called with a type, subject or data that cannot make an event."""


class EventTooLarge(InvalidEvent):
    """The event would be larger than ``OMS_EVENTS_MAX_EVENT_BYTES``: no sink could be
    counted on to take it, so the change that produced it is refused (413)."""

    http_status = 413
    code = "payload_too_large"


class InvalidCursor(EventsError):
    code = "invalid_cursor"
    field = "after"


class UnknownEventType(EventsError):
    http_status = 404
    code = "not_found"
