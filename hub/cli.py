"""The ``leadhub`` command: serve, worker, apply, dump, plugins, tokens, replay, db."""

from __future__ import annotations

import functools
import logging
import gc
import signal
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from hub import __version__

log = logging.getLogger("leadhub")


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any failure into one clear line and exit status 1; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as exc:  # noqa: BLE001 - the point is to catch everything
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "sqlalchemy" in type(exc).__module__:
                message = f"database error: {getattr(exc, 'orig', None) or message}"
            raise click.ClickException(message) from None

    return wrapper


def _hub():  # type: ignore[no-untyped-def]
    from hub.migrate import upgrade
    from hub.runtime import open_hub

    hub = open_hub()
    upgrade(hub.engine)
    return hub


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leadhub")
def main() -> None:
    """Leadhub: leads in by webhook, delivered to buyers by plugins.

    Settings come from the environment: HUB_DATABASE_URL, HUB_BROKER_URL,
    HUB_SECRET_KEY, HUB_DATA_DIR (default ./var).
    """
    from hub.logs import configure_logging

    configure_logging()


def _tune_gc() -> None:
    """Keep start-up objects out of every later collection, and collect the young generation less often.

    Without the freeze each full collection walked every module, the app and the plugins: 50-110 ms
    pauses that were intake's p99 latency. A request allocates a few thousand objects, so the default
    young-generation threshold (700) collected several times per request; at 50 000 the webhook's
    p99 at half load fell from 22-29 ms to 15-26 ms (make bench's intake load, three runs each).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@friendly_errors
def serve(host: str, port: int) -> None:
    """Serve the webhooks, API and (embedded broker) the worker and sweeper."""
    import uvicorn

    from hub.accounts.admins import ensure_first_admin
    from hub.delivery.service import DeliveryService
    from hub.web.app import create_app

    hub = _hub()
    settings = hub.settings
    child = settings.embedded_broker and settings.embedded_worker == "process"
    app = create_app(hub, DeliveryService(hub, worker_process=child))
    first = ensure_first_admin(hub.engine)
    if not settings.embedded_broker:
        mode = "external broker: run `leadhub worker` for delivery"
    else:
        mode = f"embedded broker; delivery and sweeper in {'a child process' if child else 'this process'}"
    click.echo(f"Leadhub {__version__} on http://{host}:{port} ({mode})")
    click.echo(f"  data: {hub.settings.data_dir}   database: {hub.engine.url.render_as_string(hide_password=True)}")
    click.echo("  webhooks: POST /webhooks/<source>   API: /api/v1 (token: `leadhub tokens create NAME`)"
               "   OpenAPI: /schema")
    if first:
        click.echo(f"  Sign in at http://{host}:{port}/admin as {first[0]} with password {first[1]}")
        click.echo("  (shown this once; add your own admin with `leadhub users create --admin EMAIL`)")
    else:
        click.echo(f"  Sign in at http://{host}:{port}/admin (forgot it? `leadhub users create --admin EMAIL`)")
    _tune_gc()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@main.command()
@click.option("--embedded", is_flag=True, hidden=True,
              help="Started by `leadhub serve`: take dispatch ids from stdin into an in-process broker.")
@friendly_errors
def worker(embedded: bool) -> None:
    """Run delivery workers and the sweeper against HUB_BROKER_URL (Redis or RabbitMQ)."""
    from hub.delivery.service import DeliveryService
    from hub.delivery.worker_process import serve_stdin

    hub = _hub()
    if hub.settings.embedded_broker and not embedded:
        raise click.ClickException("leadhub worker needs HUB_BROKER_URL (redis://... or amqp://...); "
                                   "with the embedded broker, `leadhub serve` runs the worker itself")
    service = DeliveryService(hub)
    _tune_gc()
    service.start_worker()
    if embedded:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwinds to the finally: a graceful stop
        try:
            serve_stdin(service.enqueue)  # until `serve` closes the pipe (or dies)
        finally:
            service.stop()
        return
    click.echo(f"worker running {hub.settings.worker_threads} threads on {hub.settings.broker_url.split('@')[-1]}")
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    stopping.wait()
    service.stop()


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly_errors
def apply(file: Path) -> None:
    """Create or update sources, buyers, deliveries and exports from FILE (TOML, YAML or JSON)."""
    from hub.config.apply import ApplyError, apply_document, load_file

    hub = _hub()
    try:
        report = apply_document(hub, load_file(file))
    except ApplyError as exc:
        click.echo(f"{file}: not applied, {len(exc.errors)} problem(s):", err=True)
        for error in exc.errors:
            click.echo(f"  - {error}", err=True)
        sys.exit(1)
    for line in report.lines:
        click.echo(line)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["toml", "yaml", "json"]), default="toml", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not stdout.")
@friendly_errors
def dump(fmt: str, output: Path | None) -> None:
    """Write the configuration out; secrets appear as env: references or masked."""
    from hub.config.dump import dump_document, dump_text

    text = dump_text(dump_document(_hub()), fmt)
    if output:
        output.write_text(text)
    else:
        click.echo(text, nl=False)


@main.command()
@friendly_errors
def plugins() -> None:
    """List installed plugins, their channels, export transports and transforms."""
    from hub.plugins.registry import load_registry

    registry = load_registry()
    click.echo("Plugins:")
    for info in registry.plugins:
        state = f"  REFUSED: {info.error}" if info.error else ""
        click.echo(f"  {info.name:<22} {info.distribution} {info.version}{state}")
    click.echo("Channels:")
    for name, channel in sorted(registry.channels.items()):
        click.echo(f"  {name:<22} {channel.title}")
    click.echo("Export transports:")
    for name, transport in sorted(registry.transports.items()):
        click.echo(f"  {name:<22} {transport.title}")
    click.echo("Transforms:")
    click.echo("  " + ", ".join(sorted(registry.transforms)))
    for problem in registry.problems:
        click.echo(f"Problem: {problem}")


@main.group()
def tokens() -> None:
    """Admin API tokens (Authorization: Bearer ...)."""


@tokens.command("create")
@click.argument("name")
@friendly_errors
def tokens_create(name: str) -> None:
    """Create a token; it is printed once, alone on the last line."""
    from hub.accounts.tokens import create_token

    token = create_token(_hub().engine, name)
    click.echo(f"Token '{name}' created. Keep it now; it cannot be shown again:")
    click.echo(token)


@tokens.command("list")
@friendly_errors
def tokens_list() -> None:
    """List tokens (never their values)."""
    from hub.accounts.tokens import list_tokens

    for t in list_tokens(_hub().engine):
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
        used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        click.echo(f"{t.id:>4}  {t.name:<24} {state:<24} {used}")


@tokens.command("revoke")
@click.argument("name_or_id")
@friendly_errors
def tokens_revoke(name_or_id: str) -> None:
    """Revoke the token(s) with this name or id."""
    from hub.accounts.tokens import revoke_token

    count = revoke_token(_hub().engine, name_or_id)
    if not count:
        raise click.ClickException(f"no active token '{name_or_id}'")
    click.echo(f"revoked {count} token(s)")


@main.command()
@click.argument("dispatch_ids", nargs=-1, type=int)
@click.option("--status", type=click.Choice(["dead", "rejected"]), help="Replay every dispatch in this state.")
@click.option("--delivery", help="Only dispatches of this delivery (slug).")
@friendly_errors
def replay(dispatch_ids: tuple[int, ...], status: str | None, delivery: str | None) -> None:
    """Give dead or rejected dispatches a fresh round of tries."""
    from hub.delivery.replay import replay as replay_dispatches
    from hub.delivery.service import DeliveryService
    from hub.models import utcnow

    if not dispatch_ids and not status and not delivery:
        raise click.ClickException("say what to replay: dispatch ids, --status and/or --delivery")
    hub = _hub()
    # The embedded broker lives inside `serve`: backdate the rows so its sweeper takes them now.
    due_at = utcnow() - timedelta(seconds=hub.settings.sweep_grace) if hub.settings.embedded_broker else None
    ids = replay_dispatches(hub.engine, list(dispatch_ids) or None, status=status, delivery=delivery, due_at=due_at)
    if ids and not hub.settings.embedded_broker:
        service = DeliveryService(hub)
        service.enqueue(ids, None)
        service.stop()
    click.echo(f"replaying {len(ids)} dispatch(es)" + (f": {', '.join(map(str, ids))}" if len(ids) <= 20 else ""))


@main.command()
@friendly_errors
def scheduler() -> None:
    """Run the export scheduler alone (production); several may run, each run fires once."""
    from hub.export.scheduler import Scheduler

    hub = _hub()
    loop = Scheduler(hub)
    loop.start()
    click.echo("scheduler running")
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    stopping.wait()
    loop.stop()
    loop.join(timeout=30)


@main.group()
def exports() -> None:
    """Scheduled file exports."""


@exports.command("list")
@friendly_errors
def exports_list() -> None:
    """List exports with their next fire times."""
    from sqlmodel import Session, select

    from hub.export.schedule import next_fire_times, schedule_errors
    from hub.models import Export, utcnow

    hub = _hub()
    with Session(hub.engine) as session:
        for export in session.exec(select(Export).order_by(Export.slug)):
            problems = schedule_errors(export.schedule, export.timezone)
            upcoming = "" if problems else next_fire_times(export.schedule, export.timezone, utcnow(), 1)[0]
            click.echo(f"{export.slug:<24} {export.schedule:<16} {export.timezone:<18} {export.transport:<8} "
                       f"next {upcoming} UTC" if upcoming else f"{export.slug:<24} (no valid schedule)")


def _finish_run(hub, run) -> None:  # type: ignore[no-untyped-def]
    from hub.export.runs import ExportRunner

    done = ExportRunner(hub).execute(run.id)
    if done is None:
        raise click.ClickException(f"run {run.id} is already being executed elsewhere")
    click.echo(f"run {done.id}: {done.status}; {done.row_count or 0} leads, {done.byte_size or 0} bytes, "
               f"sha256 {done.sha256 or '-'}" + (f"; {done.location}" if done.location else "")
               + (f"; {done.message}" if done.message else ""))
    if done.status != "succeeded":
        if done.status == "retrying":
            click.echo("the scheduler will try again; `leadhub exports rerun` makes a new run", err=True)
        sys.exit(1)


@exports.command("run")
@click.argument("slug")
@friendly_errors
def exports_run(slug: str) -> None:
    """Run an export now (leads since its last scheduled success), wait, and print the outcome."""
    from hub.export.runs import run_now

    hub = _hub()
    _finish_run(hub, run_now(hub, slug))


@exports.command("rerun")
@click.argument("run_id", type=int)
@friendly_errors
def exports_rerun(run_id: int) -> None:
    """Build and send a past run's window again."""
    from hub.export.runs import rerun

    hub = _hub()
    _finish_run(hub, rerun(hub, run_id))


@main.group()
def buyers() -> None:
    """Buyer logins (for downloading export files)."""


@buyers.command("invite")
@click.argument("buyer")
@click.argument("email")
@friendly_errors
def buyers_invite(buyer: str, email: str) -> None:
    """Invite EMAIL to sign in as BUYER; prints the one-time link to choose a password."""
    from hub.accounts.buyers import invite_buyer

    hub = _hub()
    token = invite_buyer(hub.engine, buyer, email)
    click.echo(f"Send this link to {email} (valid 7 days, works once):")
    click.echo(f"{hub.settings.base_url}/buyer/welcome/{token}")


@main.group()
def plugin() -> None:
    """Write your own plugin."""


@plugin.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(["channel", "transport", "transforms"]), default="channel",
              show_default=True, help="A delivery channel, an export transport, or mapping transforms.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help="Where (default ./NAME).")
@friendly_errors
def plugin_new(name: str, kind: str, directory: Path | None) -> None:
    """Create a ready-to-install plugin package with passing tests."""
    from hub.plugins.scaffold import scaffold

    target = directory or Path(name)
    for path in scaffold(name, target, kind):
        click.echo(f"  wrote {path}")
    click.echo(f"Next: pip install -e '{target}[test]' && (cd {target} && pytest) && leadhub plugins")


@main.group()
def users() -> None:
    """Admin accounts for the web pages."""


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, required=True, help="Create an admin (the only kind of user here).")
@click.option("--password", help="The password; generated and printed when left out.")
@friendly_errors
def users_create(email: str, admin: bool, password: str | None) -> None:
    """Create an admin who can sign in at /admin."""
    from hub.accounts.admins import create_admin
    from hub.accounts.passwords import new_password

    chosen = password or new_password()
    create_admin(_hub().engine, email, chosen)
    click.echo(f"Admin {email} created." + ("" if password else " Password (shown once):"))
    if not password:
        click.echo(chosen)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Bring the database schema up to date (serve does this on start too)."""
    hub = _hub()
    click.echo(f"database is up to date ({hub.engine.url.render_as_string(hide_password=True)})")


if __name__ == "__main__":
    main()
