"""The targets the benchmark is held to, checked against one run's results (pure): each run says what it met.

As the benchmark issue states them: intake at least 0.7 of the baseline's
rate, with a p99 under 20 ms at half that rate; leads delivered at least 0.8 of
the intake rate, and webhook-to-buyer p99 under 100 ms at half the end-to-end
rate, with one delivery per lead and with five; an export at most twice the
baseline's time, in under 200 MB of peak RSS.
"""

from __future__ import annotations

from typing import NamedTuple


class Target(NamedTuple):
    target: str
    measured: str
    met: bool


def check_targets(results: dict) -> list[Target]:
    """One row per target that this run measured (a part left out with --only has none)."""
    rows: list[Target] = []
    if (intake := results.get("intake")) is not None:
        rows.append(Target("intake ≥ 0.7 of the baseline's rate", f"{intake['ratio']}", intake["ratio"] >= 0.7))
        half, base_half = intake["leadhub_half_rate"], intake["baseline_half_rate"]
        rows.append(Target("intake p99 < 20 ms at half rate",
                           f"{half['p99_ms']} ms at {half['rate']}/s (the baseline's own: {base_half['p99_ms']} ms)",
                           half["p99_ms"] < 20))
    for run in results.get("end_to_end", []):
        k, half = run["deliveries_per_lead"], run["leadhub_half_rate"]
        rows.append(Target(f"leads delivered ≥ 0.8 of intake, {k} per lead", f"{run['delivered_vs_intake']}",
                           run["delivered_vs_intake"] >= 0.8))
        rows.append(Target(f"webhook→buyer p99 < 100 ms at half the end-to-end rate, {k} per lead",
                           f"{half['buyer_p99_ms']} ms at {half['rate']} leads/s", half["buyer_p99_ms"] < 100))
    for export in results.get("export", []):
        rss = export["leadhub"]["peak_rss_mb"]
        rows.append(Target(f"export of {export['rows']:,} rows ≤ 2× the baseline's time, peak RSS < 200 MB",
                           f"{export['time_ratio']}×, {rss} MB", export["time_ratio"] <= 2 and rss < 200))
    return rows


def targets_table(rows: list[Target]) -> str:
    lines = ["| target | this run | |", "|---|---|---|"]
    lines += [f"| {row.target} | {row.measured} | {'met' if row.met else '**missed**'} |" for row in rows]
    return "\n".join(lines)
