"""AWS EventBridge (optional): PutEvents in chunks of 10, CloudEvents JSON as Detail."""

from __future__ import annotations

import json
from typing import Any

from .base import DELIVERED, Message, Outcome, Result, Sink, SinkUnavailable

RETRYABLE_CODES = {"InternalFailure", "ThrottlingException", "InternalException"}
CHUNK = 10


class EventBridgeSink(Sink):
    name = "eventbridge"

    def __init__(self, bus: str, source: str, client: Any = None, region: str | None = None):
        self.bus = bus
        self.source = source[:256]
        if client is None:
            import boto3

            client = boto3.client("events", region_name=region)
        self.client = client

    def send_batch(self, messages: list[Message]) -> dict[str, Outcome]:
        from botocore.exceptions import BotoCoreError, ClientError

        outcomes: dict[str, Outcome] = {}
        for start in range(0, len(messages), CHUNK):
            chunk = messages[start : start + CHUNK]
            entries = [
                {
                    "Source": self.source,
                    "DetailType": m.type,
                    "Detail": json.dumps(json.loads(m.body)),
                    "EventBusName": self.bus,
                    "Resources": [],
                }
                for m in chunk
            ]
            try:
                response = self.client.put_events(Entries=entries)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in ("ValidationException", "AccessDeniedException") and not outcomes:
                    for m in chunk:
                        outcomes[m.id] = Outcome(Result.POISON, f"{code}: {exc}"[:2000])
                    continue
                self._not_sent(messages[start:], outcomes, exc)
                raise SinkUnavailable(f"EventBridge: {exc}", outcomes) from exc
            except BotoCoreError as exc:
                self._not_sent(messages[start:], outcomes, exc)
                raise SinkUnavailable(f"EventBridge: {exc}", outcomes) from exc
            for m, entry in zip(chunk, response.get("Entries", []), strict=False):
                code = entry.get("ErrorCode")
                if not code:
                    outcomes[m.id] = DELIVERED
                elif code in RETRYABLE_CODES:
                    outcomes[m.id] = Outcome(
                        Result.RETRY, f"{code}: {entry.get('ErrorMessage', '')}"
                    )
                else:
                    outcomes[m.id] = Outcome(
                        Result.POISON, f"{code}: {entry.get('ErrorMessage', '')}"
                    )
            for m in chunk:
                outcomes.setdefault(
                    m.id, Outcome(Result.RETRY, "no entry in the PutEvents response")
                )
        return outcomes

    @staticmethod
    def _not_sent(rest: list[Message], outcomes: dict[str, Outcome], exc: Exception) -> None:
        first = True
        for m in rest:
            if first:
                outcomes[m.id] = Outcome(Result.RETRY, f"{type(exc).__name__}: {exc}"[:2000])
                first = False
            else:
                outcomes.setdefault(m.id, Outcome(Result.NOT_SENT))
