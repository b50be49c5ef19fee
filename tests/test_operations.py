"""Operations: readiness, Prometheus metrics and JSON logs."""

from __future__ import annotations

import json
import logging

import httpx

from hub import metrics
from hub.logs import JsonFormatter
from hub.testing.http_peer import Answer
from hub.testing.hub import FAST, add_delivery, add_source, make_test_hub, wait_until
from hub.testing.process import HubProcess


def test_readyz_checks_the_database(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json() == {"status": "ready", "database": "ok", "broker": "ok"}


def test_metrics_count_leads_attempts_and_waiting_dispatches(client, hub, post, recorder):
    # The registry lives as long as the process: earlier tests counted too, so compare with before.
    def value(name: str, **labels: str) -> float:
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    attempts = {"channel": "recorder", "delivery": "rec", "outcome": "accepted"}
    before = (value("leadhub_attempts_total", **attempts), value("leadhub_leads_total", outcome="accepted", source="form"),
              value("leadhub_leads_total", outcome="422", source="form"))
    add_delivery(hub, "rec", sources=["form"], channel="recorder")
    post({"first_name": "Ann", "email": "ann@example.com"})
    post({"first_name": "", "email": "nope"})
    wait_until(lambda: value("leadhub_attempts_total", **attempts) == before[0] + 1)
    text = client.get("/metrics").text
    assert 'leadhub_attempts_total{channel="recorder",delivery="rec",outcome="accepted"}' in text
    assert value("leadhub_leads_total", outcome="accepted", source="form") == before[1] + 1
    assert value("leadhub_leads_total", outcome="422", source="form") == before[2] + 1
    assert "leadhub_dispatches_waiting 0.0" in text and "leadhub_intake_seconds_bucket" in text
    assert 'leadhub_dispatches{channel="recorder",delivery="rec",status="accepted"} 1.0' in text


def test_json_log_lines_carry_the_ids():
    record = logging.LogRecord("leadhub.delivery", logging.ERROR, __file__, 1, "channel %s raised", ("x",), None)
    record.dispatch_id, record.lead_id = 7, 3
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "channel x raised" and line["dispatch_id"] == 7 and line["lead_id"] == 3
    assert line["level"] == "error" and line["time"].endswith("+00:00")


def test_serve_writes_json_log_lines_with_the_lead_and_dispatch_ids(tmp_path, http_peer):
    """Under a real `leadhub serve`, not just the formatter: the web framework must not replace the handlers."""
    hub = make_test_hub(tmp_path)
    add_source(hub, "form", [{"name": "email", "type": "email"}], api_key="k")
    add_delivery(hub, "buyer", sources=["form"], channel="http_post", config={"url": f"{http_peer.url}/leads"})
    http_peer.queue(Answer(status=500, body="try later"))
    http_peer.respond(status=200)
    log = tmp_path / "serve.log"
    server = HubProcess({"HUB_DATA_DIR": str(tmp_path), "HUB_LOG_FORMAT": "json", **FAST}, log).start()
    try:
        lead_id = httpx.post(f"{server.url}/webhooks/form?key=k", json={"email": "a@example.com"}).json()["lead_id"]
        http_peer.wait_for(2, timeout=20)
    finally:
        server.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    failed = [line for line in lines if line.get("lead_id") == lead_id and "failed after try 1" in line["message"]]
    assert failed and failed[0]["dispatch_id"] and failed[0]["level"] == "info", lines
    stray = [line for line in log.read_text().splitlines() if " - " in line and "INFO" in line]
    assert stray == [], f"log lines not in our format: {stray[:3]}"
