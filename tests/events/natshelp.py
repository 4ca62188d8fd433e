"""Helpers for tests on a real NATS JetStream: read a stream, run a private server."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time

import nats

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def read_stream(url: str, stream: str, subject: str, expect: int, timeout: float = 5.0) -> list:
    """Every message of the stream on ``subject``, read by a pull subscriber."""

    async def run():
        nc = await nats.connect(url)
        try:
            js = nc.jetstream(timeout=timeout)
            deadline = time.monotonic() + timeout
            while True:  # a freshly restarted server may still be recovering its streams
                try:
                    sub = await js.pull_subscribe(subject, stream=stream)
                    break
                except (TimeoutError, nats.errors.TimeoutError):
                    if time.monotonic() > deadline:
                        raise
            messages = []
            while time.monotonic() < deadline:
                try:
                    batch = await sub.fetch(
                        min(500, max(1, expect - len(messages) + 10)), timeout=0.5
                    )
                except (TimeoutError, nats.errors.TimeoutError):
                    if len(messages) >= expect:
                        break
                    continue
                for m in batch:
                    await m.ack()
                messages.extend(batch)
            return [(m.headers or {}, m.data) for m in messages]
        finally:
            await nc.close()

    return asyncio.run(run())


def stream_messages(url: str, stream: str) -> int:
    async def run():
        nc = await nats.connect(url)
        try:
            return (await nc.jetstream().stream_info(stream)).state.messages
        finally:
            await nc.close()

    return asyncio.run(run())


def delete_stream(url: str, stream: str) -> None:
    async def run():
        nc = await nats.connect(url)
        try:
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_stream(stream)
        finally:
            await nc.close()

    with contextlib.suppress(Exception):
        asyncio.run(run())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateNats:
    """A nats-server of our own (never the shared one), stopped and started at will."""

    def __init__(self, config: str = ""):
        self.port = free_port()
        self.store = tempfile.mkdtemp(prefix="oms-nats-")
        self.proc: subprocess.Popen | None = None
        self.config = config  # nats-server configuration text, e.g. "max_payload: 8192"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", self.store]
        if self.config:
            path = f"{self.store}/nats.conf"
            with open(path, "w") as out:
                out.write(self.config)
            args += ["-c", path]
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("private nats-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.store, ignore_errors=True)
