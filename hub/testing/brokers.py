"""Private Redis and RabbitMQ servers on free loopback ports, for tests that kill and restart the broker.

The machine's shared brokers must never be stopped by a test, so these run
Debian's own binaries as child processes with their data in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from hub.testing.process import free_port

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # the real script; /usr/sbin's wrapper would su


class PrivateBroker:
    """A broker server that can be killed (SIGKILL, like a crash) and started again on the same port."""

    kind = ""

    def __init__(self) -> None:
        self.port = free_port()
        self.data = Path(tempfile.mkdtemp(prefix=f"leadhub-{self.kind}-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        raise NotImplementedError

    def command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def start(self, timeout: float = 60.0) -> PrivateBroker:
        args, env = self.command()
        with open(self.data / "server.log", "ab") as out:
            # A session of its own: RabbitMQ's script starts the Erlang VM as a child, and kill() must reach both.
            self.proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.kind} exited early:\n{self.log()}")
            if self._answers():
                return self
            time.sleep(0.1)
        raise AssertionError(f"{self.kind} not ready on port {self.port} in {timeout}s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        while self._answers():  # the VM may take a moment to let go of the port
            time.sleep(0.05)

    def log(self) -> str:
        path = self.data / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self) -> PrivateBroker:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()


class PrivateRedis(PrivateBroker):
    """redis-server keeping nothing on disk, like the machine's own: a restart loses every message."""

    kind = "redis"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> tuple[list[str], dict[str, str]]:
        return ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.data)], {}


class PrivateRabbitMQ(PrivateBroker):
    """A RabbitMQ node of its own (name, ports, Mnesia folder and cookie), no plugins."""

    kind = "rabbitmq"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def command(self) -> tuple[list[str], dict[str, str]]:
        (self.data / "enabled_plugins").write_text("[].\n")
        (self.data / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{self.port}\n")
        d = str(self.data)
        env = {
            "HOME": d,  # the Erlang cookie is created here
            "RABBITMQ_NODENAME": f"leadhub{self.port}@localhost",
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_BASE": d,
            "RABBITMQ_MNESIA_BASE": f"{d}/mnesia",
            "RABBITMQ_LOG_BASE": f"{d}/log",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{d}/enabled_plugins",
            "RABBITMQ_CONFIG_FILE": f"{d}/rabbitmq.conf",
            "RABBITMQ_PID_FILE": f"{d}/pid",
            "RABBITMQ_FEATURE_FLAGS_FILE": f"{d}/feature_flags",
            "RABBITMQ_PLUGINS_EXPAND_DIR": f"{d}/plugins-expand",
        }
        return [RABBITMQ_SERVER], env


def private_broker(kind: str) -> PrivateBroker:
    """A private broker of ``kind``; fails in CI (skips elsewhere) when its server is not installed."""
    from hub.testing.services import missing

    binary = {"redis": "redis-server", "rabbitmq": RABBITMQ_SERVER}[kind]
    if shutil.which(binary) is None:
        missing(f"{binary} is not installed (apt-get install {'redis-server' if kind == 'redis' else 'rabbitmq-server'})")
    return {"redis": PrivateRedis, "rabbitmq": PrivateRabbitMQ}[kind]()
