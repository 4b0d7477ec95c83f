"""Tools for the fault tests: a private Redis server the test may kill, and pointing this process's Celery
app at another broker. The machine's shared Redis is never touched."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port nobody listens on right now (also what a "broker down" URL points at)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RedisServer:
    """A redis-server of the test's own, on a free port, with its files in the test's tmp folder."""

    directory: Path
    persistent: bool  # append-only file fsynced on every write, as deploy/redis.conf recommends
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed; the Redis fault test starts a server of its own")
        self.port = self.port or free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory), "--save", "",
             *persistence, "--maxmemory-policy", "noeviction", "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not self.answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-conversation, as a crashed or rebooted host does."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def celery_broker(url: str, transport_options: dict[str, object] | None = None) -> Iterator[None]:
    """Send this process's tasks to `url` (the workers are pointed there through their environment)."""
    from ledger_site.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options)

    def switch(broker_url: str, options: dict[str, object]) -> None:
        app.conf.broker_url = broker_url
        app.conf.broker_transport_options = options
        # Connection and producer pools are built on first use and keep the old URL: drop them.
        app._pool = None
        app.amqp._producer_pool = None

    switch(url, transport_options or {})
    try:
        yield
    finally:
        switch(*saved)
