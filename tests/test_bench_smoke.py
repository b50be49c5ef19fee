"""`make bench` itself still runs: a quick pass over every part (its figures mean nothing at this size)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_benchmark_runs_every_part_and_writes_its_results(tmp_path: Path) -> None:
    # The bench raises if a lead is refused, a delivery never arrives or an export writes too few rows.
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--rounds", "1",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (result_file,) = tmp_path.glob("*.json")
    results = json.loads(result_file.read_text())
    assert results["intake"]["leadhub"]["statuses"] == {"202": 2000}
    assert [e["deliveries_per_lead"] for e in results["end_to_end"]] == [1, 5]
    assert results["export"][0]["leadhub"]["rows"] == 20000
    assert all(ms > 0 for ms in results["python_loop_ms"]["before"] + results["python_loop_ms"]["after"])
    assert "| intake, leads/s" in done.stdout and "| export 20,000 rows" in done.stdout
    # Its verdict on each target: two for intake, two per end-to-end run, one per export size.
    assert len(results["targets"]) == 7 and all(isinstance(row["met"], bool) for row in results["targets"])
    assert "| target | this run | |" in done.stdout
