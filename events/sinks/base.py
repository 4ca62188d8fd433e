"""The sink interface: send a batch of structured CloudEvents, report one outcome each."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Result(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # transient: try again later, counts as an attempt
    POISON = "poison"  # will never succeed: dead-letter at once
    NOT_SENT = "not_sent"  # the batch stopped before this one: not an attempt


@dataclass(frozen=True)
class Outcome:
    result: Result
    error: str = ""


DELIVERED = Outcome(Result.DELIVERED)


@dataclass(frozen=True)
class Message:
    id: str
    type: str
    subject: str
    body: bytes  # structured-mode CloudEvents JSON


class Sink:
    """A destination. ``send_batch`` never raises for one bad message; it may raise for a
    sink-wide failure, which the breaker counts (every message then gets RETRY)."""

    name: str = ""
    patterns: tuple[str, ...] = ()

    def accepts(self, type: str) -> bool:
        return not self.patterns or any(fnmatch.fnmatchcase(type, p) for p in self.patterns)

    def send_batch(self, messages: list[Message]) -> dict[str, Outcome]:
        raise NotImplementedError

    def start_batch(self, messages: list[Message]) -> Sending:
        """Begin sending in the background when the sink can (NATS); by default nothing
        happens until ``Sending.result`` calls ``send_batch``."""
        return Sending(lambda: self.send_batch(messages), started=False)


class Sending:
    """A batch being sent: ``result()`` waits for the outcomes (or raises as ``send_batch``
    does). ``started`` says whether the sink has already been called."""

    def __init__(self, result: Callable[[], dict[str, Outcome]], *, started: bool):
        self.result = result
        self.started = started
        self.since = time.monotonic()


class SinkUnavailable(Exception):
    """The sink could not be reached; carries the outcomes of what was sent before."""

    def __init__(self, message: str, outcomes: dict[str, Outcome] | None = None):
        super().__init__(message)
        self.outcomes = outcomes or {}
