"""The researchers' private view: nothing without the login; with it, the quarantine, the imports
and the data-quality figures."""

from __future__ import annotations

import re

import pytest
from werkzeug.security import generate_password_hash

from data_loaders import store
from data_loaders.bootstrap import open_store
from data_loaders.db import WRITE
from tests.dashboard_support import FIXTURE, add_and_publish, build_app, responses

USER, PASSWORD = "researcher", "a long enough password"
PRIVATE_PATHS = ["/private/", "/private/quarantine", "/private/quarantine?page=2"]


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = open_store(url)
    add_and_publish(engine, responses(FIXTURE))
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.quarantine(connection, "test", [store.Rejected(
            7, {"viewed_profile": "Maybe"},
            "question 3 (viewed_profile): 'Maybe' is not one of: Yes, No")],
            file_name="export.csv")
    return build_app(url, researcher_user=USER, researcher_password_hash=generate_password_hash(
        PASSWORD), secret_key="test-secret-key-not-for-production")


def log_in(client, password=PASSWORD):
    page = client.get("/private/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post("/private/login", data={"user": USER, "password": password, "csrf": csrf})


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_nothing_is_reachable_without_logging_in(app, path):
    client = app.server.test_client()
    response = client.get(path)
    assert response.status_code == 302 and "/private/login" in response.headers["Location"]
    assert log_in(client, "wrong password").status_code == 401
    assert client.get(path).status_code == 302


def test_logged_in_researchers_see_quarantine_imports_and_quality(app):
    client = app.server.test_client()
    reply = log_in(client)
    assert reply.status_code == 302
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/private" in cookie
    quality = client.get("/private/")
    assert quality.status_code == 200 and quality.headers["Cache-Control"] == "no-store"
    text = quality.get_data(as_text=True)
    # Question 2 left blank by 2 of 47; question 6 asked of the 17 aware (12 + 3 + 2), none blank.
    assert "<td>Q2 uses_social_media</td><td>47</td><td>2</td><td>4.3%</td>" in text
    assert "<td>Q6 confident_guidance</td><td>17</td><td>0</td><td>0.0%</td>" in text
    # What is published and what waits (see FIXTURE): 42 by one release; 3 + 2 = 5 waiting.
    published = re.search(r'<p id="releases">([^<]+)</p>', text).group(1)
    assert published.startswith("42 responses published in 1 release, the latest at ")
    assert "; 5 waiting until they can be published" in published
    quarantine = client.get("/private/quarantine").get_data(as_text=True)
    assert "export.csv, line 7" in quarantine and "&#39;Maybe&#39; is not one of" in quarantine


def test_the_cookie_is_secure_over_https(app):
    client = app.server.test_client()
    page = client.get("/private/login", base_url="https://localhost").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    reply = client.post("/private/login", base_url="https://localhost",
                        data={"user": USER, "password": PASSWORD, "csrf": csrf})
    assert "Secure" in reply.headers["Set-Cookie"]


def test_a_login_without_the_form_token_is_refused(app):
    client = app.server.test_client()
    reply = client.post("/private/login", data={"user": USER, "password": PASSWORD})
    assert reply.status_code == 400


def test_the_view_is_off_without_credentials(tmp_path):
    client = build_app(f"sqlite:///{tmp_path / 'store.sqlite3'}").server.test_client()
    assert client.get("/private/").status_code == 404
    assert client.get("/private/login").status_code == 404
