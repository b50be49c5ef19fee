"""The bench's own verdicts: each of the benchmark's targets is met exactly at its bound, missed just past it."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ is a folder of scripts, not installed

from bench.targets import check_targets, targets_table  # noqa: E402


def _results(ratio: float = 0.7, half_p99: float = 19.9, delivered: float = 0.8, buyer_p99: float = 99.9,
             time_ratio: float = 2.0, rss: float = 199.9) -> dict:
    return {
        "intake": {"ratio": ratio, "leadhub_half_rate": {"p99_ms": half_p99, "rate": 1000.0},
                   "baseline_half_rate": {"p99_ms": 4.7, "rate": 1000.0}},
        "end_to_end": [{"deliveries_per_lead": k, "delivered_vs_intake": delivered,
                        "leadhub_half_rate": {"buyer_p99_ms": buyer_p99, "rate": 500.0}} for k in (1, 5)],
        "export": [{"rows": 1_000_000, "time_ratio": time_ratio, "leadhub": {"peak_rss_mb": rss}}],
    }


def test_every_target_is_met_at_its_bound() -> None:
    rows = check_targets(_results())
    assert len(rows) == 7
    assert all(row.met for row in rows), rows


def test_each_target_is_missed_past_its_bound() -> None:
    cases = {"ratio": 0.69, "half_p99": 20.0, "delivered": 0.79, "buyer_p99": 100.0, "time_ratio": 2.01,
             "rss": 200.0}
    missed = {name: [row.target for row in check_targets(_results(**{name: value})) if not row.met]
              for name, value in cases.items()}
    assert missed == {
        "ratio": ["intake ≥ 0.7 of the baseline's rate"],
        "half_p99": ["intake p99 < 20 ms at half rate"],
        "delivered": ["leads delivered ≥ 0.8 of intake, 1 per lead", "leads delivered ≥ 0.8 of intake, 5 per lead"],
        "buyer_p99": ["webhook→buyer p99 < 100 ms at half the end-to-end rate, 1 per lead",
                      "webhook→buyer p99 < 100 ms at half the end-to-end rate, 5 per lead"],
        "time_ratio": ["export of 1,000,000 rows ≤ 2× the baseline's time, peak RSS < 200 MB"],
        "rss": ["export of 1,000,000 rows ≤ 2× the baseline's time, peak RSS < 200 MB"],
    }


def test_a_part_left_out_has_no_targets_and_the_table_says_missed_in_bold() -> None:
    only_intake = {**_results(ratio=0.5), "end_to_end": [], "export": []}
    rows = check_targets(only_intake)
    assert [row.target for row in rows] == ["intake ≥ 0.7 of the baseline's rate", "intake p99 < 20 ms at half rate"]
    table = targets_table(rows)
    assert "| intake ≥ 0.7 of the baseline's rate | 0.5 | **missed** |" in table
    assert "| intake p99 < 20 ms at half rate | 19.9 ms at 1000.0/s (the baseline's own: 4.7 ms) | met |" in table
