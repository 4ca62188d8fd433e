"""NATS JetStream: one message per event on ``<prefix>.<type>``, ``Nats-Msg-Id`` = event id,
so JetStream drops a duplicate sent within the stream's duplicate window."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from .. import conf
from .base import DELIVERED, Message, Outcome, Result, Sink, SinkUnavailable

logger = logging.getLogger(__name__)

POISON_CODES = {"maximum payload exceeded", "message size exceeds maximum allowed"}


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
    config = StreamConfig(name=stream, subjects=[f"{prefix}.>"], duplicate_window=duplicate_window)
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(config)
        logger.info("created JetStream stream", extra={"stream": stream})
        return
    if f"{prefix}.>" not in (info.config.subjects or []):
        subjects = list(info.config.subjects or []) + [f"{prefix}.>"]
        info.config.subjects = subjects
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


class NatsSink(Sink):
    name = "nats"

    def __init__(
        self,
        url: str,
        stream: str,
        prefix: str,
        timeout: float = 5.0,
        duplicate_window: float = 120.0,
    ):
        self.url, self.stream, self.prefix = url, stream, prefix
        self.timeout, self.duplicate_window = timeout, duplicate_window
        self._stream_ready = False

    def send_batch(self, messages: list[Message]) -> dict[str, Outcome]:
        return asyncio.run(self._send(messages))

    async def _send(self, messages: list[Message]) -> dict[str, Outcome]:
        try:
            nc = await _connect(self.url, self.timeout)
        except Exception as exc:
            raise SinkUnavailable(f"NATS {self.url}: {type(exc).__name__}: {exc}") from exc
        try:
            js = nc.jetstream(timeout=self.timeout)
            if not self._stream_ready:
                await ensure_stream_async(js, self.stream, self.prefix, self.duplicate_window)
                self._stream_ready = True

            async def one(m: Message) -> Outcome:
                try:
                    await js.publish(
                        subject_for(self.prefix, m.type),
                        m.body,
                        stream=self.stream,
                        headers={
                            "Nats-Msg-Id": m.id,
                            "Content-Type": "application/cloudevents+json",
                        },
                    )
                    return DELIVERED
                except BadRequestError as exc:
                    text = str(exc)
                    if any(code in text.lower() for code in POISON_CODES):
                        return Outcome(Result.POISON, text[:2000])
                    return Outcome(Result.RETRY, text[:2000])
                except Exception as exc:
                    return Outcome(Result.RETRY, f"{type(exc).__name__}: {exc}"[:2000])

            results = await asyncio.gather(*(one(m) for m in messages))
        except SinkUnavailable:
            raise
        except Exception as exc:
            self._stream_ready = False
            raise SinkUnavailable(f"NATS {self.url}: {type(exc).__name__}: {exc}") from exc
        finally:
            try:
                await nc.close()
            except Exception:
                logger.debug("closing NATS connection failed", exc_info=True)
        outcomes = dict(zip((m.id for m in messages), results, strict=True))
        if messages and not any(o.result is Result.DELIVERED for o in outcomes.values()):
            self._stream_ready = False
            raise SinkUnavailable("NATS: no message of the batch was acknowledged", outcomes)
        return outcomes
