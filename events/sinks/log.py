from __future__ import annotations

import logging

from .base import DELIVERED, Message, Outcome, Sink

logger = logging.getLogger("events.sink.log")


class LogSink(Sink):
    """Writes each event as one log record (JSON lines with the project's formatter)."""

    name = "log"

    def send_batch(self, messages: list[Message]) -> dict[str, Outcome]:
        for m in messages:
            logger.info(
                "event",
                extra={
                    "event_id": m.id,
                    "event_type": m.type,
                    "subject": m.subject,
                    "cloudevent": m.body.decode("utf-8"),
                },
            )
        return {m.id: DELIVERED for m in messages}
