"""NATS JetStream: one message per event on ``<prefix>.<type>``, ``Nats-Msg-Id`` = event id,
so JetStream drops a duplicate sent within the stream's duplicate window."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading

import nats
from nats.errors import MaxPayloadError
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from .. import conf
from .base import DELIVERED, Message, Outcome, Result, Sending, Sink, SinkUnavailable

logger = logging.getLogger(__name__)

POISON_CODES = {"maximum payload exceeded", "message size exceeds maximum allowed"}
HEADER_LINE = b"NATS/1.0\r\n"


def message_size(body: bytes, headers: dict[str, str]) -> int:
    """Bytes the server counts against its ``max_payload``: headers (as nats-py writes
    them) plus the body. The client checks only the body; a message over the server's limit
    would make the server close the connection."""
    head = sum(len(k.encode()) + 2 + len(v.encode()) + 2 for k, v in headers.items())
    return len(HEADER_LINE) + head + 2 + len(body)


def too_large(size: int, limit: int) -> Outcome:
    """A message the server can never take: poison, and no fault of the sink."""
    return Outcome(
        Result.POISON, f"message of {size} bytes exceeds the NATS max_payload of {limit}"
    )


def subject_for(prefix: str, type: str) -> str:
    return f"{prefix}.{type}"


async def _quiet(exc: Exception) -> None:
    logger.debug("nats error: %s", exc)


async def _connect(url: str, timeout: float):
    # nats-py treats max_reconnect_attempts=0 as "retry forever" while connecting: allow
    # one quick retry, then fail so the breaker sees the sink is down.
    return await nats.connect(
        url,
        connect_timeout=timeout,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.05,
        error_cb=_quiet,
        name="oms-events",
    )


async def ensure_stream_async(js, stream: str, prefix: str, duplicate_window: float) -> None:
    """Create the stream, or bring an existing one up to what OMS relies on: its subjects,
    and a duplicate window at least ``duplicate_window`` seconds long."""
    config = StreamConfig(name=stream, subjects=[f"{prefix}.>"], duplicate_window=duplicate_window)
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(config)
        logger.info("created JetStream stream", extra={"stream": stream})
        return
    changed = False
    if f"{prefix}.>" not in (info.config.subjects or []):
        info.config.subjects = list(info.config.subjects or []) + [f"{prefix}.>"]
        changed = True
    if (info.config.duplicate_window or 0) < duplicate_window:
        logger.warning(
            "widening the JetStream duplicate window",
            extra={"stream": stream, "from": info.config.duplicate_window, "to": duplicate_window},
        )
        info.config.duplicate_window = duplicate_window
        changed = True
    if changed:
        await js.update_stream(info.config)


def ensure_stream(
    url: str | None = None, stream: str | None = None, prefix: str | None = None
) -> None:
    """Create (or extend) the stream; used by the management command and at start-up."""
    url = url or conf.nats_url()
    if not url:
        raise SinkUnavailable("NATS_URL is not set")

    async def run() -> None:
        nc = await _connect(url, conf.nats_timeout())
        try:
            await ensure_stream_async(
                nc.jetstream(),
                stream or conf.nats_stream(),
                prefix or conf.nats_subject_prefix(),
                conf.nats_duplicate_window(),
            )
        finally:
            await nc.close()

    asyncio.run(run())


class _Connections:
    """One event loop thread per process and, on it, one long-lived NATS connection per
    URL, shared by every sink and every drain in the process.

    nats-py connections belong to the loop that opened them, so sinks submit coroutines to
    this loop (``submit``). A dead connection (nats-py does not reconnect: see ``_connect``)
    is replaced on the next call, so a stopped server fails fast and the breaker sees it.
    After a fork (Celery prefork) the child starts its own loop and connections.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conns: dict[str, tuple] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._loop is None or self._pid != os.getpid() or not self._loop.is_running():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                threading.Thread(target=serve, name="oms-events-nats", daemon=True).start()
                ready.wait(5)
                self._loop, self._pid = loop, os.getpid()
                self._conns, self._locks = {}, {}
            return self._loop

    def submit(self, coro) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop())

    @staticmethod
    def wait(future: concurrent.futures.Future, timeout: float):
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    async def get(self, url: str, timeout: float) -> tuple:
        """(connection, JetStream context) for ``url``, connecting when needed."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            current = self._conns.get(url)
            if current is not None and current[0].is_connected:
                return current
            if current is not None:
                await self._close(current[0])
            nc = await _connect(url, timeout)
            self._conns[url] = (nc, nc.jetstream(timeout=timeout))
            return self._conns[url]

    async def drop(self, url: str) -> None:
        current = self._conns.pop(url, None)
        if current is not None:
            await self._close(current[0])

    @staticmethod
    async def _close(nc) -> None:
        try:
            await nc.close()
        except Exception:
            logger.debug("closing NATS connection failed", exc_info=True)


connections = _Connections()


class NatsSink(Sink):
    name = "nats"

    def __init__(
        self,
        url: str,
        stream: str,
        prefix: str,
        timeout: float = 5.0,
        duplicate_window: float | None = None,
    ):
        self.url, self.stream, self.prefix = url, stream, prefix
        self.timeout = timeout
        self.duplicate_window = duplicate_window or conf.nats_duplicate_window()
        self._stream_ready = False

    def send_batch(self, messages: list[Message]) -> dict[str, Outcome]:
        return self.start_batch(messages).result()

    def start_batch(self, messages: list[Message]) -> Sending:
        """Publish on the connection's loop while the caller goes on (the drain claims the
        next batch meanwhile); ``result()`` waits for the acknowledgements."""
        future = connections.submit(self._send(messages))
        # the coroutine bounds every wait by self.timeout; this is a safety net
        return Sending(lambda: connections.wait(future, self.timeout * 3 + 5), started=True)

    async def _send(self, messages: list[Message]) -> dict[str, Outcome]:
        """Publish the whole batch asynchronously (``publish_async``), then wait for the
        acknowledgements together, at most ``timeout`` seconds."""
        try:
            nc, js = await connections.get(self.url, self.timeout)
        except Exception as exc:
            raise SinkUnavailable(f"NATS {self.url}: {type(exc).__name__}: {exc}") from exc
        outcomes: dict[str, Outcome] = {}
        pending: dict[asyncio.Future, str] = {}
        try:
            if not self._stream_ready:
                await ensure_stream_async(js, self.stream, self.prefix, self.duplicate_window)
                self._stream_ready = True
            limit = nc.max_payload
            for index, m in enumerate(messages):
                headers = {"Nats-Msg-Id": m.id, "Content-Type": "application/cloudevents+json"}
                size = message_size(m.body, headers)
                if limit and size > limit:
                    outcomes[m.id] = too_large(size, limit)
                    continue
                try:
                    # no wait_stall: nats-py would start a task per message to time it out;
                    # the client's window (4,000 unacknowledged) only blocks until acks
                    # arrive, and the whole call is bounded by send_batch's timeout
                    future = await js.publish_async(
                        subject_for(self.prefix, m.type),
                        m.body,
                        stream=self.stream,
                        headers=headers,
                    )
                except MaxPayloadError:
                    outcomes[m.id] = too_large(size, limit)
                    continue
                except Exception as exc:  # the connection went away mid-batch
                    outcomes[m.id] = Outcome(Result.RETRY, f"{type(exc).__name__}: {exc}"[:2000])
                    for rest in messages[index + 1 :]:
                        outcomes[rest.id] = Outcome(Result.NOT_SENT)
                    break
                pending[future] = m.id
            if pending:
                await asyncio.wait(list(pending), timeout=self.timeout)
        except Exception as exc:
            self._stream_ready = False
            await connections.drop(self.url)
            raise SinkUnavailable(
                f"NATS {self.url}: {type(exc).__name__}: {exc}", outcomes
            ) from exc
        finally:
            for future in pending:
                if not future.done():
                    future.cancel()  # frees its slot in the client's window
        for future, id_ in pending.items():
            outcomes[id_] = _outcome(future)
        # a batch none of which was taken fails the sink (the breaker counts it); permanent
        # refusals (poison) do not count: a message that can never be taken says nothing
        # about the sink's health
        judged = [o for o in outcomes.values() if o.result is not Result.POISON]
        if judged and not any(o.result is Result.DELIVERED for o in judged):
            self._stream_ready = False
            await connections.drop(self.url)
            raise SinkUnavailable("NATS: no message of the batch was acknowledged", outcomes)
        return outcomes


def _outcome(future: asyncio.Future) -> Outcome:
    if future.cancelled() or not future.done():
        return Outcome(Result.RETRY, "no JetStream acknowledgement in time")
    exc = future.exception()
    if exc is None:
        return DELIVERED
    text = str(exc) or type(exc).__name__
    if isinstance(exc, BadRequestError) and any(code in text.lower() for code in POISON_CODES):
        return Outcome(Result.POISON, text[:2000])
    return Outcome(Result.RETRY, f"{type(exc).__name__}: {text}"[:2000])
