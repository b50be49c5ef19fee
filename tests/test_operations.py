"""Operations: readiness, Prometheus metrics and JSON logs."""

from __future__ import annotations

import json
import logging

from hub.logs import JsonFormatter
from hub.testing.hub import add_delivery, wait_until


def test_readyz_checks_the_database(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json() == {"status": "ready", "database": "ok", "broker": "ok"}


def test_metrics_count_leads_attempts_and_waiting_dispatches(client, hub, post, recorder):
    add_delivery(hub, "rec", sources=["form"], channel="recorder")
    post({"first_name": "Ann", "email": "ann@example.com"})
    post({"first_name": "", "email": "nope"})
    wait_until(lambda: 'leadhub_attempts_total{channel="recorder",delivery="rec",outcome="accepted"}'
               in client.get("/metrics").text)
    text = client.get("/metrics").text
    assert 'leadhub_leads_total{outcome="accepted",source="form"}' in text
    assert 'leadhub_leads_total{outcome="422",source="form"}' in text
    assert "leadhub_dispatches_waiting 0.0" in text and "leadhub_intake_seconds_bucket" in text


def test_json_log_lines_carry_the_ids():
    record = logging.LogRecord("leadhub.delivery", logging.ERROR, __file__, 1, "channel %s raised", ("x",), None)
    record.dispatch_id, record.lead_id = 7, 3
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "channel x raised" and line["dispatch_id"] == 7 and line["lead_id"] == 3
    assert line["level"] == "error" and line["time"].endswith("+00:00")
