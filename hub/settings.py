"""Settings from the environment, with embedded defaults (SQLite and an in-process broker)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


class SettingsError(ValueError):
    """A setting that is missing or malformed, named in the message."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str  # "" or "stub://" means the embedded in-process broker
    secret_key: str
    max_body_bytes: int = 64 * 1024
    worker_threads: int = 64  # tries in flight per worker process (I/O-bound; more threads also batch the ledger better)
    request_threads: int = 8  # threads answering webhooks and pages
    sweep_interval: float = 2.0  # seconds between sweeps
    sweep_grace: float = 30.0  # a due row untouched this long is assumed lost by the broker
    lease_seconds: float = 300.0  # how long a worker owns a dispatch before others may retake it
    base_url: str = "http://127.0.0.1:8000"
    sqlite_synchronous: str = "NORMAL"  # FULL survives power loss too, at about a third of the intake rate
    retry_base_seconds: float = 10.0  # the first retry's delay; doubles per failure
    queue_name: str = "leadhub_deliveries"  # one per hub when several hubs share a broker
    embedded_worker: str = "process"  # embedded broker under `serve`: delivery in a child process, or "thread"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url in ("", "stub://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _secret_key(data_dir: Path, env: dict[str, str]) -> str:
    """HUB_SECRET_KEY, or a key generated once and kept under the data dir."""
    if env.get("HUB_SECRET_KEY"):
        return env["HUB_SECRET_KEY"]
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("HUB_DATA_DIR") or "var").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = env.get("HUB_DATABASE_URL") or f"sqlite:///{data_dir / 'leadhub.db'}"
    broker_url = env.get("HUB_BROKER_URL", "")
    if broker_url and not broker_url.startswith(("redis://", "rediss://", "amqp://", "amqps://", "stub://")):
        raise SettingsError("HUB_BROKER_URL must start with redis://, amqp:// or be empty for the embedded broker")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        broker_url=broker_url,
        secret_key=_secret_key(data_dir, env),
        max_body_bytes=_int(env, "HUB_MAX_BODY_BYTES", 64 * 1024),
        worker_threads=_int(env, "HUB_WORKER_THREADS", 64),
        request_threads=_int(env, "HUB_REQUEST_THREADS", 8),
        sweep_interval=_float(env, "HUB_SWEEP_INTERVAL", 2.0),
        sweep_grace=_float(env, "HUB_SWEEP_GRACE", 30.0),
        lease_seconds=_float(env, "HUB_LEASE_SECONDS", 300.0),
        base_url=(env.get("HUB_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        sqlite_synchronous=_choice(env, "HUB_SQLITE_SYNCHRONOUS", ("NORMAL", "FULL"), "NORMAL"),
        retry_base_seconds=_float(env, "HUB_RETRY_BASE_SECONDS", 10.0),
        queue_name=env.get("HUB_QUEUE_NAME") or "leadhub_deliveries",
        embedded_worker=_choice(env, "HUB_EMBEDDED_WORKER", ("PROCESS", "THREAD"), "PROCESS").lower(),
    )


def _choice(env: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = (env.get(name) or default).upper()
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw
