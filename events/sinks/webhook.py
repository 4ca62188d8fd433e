"""HTTP webhooks: structured-mode CloudEvents JSON, signed with HMAC-SHA256.

Headers sent with each request::

    Content-Type: application/cloudevents+json
    X-OMS-Event-Id: <event id>
    X-OMS-Timestamp: <unix seconds>
    X-OMS-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.".encode() + body)>

A receiver recomputes the signature with its secret, compares in constant time and
rejects timestamps older than a few minutes (replay protection).
"""

from __future__ import annotations

import hashlib
import hmac
import time

import requests

from .base import DELIVERED, Message, Outcome, Result, Sink, SinkUnavailable

RETRYABLE_STATUS = {408, 425, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, max_age: float = 300
) -> bool:
    """For receivers (and tests): a valid, fresh signature."""
    try:
        if abs(time.time() - int(timestamp)) > max_age:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSink(Sink):
    def __init__(
        self,
        name: str,
        url: str,
        secret: str,
        patterns: list[str] | tuple[str, ...] = (),
        timeout: float = 5.0,
    ):
        self.name = f"webhook:{name}"
        self.url = url
        self.secret = secret
        self.patterns = tuple(patterns or ())
        self.timeout = timeout
        self.session = requests.Session()

    def send_batch(self, messages: list[Message]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        for m in messages:
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/cloudevents+json",
                "User-Agent": "OMS-Events/1",
                "X-OMS-Event-Id": m.id,
                "X-OMS-Timestamp": timestamp,
                "X-OMS-Signature": sign(self.secret, timestamp, m.body),
            }
            try:
                response = self.session.post(
                    self.url,
                    data=m.body,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                for rest in messages[len(outcomes) :]:
                    outcomes.setdefault(rest.id, Outcome(Result.NOT_SENT))
                outcomes[m.id] = Outcome(Result.RETRY, f"{type(exc).__name__}: {exc}"[:2000])
                raise SinkUnavailable(f"{self.url}: {exc}", outcomes) from exc
            status = response.status_code
            if 200 <= status < 300:
                outcomes[m.id] = DELIVERED
            elif status >= 500 or status in RETRYABLE_STATUS:
                outcomes[m.id] = Outcome(Result.RETRY, f"HTTP {status}: {response.text[:500]}")
            else:
                outcomes[m.id] = Outcome(Result.POISON, f"HTTP {status}: {response.text[:500]}")
        return outcomes
