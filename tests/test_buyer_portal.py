"""Buyers sign in and download only their own export files."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from hub.accounts.buyers import accept_invite, invite_buyer
from hub.export.runs import ExportRunner, run_now
from hub.testing.hub import add_export
from hub.web.app import create_app


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    return re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(client: TestClient, email: str, password: str, next_path: str = "/buyer"):  # type: ignore[no-untyped-def]
    token = csrf(client, "/buyer/login")
    return client.post("/buyer/login", data={"_csrf_token": token, "email": email, "password": password,
                                             "next": next_path}, follow_redirects=False)


@pytest.fixture
def client(hub):  # type: ignore[no-untyped-def]
    """No embedded scheduler here: the tests run the exports themselves and must not race it."""
    with TestClient(create_app(hub, embedded=False)) as client:
        yield client


@pytest.fixture
def files(hub, tmp_path):  # type: ignore[no-untyped-def]
    """One finished export file for buyer acme and one for buyer globex."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    runs = {}
    for buyer in ("acme", "globex"):
        add_export(hub, f"{buyer}-daily", buyer=buyer, sources=["form"], transport="directory",
                   config={"path": str(outbox)}, filename=f"{buyer}.csv")
        runs[buyer] = ExportRunner(hub).execute(run_now(hub, f"{buyer}-daily").id).id
        accept_invite(hub.engine, invite_buyer(hub.engine, buyer, f"ops@{buyer}.example"), "correct horse battery")
    return runs


def test_anonymous_visitors_are_sent_to_sign_in(client, files):
    for path in ("/buyer", f"/downloads/{files['acme']}"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code in (302, 303) and answer.headers["location"].startswith("/buyer/login")


def test_a_buyer_downloads_its_own_file_and_never_another(client, files):
    answer = sign_in(client, "ops@acme.example", "correct horse battery", f"/downloads/{files['acme']}")
    assert answer.status_code in (302, 303) and answer.headers["location"] == f"/downloads/{files['acme']}"
    mine = client.get(f"/downloads/{files['acme']}")
    assert mine.status_code == 200 and mine.text.startswith("first_name,email")
    assert "attachment" in mine.headers["content-disposition"]
    theirs = client.get(f"/downloads/{files['globex']}")
    assert theirs.status_code == 404 and "globex" not in theirs.text
    assert client.get("/downloads/999999").status_code == 404
    listing = client.get("/buyer").text
    assert "acme.csv" in listing and "globex.csv" not in listing


def test_wrong_password_and_forged_forms_are_refused(hub, client, files):
    assert sign_in(client, "ops@acme.example", "wrong password!").status_code == 401
    no_token = client.post("/buyer/login", data={"email": "ops@acme.example", "password": "correct horse battery"})
    assert no_token.status_code == 403
    assert sign_in(client, "ops@acme.example", "x", "https://evil.example/").status_code == 401


def test_open_redirects_are_not_followed(client, files):
    answer = sign_in(client, "ops@acme.example", "correct horse battery", "//evil.example/")
    assert answer.headers["location"] == "/buyer"


def test_invite_link_sets_the_password_once(hub, files):
    token = invite_buyer(hub.engine, "acme", "new@acme.example")
    with TestClient(create_app(hub, embedded=False)) as client:
        form = csrf(client, f"/buyer/welcome/{token}")
        short = client.post(f"/buyer/welcome/{token}", data={"_csrf_token": form, "password": "short"})
        assert short.status_code == 400 and "10 characters" in short.text
        ok = client.post(f"/buyer/welcome/{token}", data={"_csrf_token": form, "password": "a long enough pw"},
                         follow_redirects=False)
        assert ok.status_code in (302, 303)
        again = client.post(f"/buyer/welcome/{token}", data={"_csrf_token": form, "password": "another long pw"})
        assert again.status_code == 400 and "expired" in again.text
