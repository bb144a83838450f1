"""Settings, read once from the environment into one frozen object.

Every other module receives a :class:`Settings`; nothing else reads the environment. The table in
docs/settings.md is generated from :data:`SETTINGS` (``python -m survey.settings``) and a test
fails when the two disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from survey.questionnaire import ROLE_CODES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'instance' / 'survey.sqlite3'}"


def _setting(default: Any, env: str, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class Settings:
    database_url: str = _setting(
        DEFAULT_DATABASE_URL, "DATABASE_URL",
        "SQLAlchemy URL of the survey store. Default: an SQLite file under `instance/`.")
    min_cell_size: int = _setting(
        10, "MIN_CELL_SIZE",
        "Smallest group whose answers any public view may show.")
    refresh_seconds: float = _setting(
        5.0, "REFRESH_SECONDS",
        "How often open pages ask whether the store has changed.")
    embed_refresh_seconds: float = _setting(
        60.0, "EMBED_REFRESH_SECONDS",
        "How often a live embed in an article checks for new data (and how long proxies may "
        "cache it).")
    release_interval_seconds: float = _setting(
        10.0, "RELEASE_INTERVAL_SECONDS",
        "Least time between two releases of the public figures, and how often a worker checks "
        "whether a new one can be made; 0: workers never publish (`python -m data_loaders "
        "publish` does).")
    pooled_roles: str = _setting(
        "", "POOLED_ROLES",
        "Role codes, comma-separated, published only inside the pooled group whatever their "
        "numbers (\"no answer\" always is). A role may be added once fieldwork has begun, never "
        "taken out.")
    pool_after: int = _setting(
        500, "POOL_AFTER",
        "Once this many responses are published, a role none of whose responses has been "
        "published yet joins the pooled group, for good.")
    frozen_embed_limit: int = _setting(
        10_000, "FROZEN_EMBED_LIMIT",
        "Most frozen embeds the store keeps; past it, freezing is refused with a message.")
    freeze_rate_per_minute: int = _setting(
        10, "FREEZE_RATE_PER_MINUTE",
        "Frozen embeds a client may make per minute (per worker) before getting 429.")
    demo_responses: int = _setting(
        1500, "DEMO_RESPONSES",
        "Demo responses written when the app starts on an empty store (0: none).")
    ingest_token: str = _setting(
        "", "INGEST_TOKEN",
        "Bearer token that POST /api/v1/responses requires; empty: ingestion switched off. "
        "A secret: set it in the environment only.")
    ingest_max_bytes: int = _setting(
        1_000_000, "INGEST_MAX_BYTES", "Largest request body the ingestion API reads.")
    ingest_max_batch: int = _setting(
        500, "INGEST_MAX_BATCH", "Most responses in one ingestion request.")
    ingest_rate_per_minute: int = _setting(
        600, "INGEST_RATE_PER_MINUTE",
        "Ingestion requests a client may make per minute (per worker) before getting 429.")
    proxy_count: int = _setting(
        0, "PROXY_COUNT",
        "How many reverse proxies (nginx, a load balancer) stand in front of the app; their "
        "X-Forwarded-For is then trusted to tell the client's address.")
    researcher_user: str = _setting(
        "", "RESEARCHER_USER",
        "User name for the researchers' private view (/private); empty: the view is off.")
    researcher_password_hash: str = _setting(
        "", "RESEARCHER_PASSWORD_HASH",
        "Hash of that user's password, from `python -m dashboard.private hash`. Never the "
        "password itself.")
    secret_key: str = _setting(
        "", "SECRET_KEY",
        "Signs the private view's session cookie; the same on every worker and host. A secret: "
        "set it in the environment only. Required for the private view.")
    host: str = _setting("127.0.0.1", "HOST", "Address the development server listens on.")
    port: int = _setting(8050, "PORT", "Port the development server listens on.")
    debug: bool = _setting(False, "DEBUG", "Dash debug mode for the development server.")

    def __post_init__(self) -> None:
        if self.min_cell_size < 1:
            raise SystemExit(f"MIN_CELL_SIZE must be at least 1, not {self.min_cell_size}")
        if self.refresh_seconds <= 0 or self.embed_refresh_seconds <= 0:
            raise SystemExit("REFRESH_SECONDS and EMBED_REFRESH_SECONDS must be positive")
        if self.release_interval_seconds < 0:
            raise SystemExit("RELEASE_INTERVAL_SECONDS must be 0 or more")
        unknown = sorted(set(self.pooled_role_codes) - set(ROLE_CODES))
        if unknown:
            raise SystemExit(f"POOLED_ROLES names unknown role code(s): {', '.join(unknown)}; "
                             f"known codes: {', '.join(ROLE_CODES)}")

    @property
    def pooled_role_codes(self) -> tuple[str, ...]:
        return tuple(code.strip() for code in self.pooled_roles.split(",") if code.strip())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults, then the environment, then explicit overrides (for tests)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, type(f.default), raw)
        settings = cls(**values)
        return replace(settings, **overrides) if overrides else settings


def _parse(name: str, kind: type, raw: str) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        return kind(raw)
    except ValueError:
        env = next(f.metadata["env"] for f in fields(Settings) if f.name == name)
        raise SystemExit(f"{env}={raw!r} is not a valid {kind.__name__}") from None


SETTINGS = fields(Settings)


def settings_table() -> str:
    """The Markdown table of every setting, for docs/settings.md."""
    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for f in SETTINGS:
        default = "`instance/survey.sqlite3`" if f.name == "database_url" else f"`{f.default}`"
        lines.append(f"| `{f.metadata['env']}` | {default} | {f.metadata['doc']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_table(), end="")
