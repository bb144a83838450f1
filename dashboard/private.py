"""The researchers' private view: quarantine, import history and data-quality figures.

Behind a login whose credentials come from the environment (a user name and a password hash,
never the password). Every page of it, and every file under it, requires the login; the session
cookie is HttpOnly, SameSite=Strict, and Secure whenever the request came over HTTPS. The view
is off (404) unless a user, a password hash and a secret key are all set.

``python -m dashboard.private hash`` asks for a password and prints the hash to set as
RESEARCHER_PASSWORD_HASH.
"""

from __future__ import annotations

import functools
import getpass
import hmac
import secrets
import sys

from flask import (Blueprint, Flask, abort, redirect, render_template, request, session,
                   url_for)
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.context import services
from dashboard.ingest import RateLimiter
from data_loaders import quality, releases

PAGE_SIZE = 100
blueprint = Blueprint("private", __name__, url_prefix="/private", template_folder="templates")
_login_attempts = RateLimiter(per_minute=10)


class _SessionInterface(SecureCookieSessionInterface):
    """Secure cookies exactly when the request came over HTTPS (behind a proxy too, with
    PROXY_COUNT set), so that the login also works on a laptop's plain http://127.0.0.1."""

    def get_cookie_secure(self, app) -> bool:
        return request.is_secure


def _enabled() -> bool:
    settings = services().settings
    return bool(settings.researcher_user and settings.researcher_password_hash
                and settings.secret_key)


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def _check_csrf() -> None:
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(request.form.get("csrf", ""), expected):
        abort(400, "the form has expired; reload the page and try again")


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not _enabled():
            abort(404)
        if session.get("researcher") != services().settings.researcher_user:
            return redirect(url_for("private.login", next=request.path))
        return view(*args, **kwargs)
    return wrapped


@blueprint.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if not _enabled():
        abort(404)
    error = None
    if request.method == "POST":
        _check_csrf()
        if _login_attempts.wait_needed(request.remote_addr or "unknown"):
            abort(429)
        settings = services().settings
        user_ok = hmac.compare_digest(request.form.get("user", "").encode(),
                                      settings.researcher_user.encode())
        password_ok = check_password_hash(settings.researcher_password_hash,
                                          request.form.get("password", ""))
        if user_ok and password_ok:
            session.clear()
            session["researcher"] = settings.researcher_user
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/private/") else url_for("private.index"))
        error = "That user name and password do not match."
    return render_template("private_login.html", error=error, csrf=_csrf_token()), \
        401 if error else 200


@blueprint.post("/logout")
@login_required
def logout():
    _check_csrf()
    session.clear()
    return redirect(url_for("private.login"))


@blueprint.get("/")
@login_required
def index():
    with services().live.engine.connect() as connection:
        figures = {
            "nonresponse": quality.item_nonresponse(connection),
            "imports": quality.import_history(connection, limit=50),
            "totals": quality.import_totals(connection),
            "sources": quality.responses_by_source(connection),
            "hours": quality.submissions_by_hour(connection),
            "releases": releases.status(connection),
        }
    return render_template("private_index.html", csrf=_csrf_token(), **figures)


@blueprint.get("/quarantine")
@login_required
def quarantine():
    page = max(1, request.args.get("page", 1, type=int))
    with services().live.engine.connect() as connection:
        total, rows = quality.quarantine_page(connection, limit=PAGE_SIZE,
                                              offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("private_quarantine.html", rows=rows, total=total, page=page,
                           pages=pages, csrf=_csrf_token())


def register(server: Flask) -> None:
    settings = server.extensions["survey_dashboard"].settings
    if settings.secret_key:
        server.secret_key = settings.secret_key
    server.session_interface = _SessionInterface()
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                         SESSION_COOKIE_PATH="/private")
    server.register_blueprint(blueprint)


def main(argv: list[str]) -> int:
    if argv[:1] != ["hash"]:
        print("usage: python -m dashboard.private hash", file=sys.stderr)
        return 2
    password = getpass.getpass("Password for the private view: ")
    if len(password) < 12:
        print("Use at least 12 characters.", file=sys.stderr)
        return 1
    if getpass.getpass("Again: ") != password:
        print("The two do not match.", file=sys.stderr)
        return 1
    print(generate_password_hash(password))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
