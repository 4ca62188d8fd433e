"""Fixtures for the events tests: isolated breaker state, recorded drain kicks, fake sinks."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from events import registry
from events.sinks import DELIVERED, Message, Outcome, Sink

TEST_TYPE = "com.oms.test.thing.changed.v1"
TEST_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "n": {"type": "integer"}},
}


@pytest.fixture(autouse=True)
def events_settings(settings):
    settings.OMS_EVENTS_SINKS = ["log"]
    settings.OMS_EVENTS_WEBHOOKS = []
    settings.OMS_EVENTS_BREAKER_NAMESPACE = f"test:{uuid.uuid4().hex}"
    settings.OMS_EVENTS_BACKOFF_BASE_SECONDS = 0.01
    settings.OMS_EVENTS_BACKOFF_CAP_SECONDS = 0.05
    settings.OMS_EVENTS_MAX_ATTEMPTS = 3
    settings.OMS_EVENTS_BREAKER_FAIL_MAX = 3
    settings.OMS_EVENTS_BREAKER_RESET_TIMEOUT_SECONDS = 60
    settings.OMS_EVENTS_REQUIRE_REGISTERED_TYPES = True
    return settings


@pytest.fixture(autouse=True)
def kicks(monkeypatch):
    """Drain tasks enqueued on commit (recorded instead of sent to the broker)."""
    from django.core.cache import cache

    from events import tasks
    from events.services import KICK_KEY

    cache.delete(KICK_KEY)  # the cache may be a Redis shared with other runs
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.drain_outbox, "delay", lambda *a, **kw: calls.append((a, kw)))
    return calls


@pytest.fixture
def test_type():
    registry.register_event_type(TEST_TYPE, schema=TEST_SCHEMA, description="A test thing changed.")
    yield TEST_TYPE
    registry.unregister(TEST_TYPE)


class FakeSink(Sink):
    """A sink whose behaviour a test sets; records every message it was given."""

    def __init__(
        self,
        name: str = "fake",
        behaviour: Callable[[Message], Outcome] | None = None,
        patterns: tuple[str, ...] = (),
    ):
        self.name = name
        self.patterns = patterns
        self.behaviour = behaviour or (lambda m: DELIVERED)
        self.raise_exc: Exception | None = None
        self.received: list[Message] = []
        self.calls = 0

    def send_batch(self, messages):
        self.calls += 1
        if self.raise_exc is not None:
            raise self.raise_exc
        self.received.extend(messages)
        return {m.id: self.behaviour(m) for m in messages}


@pytest.fixture
def use_sinks(monkeypatch):
    """use_sinks(sink, ...) makes these the enabled sinks."""
    import events.sinks

    def apply(*sinks: Sink) -> dict[str, Sink]:
        mapping = {s.name: s for s in sinks}
        monkeypatch.setattr(events.sinks, "enabled_sinks", lambda: dict(mapping))
        return mapping

    return apply


class Receiver:
    """A local webhook endpoint; ``status`` decides the answer."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()
