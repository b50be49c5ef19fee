"""`make bench`: intake, end-to-end delivery and export, each beside a baseline measured in the same run.

    .venv/bin/python bench/run.py [--n 20000] [--export-rows 100000,1000000] [--quick] [--production [--workers 1]]
                                  [--rounds 3] [--only intake,end_to_end,export]

Writes bench/results/<time>.json and prints a Markdown table. Every process is on 127.0.0.1.
The embedded default runs one `leadhub serve` on SQLite; `--production` runs `leadhub serve`
and `--workers` `leadhub worker` processes on a fresh PostgreSQL database and a private Redis
queue, and the baseline app stores into PostgreSQL too, so each ratio compares like with like.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.targets import check_targets, targets_table  # noqa: E402
from hub.testing.process import HubProcess, free_port  # noqa: E402
from hub.testing.services import broker_queue, postgres_database  # noqa: E402

PY = sys.executable
FIELDS = [{"name": "first_name", "type": "string", "required": True}, {"name": "last_name", "type": "string"},
          {"name": "email", "type": "email", "required": True}, {"name": "phone", "type": "phone"},
          {"name": "postcode", "type": "string"}, {"name": "consent", "type": "boolean"},
          {"name": "notes", "type": "string"}, {"name": "seq", "type": "integer"}]


def loadgen(url: str, n: int, rate: float | None = None, concurrency: int = 64) -> dict:
    args = [PY, str(ROOT / "bench" / "loadgen.py"), url, "--n", str(n), "--concurrency", str(concurrency)]
    if rate:
        args += ["--rate", str(rate)]
    result = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    if result["statuses"] != {"202": n}:
        raise RuntimeError(f"{url} did not accept every lead: {result['statuses']}")
    return result


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


class Baseline:
    """The bare Litestar app under uvicorn (optionally posting each lead to a sink inline, ``copies`` times)."""

    def __init__(self, folder: Path, sink: str = "", database: str = "", copies: int = 1) -> None:
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        database = database.replace("postgresql+psycopg://", "postgresql://") or str(folder / "baseline.db")
        env = {**os.environ, "BASELINE_DB": database, "BASELINE_SINK": sink, "BASELINE_COPIES": str(copies)}
        self.proc = subprocess.Popen([PY, "-m", "uvicorn", "bench.baseline_app:app", "--port", str(self.port),
                                      "--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
        wait_http(f"http://127.0.0.1:{self.port}/")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ingest"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


class Sink:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([PY, str(ROOT / "bench" / "sink.py"), str(self.port)])
        wait_http(f"http://127.0.0.1:{self.port}/stats")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/leads"

    def stats(self) -> dict:
        return httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=30).json()

    def wait_for(self, count: int, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.stats()
            if stats["count"] >= count:
                return stats
            time.sleep(0.25)
        raise RuntimeError(f"the sink got {self.stats()['count']} of {count} leads")

    def reset(self) -> None:
        httpx.post(f"http://127.0.0.1:{self.port}/reset")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@contextmanager
def backend(production: bool) -> Iterator[dict[str, str]]:
    """HUB_* settings for a fresh store: SQLite under the data dir, or a new PostgreSQL database and Redis queue."""
    if not production:
        yield {}
        return
    with postgres_database() as database, broker_queue("redis") as broker:
        yield {"HUB_DATABASE_URL": database, **broker}


@contextmanager
def baseline_app(folder: Path, production: bool, sink: str = "", copies: int = 1) -> Iterator[Baseline]:
    with backend(production) as env:
        base = Baseline(folder, sink, env.get("HUB_DATABASE_URL", ""), copies)
        try:
            yield base
        finally:
            base.stop()


@contextmanager
def running_hub(folder: Path, deliveries: int, sink_url: str, production: bool, workers: int = 1) -> Iterator[str]:
    """A fresh Leadhub with one source and ``deliveries`` http_post deliveries to the sink; yields its webhook URL.

    Embedded: one `leadhub serve`. Production: `leadhub serve` plus ``workers`` `leadhub worker` processes.
    """
    from hub.config.apply import apply_document
    from hub.testing.hub import make_test_hub

    with backend(production) as env:
        hub = make_test_hub(folder, fast=False, env=env)
        apply_document(hub, {
            "sources": [{"slug": "bench", "api_key": "bench-key", "fields": FIELDS}],
            "buyers": [{"slug": "buyer"}],
            "deliveries": [{"slug": f"sink-{i}", "buyer": "buyer", "sources": ["bench"], "channel": "http_post",
                            "config": {"url": sink_url}} for i in range(deliveries)],
        })
        hub.engine.dispose()
        settings = {"HUB_DATA_DIR": str(folder), **env}
        processes = [HubProcess(settings, folder / "serve.log").start(ready_timeout=60)]
        try:
            if production:
                processes += [HubProcess(settings, folder / f"worker-{i}.log", command="worker").start()
                              for i in range(workers)]
            yield f"{processes[0].url}/webhooks/bench?key=bench-key"
        finally:
            for process in processes:
                process.stop()


def loop_ms() -> float:
    """How long a fixed pure-Python loop takes in a fresh interpreter: how fast the machine is right now."""
    script = "import time\nt = time.perf_counter()\ns = 0\nfor i in range(5_000_000): s += i\nprint(time.perf_counter() - t)"
    return round(float(subprocess.run([PY, "-c", script], check=True, capture_output=True, text=True).stdout) * 1000)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


def intake(n: int, work: Path, production: bool, rounds: int) -> dict:
    """Baseline and Leadhub posted to in turn, ``rounds`` times, both running throughout.

    On a shared machine the speed drifts by tens of per cent within minutes; each
    round's ratio compares two runs seconds apart, and the median round is reported.
    """
    pairs = []
    with baseline_app(work / "b1", production) as base, running_hub(work / "h1", 0, "", production) as url:
        for _ in range(rounds):
            pairs.append((loadgen(base.url, n), loadgen(url, n)))
        ratios = [hub["rate"] / baseline["rate"] for baseline, hub in pairs]
        baseline, leadhub = _median_round(pairs, key=lambda pair: pair[1]["rate"] / pair[0]["rate"])
        # Latency at half load, in turn with the baseline at the same rate: its p99 is the machine's noise floor.
        halves = [(loadgen(base.url, min(n // 2, 5000), rate=leadhub["rate"] / 2),
                   loadgen(url, min(n // 2, 5000), rate=leadhub["rate"] / 2)) for _ in range(rounds)]
        baseline_half, half = _median_round(halves, key=lambda pair: pair[1]["p99_ms"])
    return {"baseline": baseline, "leadhub": leadhub, "leadhub_half_rate": half, "baseline_half_rate": baseline_half,
            "ratio": round(leadhub["rate"] / baseline["rate"], 3), "round_ratios": [round(r, 3) for r in ratios],
            "half_rate_round_p99_ms": [pair[1]["p99_ms"] for pair in halves]}


def _median_round(rounds: list, key: Callable[[Any], float]) -> Any:
    """The round whose ``key`` is the median (the lower one of an even count)."""
    return sorted(rounds, key=key)[(len(rounds) - 1) // 2]


def end_to_end(n: int, work: Path, deliveries: int, production: bool, rounds: int, workers: int = 1) -> dict:
    sink = Sink()
    try:
        with baseline_app(work / f"b-e2e-{deliveries}", production, sink=sink.url, copies=deliveries) as base:
            started = time.time()
            baseline = loadgen(base.url, n)
            stats = sink.wait_for(n * deliveries)
            baseline["delivered_rate"] = round(n * deliveries / (stats["last"] - started), 1)
        sink.reset()
        with running_hub(work / f"h-e2e-{deliveries}", deliveries, sink.url, production, workers) as url:
            started = time.time()
            leadhub = loadgen(url, n)
            stats = sink.wait_for(n * deliveries)
            leadhub["delivered_rate"] = round(n * deliveries / (stats["last"] - started), 1)  # deliveries/s
            leadhub["delivered_leads_rate"] = round(n / (stats["last"] - started), 1)  # leads/s, each with all its deliveries
            # Saturated end to end: leads/s taken in and delivered, whichever is less. Half the intake rate
            # alone would ask a worker for 2.5 times what it can deliver with 5 deliveries a lead.
            sustained = min(leadhub["rate"], leadhub["delivered_leads_rate"])
            halves = []
            for _ in range(rounds):
                sink.reset()
                half = loadgen(url, min(n // 4, 3000), rate=sustained / 2)
                latencies = sink.wait_for(half["count"] * deliveries)["latencies_ms"]
                halves.append({**half, "buyer_p50_ms": pct(latencies, 0.5), "buyer_p99_ms": pct(latencies, 0.99)})
            half = _median_round(halves, key=lambda run: run["buyer_p99_ms"])
    finally:
        sink.stop()
    return {"deliveries_per_lead": deliveries, "baseline": baseline, "leadhub": leadhub, "leadhub_half_rate": half,
            "half_rate_round_buyer_p99_ms": [run["buyer_p99_ms"] for run in halves],
            "delivered_vs_intake": round(leadhub["delivered_leads_rate"] / leadhub["rate"], 3)}


EXPORT_SCRIPT = """
import json, resource, sys, time
from hub.export.runs import ExportRunner, run_now
from hub.runtime import open_hub
hub = open_hub()
started = time.perf_counter()
run = ExportRunner(hub).execute(run_now(hub, "bulk").id)
print(json.dumps({"status": run.status, "rows": run.row_count, "bytes": run.byte_size, "message": run.message,
                  "seconds": round(time.perf_counter() - started, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


COLUMNS = ("first_name", "last_name", "email", "phone", "postcode", "consent", "notes", "seq")


def export(rows: int, work: Path, production: bool) -> dict:
    from sqlalchemy import select, update

    from hub.config.apply import apply_document
    from hub.models import Export, Source
    from hub.testing.hub import make_test_hub

    folder = work / f"export-{rows}"
    outbox = folder / "outbox"
    outbox.mkdir(parents=True)
    with backend(production) as env:
        hub = make_test_hub(folder, fast=False, env=env)
        apply_document(hub, {
            "sources": [{"slug": "bench", "fields": FIELDS}], "buyers": [{"slug": "buyer"}],
            "exports": [{"slug": "bulk", "buyer": "buyer", "sources": ["bench"], "schedule": "0 9 * * *",
                         "transport": "directory", "config": {"path": str(outbox)}, "zip_password": "bench-pass",
                         "mapping": [{"target": c, "source": c} for c in COLUMNS]}]})
        with hub.engine.begin() as conn:  # the export's window starts at its creation: make it cover the leads
            conn.execute(update(Export.__table__).values(created_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
            source_id = conn.execute(select(Source.__table__.c.id)).scalar_one()
        hub.engine.dispose()
        moment = datetime.now(timezone.utc) - timedelta(hours=1)
        notes = "Interested in a quote for home insurance; call after five." * 2
        leads = ((source_id, moment, json.dumps({
            "first_name": "Bench", "last_name": f"Lead{i:07d}", "email": f"l{i}@x.com", "phone": "+447911123456",
            "postcode": "SW1A 1AA", "consent": True, "notes": notes, "seq": i})) for i in range(rows))
        database = env.get("HUB_DATABASE_URL", "").replace("postgresql+psycopg://", "postgresql://")
        (_copy_into_postgres if production else _insert_into_sqlite)(database or str(folder / "leadhub.db"), leads)

        script_env = {**os.environ, "HUB_DATA_DIR": str(folder), **env}
        leadhub = json.loads(subprocess.run([PY, "-c", EXPORT_SCRIPT], env=script_env, check=True,
                                            capture_output=True, text=True, cwd=ROOT).stdout.strip().splitlines()[-1])
        started = time.perf_counter()
        subprocess.run(f"{_csv_command(database, folder)} | 7z a -tzip -pbench-pass -mem=AES256 "
                       f"-sibaseline.csv {folder / 'baseline.zip'} > /dev/null", shell=True, check=True)
        baseline_seconds = round(time.perf_counter() - started, 2)
    if leadhub["status"] != "succeeded" or leadhub["rows"] != rows:
        raise RuntimeError(f"the export run did not write {rows} rows: {leadhub}")
    return {"rows": rows, "leadhub": leadhub, "baseline_seconds": baseline_seconds,
            "time_ratio": round(leadhub["seconds"] / baseline_seconds, 2),
            "peak_rss_within_200_mb": leadhub["peak_rss_mb"] < 200}


def _insert_into_sqlite(path: str, leads: Iterator[tuple]) -> None:
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO lead (source_id, received_at, status, fields) VALUES (?, ?, 'accepted', ?)",
                   ((source, moment.strftime("%Y-%m-%d %H:%M:%S.%f"), fields) for source, moment, fields in leads))
    db.commit()
    db.close()


def _copy_into_postgres(url: str, leads: Iterator[tuple]) -> None:
    import psycopg

    with psycopg.connect(url) as db, db.cursor().copy(
            "COPY lead (source_id, received_at, status, fields) FROM STDIN") as copy:
        for source, moment, fields in leads:
            copy.write_row((source, moment, "accepted", fields))


def _csv_command(postgres_url: str, folder: Path) -> str:
    """The baseline's CSV of the same columns, straight from the database's own command-line client."""
    if postgres_url:
        columns = ", ".join(f"fields->>'{c}'" for c in COLUMNS)
        return f"psql -q {postgres_url} -c \"COPY (SELECT {columns} FROM lead ORDER BY id) TO STDOUT WITH CSV\""
    columns = ", ".join(f"json_extract(fields,'$.{c}')" for c in COLUMNS)
    return f"sqlite3 -csv {folder / 'leadhub.db'} \"SELECT {columns} FROM lead ORDER BY id\""


def _latencies(run: dict) -> str:
    return f"{run['p50_ms']} / {run['p95_ms']} / {run['p99_ms']}"


def table(results: dict) -> str:
    lines = ["| measure | Leadhub | baseline | ratio |", "|---|---|---|---|"]
    if (i := results["intake"]) is not None:
        lines.append(f"| intake, leads/s ({i['leadhub']['count']} posts, 64 connections; median of "
                     f"{len(i['round_ratios'])} rounds: {', '.join(map(str, i['round_ratios']))}) | "
                     f"{i['leadhub']['rate']} | {i['baseline']['rate']} | {i['ratio']} |")
        lines.append(f"| intake p50 / p95 / p99 ms at that rate | {_latencies(i['leadhub'])} | "
                     f"{_latencies(i['baseline'])} | |")
        half, base_half = i["leadhub_half_rate"], i["baseline_half_rate"]
        lines.append(f"| intake p50 / p99 ms at half rate ({half['rate']}/s; median p99 of "
                     f"{', '.join(map(str, i['half_rate_round_p99_ms']))}) | {half['p50_ms']} / {half['p99_ms']} | "
                     f"{base_half['p50_ms']} / {base_half['p99_ms']} | |")
    for e in results["end_to_end"]:
        k = e["deliveries_per_lead"]
        lines.append(f"| deliveries/s, {k} per lead | {e['leadhub']['delivered_rate']} | "
                     f"{e['baseline']['delivered_rate']} | {round(e['leadhub']['delivered_rate'] / e['baseline']['delivered_rate'], 3)} |")
        lines.append(f"| leads delivered/s ÷ intake leads/s, {k} per lead | {e['delivered_vs_intake']} | | |")
        h = e["leadhub_half_rate"]
        lines.append(f"| webhook→buyer p50 / p99 ms at half the end-to-end rate ({h['rate']} leads/s), {k} per lead "
                     f"(median p99 of {', '.join(map(str, e['half_rate_round_buyer_p99_ms']))}) | "
                     f"{h['buyer_p50_ms']} / {h['buyer_p99_ms']} | | |")
    tool = "psql COPY … CSV" if results.get("mode", "").startswith("production") else "sqlite3 -csv"
    for x in results["export"]:
        lines.append(f"| export {x['rows']:,} rows to AES ZIP: seconds (rows/s), peak RSS MB | "
                     f"{x['leadhub']['seconds']} s ({x['rows'] / x['leadhub']['seconds']:,.0f}/s), "
                     f"{x['leadhub']['peak_rss_mb']} MB | {x['baseline_seconds']} s ({tool} \\| 7z) | "
                     f"{x['time_ratio']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--export-rows", default="100000,1000000")
    parser.add_argument("--quick", action="store_true", help="2 000 leads and a 20 000-row export")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results", help="folder for the JSON file")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of each comparison and latency run; the median is reported")
    parser.add_argument("--production", action="store_true",
                        help="PostgreSQL + Redis with a separate `leadhub worker` (services on 127.0.0.1)")
    parser.add_argument("--workers", type=int, default=1,
                        help="with --production, how many `leadhub worker` processes deliver (end to end)")
    parser.add_argument("--only", default="intake,end_to_end,export",
                        help="comma-separated parts to run (intake, end_to_end, export); the table shows those")
    args = parser.parse_args()
    n, rows = (2000, [20000]) if args.quick else (args.n, [int(r) for r in args.export_rows.split(",") if r])
    work = Path(tempfile.mkdtemp(prefix="leadhub-bench-"))
    try:
        parts = set(args.only.split(","))
        speed_before = [loop_ms() for _ in range(3)]
        results = {
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
            "command": " ".join(["make bench"] + sys.argv[1:]),
            "mode": f"production: PostgreSQL + Redis, serve + {args.workers} worker{'s' if args.workers > 1 else ''}"
            if args.production else "embedded: SQLite",
            "intake": intake(n, work, args.production, args.rounds) if "intake" in parts else None,
            "end_to_end": [end_to_end(n, work, 1, args.production, args.rounds, args.workers),
                           end_to_end(n // 4, work, 5, args.production, args.rounds, args.workers)]
            if "end_to_end" in parts else [],
            "export": [export(r, work, args.production) for r in rows] if "export" in parts else [],
        }
        # Shared machines change speed by tens of per cent within minutes; this says how fast this one was.
        results["python_loop_ms"] = {"before": speed_before, "after": [loop_ms() for _ in range(3)]}
        results["targets"] = [row._asdict() for row in check_targets(results)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = args.results / f"{results['when'].replace(':', '')}.json"
    out.write_text(json.dumps(results, indent=2))
    loop = results["python_loop_ms"]
    print(f"{results['mode']}; {results['machine']}; a 5-million-step Python loop took "
          f"{', '.join(map(str, loop['before']))} ms before and {', '.join(map(str, loop['after']))} ms after\n")
    print(table(results))
    print(f"\n{targets_table(check_targets(results))}")
    print(f"\n{out}")
    # Memory is the one hard limit: a buyer's big file must never take the hub down.
    too_big = [x["rows"] for x in results["export"] if not x["peak_rss_within_200_mb"]]
    if too_big:
        sys.exit(f"peak RSS over 200 MB exporting {too_big} rows")


if __name__ == "__main__":
    main()
