"""The admin pages through the real app: sign-in, every page, saving through the same rules as `apply`."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from hub.accounts.admins import create_admin
from hub.testing.hub import add_delivery, wait_until

PASSWORD = "correct horse battery"


def csrf(client: TestClient, path: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text).group(1)


@pytest.fixture
def admin(hub, client):  # type: ignore[no-untyped-def]
    create_admin(hub.engine, "boss@example.com", PASSWORD)
    answer = client.post("/admin/login", data={"_csrf_token": csrf(client, "/admin/login"), "email": "boss@example.com",
                                               "password": PASSWORD, "next": "/admin"}, follow_redirects=False)
    assert answer.status_code in (302, 303)
    return client


def test_every_admin_page_needs_a_signed_in_admin(client):
    for path in ("/admin", "/admin/leads", "/admin/sources", "/admin/sources/new", "/admin/deliveries",
                 "/admin/deliveries/new", "/admin/exports", "/admin/plugins", "/admin/buyers", "/admin/leads/1"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code in (302, 303) and answer.headers["location"].startswith("/admin/login"), path


def test_sign_in_is_throttled(hub, client):
    create_admin(hub.engine, "boss@example.com", PASSWORD)
    token = csrf(client, "/admin/login")
    codes = [client.post("/admin/login", data={"_csrf_token": token, "email": "boss@example.com",
                                               "password": "wrong password"}).status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429


def test_pages_render(admin):
    for path in ("/admin", "/admin/leads", "/admin/sources", "/admin/sources/new", "/admin/deliveries",
                 "/admin/deliveries/new", "/admin/deliveries/new?channel=http_post", "/admin/deliveries/new?channel=sms",
                 "/admin/exports", "/admin/exports/new", "/admin/exports/new?transport=sftp", "/admin/plugins",
                 "/admin/buyers", "/admin/exports/schedule-preview?schedule=0+9+*+*+MON&timezone=Europe/London"):
        answer = admin.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])


def test_a_delivery_is_saved_through_the_generated_form_with_errors_per_field(admin, hub):
    token = csrf(admin, "/admin/deliveries/new?channel=http_post")
    bad = admin.post("/admin/deliveries/save", data={
        "_csrf_token": token, "channel": "http_post", "is_new": "1", "slug": "acme", "sources": "form",
        "config.url": "ftp://nope", "config.method": "POST", "config.format": "json", "config.timeout_seconds": "-1",
        "config.auth": "basic", "config.auth@basic.username": "hub", "config.auth@basic.password": "pw-SECRET",
        "map_target": "Email", "map_kind": "source", "map_value": "email", "map_transforms": "lower"})
    assert bad.status_code == 400 and "Not saved" in bad.text
    assert "config.url" not in bad.text or "https?" in bad.text
    good = admin.post("/admin/deliveries/save", data={
        "_csrf_token": token, "channel": "http_post", "is_new": "1", "slug": "acme", "sources": "form",
        "enabled": "on", "config.url": "http://127.0.0.1:9/leads", "config.method": "POST", "config.format": "json",
        "config.timeout_seconds": "5", "config.auth": "basic", "config.auth@basic.username": "hub",
        "config.auth@basic.password": "pw-SECRET", "map_target": "Email", "map_kind": "source", "map_value": "email",
        "map_transforms": "lower"}, follow_redirects=False)
    assert good.status_code in (302, 303), good.text[:2000]
    page = admin.get("/admin/deliveries/acme").text
    assert "pw-SECRET" not in page and "Saved." in page


def test_live_preview_and_sms_segment_count(admin, hub):
    token = csrf(admin, "/admin/deliveries/new?channel=sms")
    preview = admin.post("/admin/deliveries/preview", headers={"X-CSRFToken": token}, data={
        "channel": "sms", "sources": "form", "config": "twilio", "config@twilio.body": "Hi {{ first_name }}",
        "map_target": "Name", "map_kind": "template", "map_value": "{{ first_name | upper }}", "map_transforms": ""})
    assert preview.status_code == 200 and "SAMPLE" in preview.text and "GSM-7 segment" in preview.text


def test_lead_page_shows_attempts_and_replays(admin, hub, post, recorder):
    add_delivery(hub, "picky", sources=["form"], channel="recorder", config={"outcomes": ["rejected", "accepted"]})
    lead_id = post({"first_name": "Ann", "email": "ann@example.com"}).json()["lead_id"]
    wait_until(lambda: "rejected" in admin.get(f"/admin/leads/{lead_id}").text)
    token = csrf(admin, f"/admin/leads/{lead_id}")
    dispatch_id = re.search(rf"/admin/leads/{lead_id}/replay/(\d+)", admin.get(f"/admin/leads/{lead_id}").text).group(1)
    admin.post(f"/admin/leads/{lead_id}/replay/{dispatch_id}", data={"_csrf_token": token})
    wait_until(lambda: "buyer id r-" in admin.get(f"/admin/leads/{lead_id}").text)
    listing = admin.get("/admin/leads?text=ann%40example").text
    assert f"#{lead_id}" in listing


def test_a_bad_buyer_is_refused_next_to_the_field_and_the_list_stays(admin, hub):
    token = csrf(admin, "/admin/buyers")
    assert admin.post("/admin/buyers", data={"_csrf_token": token, "slug": "acme", "name": "Acme"},
                      follow_redirects=False).status_code in (302, 303)
    bad = admin.post("/admin/buyers", data={"_csrf_token": token, "slug": "globex", "contact_email": "nope"})
    assert bad.status_code == 400 and "@-sign" in bad.text and "Acme" in bad.text
