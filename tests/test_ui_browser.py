"""The admin and buyer journeys in a real browser (Debian's Chromium driven by Playwright).

Screenshots of the main pages are kept under test-artifacts/screenshots/ for reviewers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hub.testing.http_peer import Answer
from hub.testing.process import HubProcess

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run must install it")
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path):  # type: ignore[no-untyped-def]
    env = {"HUB_DATA_DIR": str(tmp_path), "HUB_RETRY_BASE_SECONDS": "0.2", "HUB_SWEEP_INTERVAL": "0.2"}
    created = subprocess.run([sys.executable, "-m", "hub.cli", "users", "create", "boss@example.com", "--admin",
                              "--password", PASSWORD], env={**os.environ, **env}, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    process = HubProcess(env, tmp_path / "serve.log").start()
    yield process
    process.stop()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_admin_journey(browser, server, http_peer):
    http_peer.queue(Answer(status=400, body="postcode not served"))  # the lead's own try is refused
    http_peer.respond(status=201, json={"id": "B-2"})
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{server.url}/admin")
    assert "/admin/login" in page.url
    shot(page, "01-sign-in")
    page.fill("input[name=email]", "boss@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/admin")
    shot(page, "02-dashboard")

    # A source with three fields.
    page.goto(f"{server.url}/admin/sources/new")
    page.fill("input[name=slug]", "landing")
    page.fill("input[name=name]", "Landing page")
    page.click("text=Add a field")
    page.locator("#field-rows tr:not([hidden])").nth(1).locator("input[name=field_name]").fill("first_name")
    page.click("text=Add a field")
    row = page.locator("#field-rows tr:not([hidden])").nth(2)
    row.locator("input[name=field_name]").fill("phone")
    row.locator("select[name=field_type]").select_option("phone")
    row.locator("input[name=field_country]").fill("GB")
    page.click("button:text('Save')")
    assert "The new key is" in page.content()
    key = re.search(r"The new key is (\S+) ", page.inner_text("main")).group(1)
    shot(page, "03-source")

    # An http_post delivery through the generated form, with a mapping and its live preview.
    page.goto(f"{server.url}/admin/deliveries/new")
    page.click("text=HTTP POST to any API")
    page.fill("input[name=slug]", "acme-api")
    page.check("input[name=sources][value=landing]")
    page.fill("input[name='config.url']", f"{http_peer.url}/leads")
    page.select_option("select[name='config.auth']", "bearer")
    page.fill("input[name='config.auth@bearer.token']", "tok-SECRET")
    page.click("text=Add a row")
    mapping = page.locator("#mapping-rows tr:not([hidden])").first
    mapping.locator("input[name=map_target]").fill("Name")
    mapping.locator("select[name=map_kind]").select_option("template")
    mapping.locator("input[name=map_value]").fill("{{ first_name | upper }}")
    page.wait_for_function("document.querySelector('#preview').innerText.includes('SAMPLE')")
    shot(page, "04-delivery-form")
    page.click("button:text('Save')")
    page.wait_for_selector("text=Saved.")
    assert "tok-SECRET" not in page.content()

    # A lead arrives; the admin finds it, sees the attempt, sends a test and replays.
    answer = httpx.post(f"{server.url}/webhooks/landing", headers={"X-API-Key": key},
                        json={"first_name": "Ann", "email": "ann@example.com", "phone": "07911 123456"})
    assert answer.status_code == 202
    lead_id = answer.json()["lead_id"]
    page.goto(f"{server.url}/admin/deliveries/acme-api")
    page.click("button:text('Send test')")
    page.wait_for_selector("#test-result >> text=accepted")
    assert "Bearer ********" in page.inner_text("#test-result") or "********" in page.inner_text("#test-result")
    shot(page, "05-send-test")
    page.goto(f"{server.url}/admin/leads")
    page.click(f"text=#{lead_id}")
    page.wait_for_selector("text=rejected")
    shot(page, "06-lead-rejected")
    page.click("button:text('Replay')")
    for _ in range(50):
        if '<span class="status-accepted">accepted</span>' in page.content():
            break
        page.wait_for_timeout(100)
        page.reload()
    assert '<span class="status-accepted">accepted</span>' in page.content() and "201 Created" in page.content()
    shot(page, "07-lead-replayed")
    for path, name in (("/admin/plugins", "08-plugins"), ("/admin/exports/new?transport=sftp", "09-export-form"),
                       ("/admin/deliveries/new?channel=sms", "10-sms-form")):
        page.goto(f"{server.url}{path}")
        shot(page, name)
    page.close()


def test_buyer_downloads_only_its_own_file(browser, server, tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    config = tmp_path / "hub.toml"
    config.write_text(f"""
[[sources]]
slug = "form"
fields = [{{ name = "email", type = "email" }}]
[[buyers]]
slug = "acme"
[[buyers]]
slug = "globex"
[[exports]]
slug = "daily"
buyer = "acme"
sources = ["form"]
schedule = "0 9 * * *"
transport = "directory"
filename = "acme-leads.csv"
[exports.config]
path = "{outbox}"
""")
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path)}

    def cli(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "hub.cli", *args], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    cli("apply", str(config))
    httpx.post(f"{server.url}/webhooks/form", json={"email": "ann@example.com"})
    run_id = cli("exports", "run", "daily").split()[1].rstrip(":")
    acme_link = cli("buyers", "invite", "acme", "ops@acme.example").strip().splitlines()[-1]
    globex_link = cli("buyers", "invite", "globex", "ops@globex.example").strip().splitlines()[-1]
    path = "/" + acme_link.split("/", 3)[3]

    page = browser.new_page()
    page.goto(f"{server.url}{path}")
    page.fill("input[name=password]", "a long password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=acme-leads.csv")
    shot(page, "11-buyer-files")
    with page.expect_download() as download:
        page.click("text=acme-leads.csv")
    assert Path(download.value.path()).read_text().startswith("email")
    page.close()

    other = browser.new_context().new_page()
    other.goto(f"{server.url}/" + globex_link.split("/", 3)[3])
    other.fill("input[name=password]", "another long password")
    other.click("button[type=submit]")
    other.wait_for_selector("text=No files")
    response = other.goto(f"{server.url}/downloads/{run_id}")
    assert response.status == 404
    shot(other, "12-other-buyer-refused")
