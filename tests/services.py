"""The system services the tests need: finding, installing and running them.

``python -m tests`` installs what is missing from Debian's packages (see :func:`ensure_installed`);
the pytest fixtures in ``conftest.py`` start a throwaway PostgreSQL server with
:class:`PostgresServer`, so that ``python -m pytest`` works too wherever PostgreSQL is installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TEST_DATABASE_URL = "TEST_DATABASE_URL"
"""Environment variable: a PostgreSQL server to use instead of starting one, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres`` (the database named is only used to
create and drop one database per test)."""

PG_USER = "postgres"


class ServiceUnavailable(RuntimeError):
    """A service the tests need is not installed or would not start; the message says why."""


# --- Finding and installing --------------------------------------------------------------------


def pg_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl, or None when PostgreSQL is not installed.

    Debian keeps them under /usr/lib/postgresql/VERSION/bin, off the PATH; the newest wins.
    """
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).resolve().parent)):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: _version_key(Path(p).parent.parent.name), reverse=True)
    for initdb in candidates:
        bindir = Path(initdb).parent
        if (bindir / "pg_ctl").exists():
            return bindir
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def missing_packages(*, need_postgres: bool = True) -> list[str]:
    """Debian packages whose programs the tests need and this machine lacks."""
    missing = []
    if not shutil.which("chromium"):
        missing.append("chromium")
    if not shutil.which("chromedriver"):
        missing.append("chromium-driver")
    if need_postgres and pg_bindir() is None:
        missing.append("postgresql")
    if nginx_program() is None:
        missing.append("nginx")
    if not shutil.which("openssl"):
        missing.append("openssl")
    return missing


def nginx_program() -> str | None:
    """nginx, which Debian installs in /usr/sbin (off a normal user's PATH)."""
    return shutil.which("nginx") or next(
        (str(path) for path in (Path("/usr/sbin/nginx"),) if path.exists()), None)


def install_packages(packages: list[str]) -> None:
    """``apt-get update`` once, then install ``packages``; needs root."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"],
                    ["apt-get", "install", "-y", *packages]):
        print("+", " ".join(command), flush=True)
        result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise ServiceUnavailable(f"{' '.join(command)} failed with exit code "
                                     f"{result.returncode}")


def ensure_installed() -> None:
    """Install the system packages the tests need when they are missing (as root only)."""
    missing = missing_packages(need_postgres=not os.environ.get(TEST_DATABASE_URL))
    if not missing:
        return
    if os.geteuid() != 0:
        raise ServiceUnavailable(
            f"the tests need these Debian packages, which are not installed: {' '.join(missing)}. "
            f"Install them (sudo apt-get install {' '.join(missing)}) or run the tests as root, "
            f"which installs them; for PostgreSQL you may instead point {TEST_DATABASE_URL} at "
            "a server you run.")
    install_packages(missing)
    still = missing_packages(need_postgres=not os.environ.get(TEST_DATABASE_URL))
    if still:
        raise ServiceUnavailable(f"installed {' '.join(missing)} but still missing: "
                                 f"{' '.join(still)}")


# --- A throwaway PostgreSQL server -------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    """A cluster in a temporary directory, listening on 127.0.0.1 only, trusting everyone.

    Durability is switched off (fsync, synchronous commit): the data is thrown away anyway.
    Run as root, the server runs as the ``postgres`` user, since initdb refuses root.
    """

    bindir: Path
    root: Path
    port: int = 0

    @classmethod
    def start_new(cls) -> "PostgresServer":
        bindir = pg_bindir()
        if bindir is None:
            raise ServiceUnavailable(
                "PostgreSQL is not installed: no initdb on the PATH nor under "
                "/usr/lib/postgresql/*/bin. Run the tests with `python -m tests` as root (it "
                "installs Debian's postgresql package), install it yourself, or set "
                f"{TEST_DATABASE_URL} to a server's URL.")
        # A short path: the unix socket lives here too and its path may not exceed ~100 bytes.
        root = Path(tempfile.mkdtemp(prefix="survey-pg-", dir="/tmp" if Path("/tmp").is_dir()
                                     else None))
        server = cls(bindir=bindir, root=root)
        try:
            if os.geteuid() == 0:
                shutil.chown(root, user=PG_USER, group=None)
            server._initdb()
            server._start()
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = [str(self.bindir / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", PG_USER, "--", *argv]
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                cwd=self.root)
        if check and result.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise ServiceUnavailable(
                f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n"
                f"{result.stderr}\n{log}")
        return result

    def _initdb(self) -> None:
        self._run("initdb", "--pgdata", str(self.data), "--username", PG_USER, "--auth", "trust",
                  "--encoding", "UTF8", "--locale", "C", "--no-sync")

    def pause(self) -> None:
        """Stop the server, keeping its data, as an outage would."""
        self._run("pg_ctl", "--pgdata", str(self.data), "--mode", "fast", "--wait", "stop")

    def resume(self) -> None:
        """Start the paused server again, on the same port."""
        self._start(port=self.port)

    def _start(self, port: int | None = None) -> None:
        options = " ".join([
            "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={self.root}",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=200",
            # Not UTC, and not UTC in any season: code that takes the server's wall clock for
            # UTC fails the tests instead of passing by the accident of the server's setting.
            "-c timezone=Asia/Kolkata", "-c log_timezone=UTC",
        ])
        for attempt in range(5):
            self.port = port or free_port()
            result = self._run("pg_ctl", "--pgdata", str(self.data), "--log", str(self.log),
                               "--wait", "--timeout", "60",
                               "-o", f"-p {self.port} {options}", "start", check=False)
            if result.returncode == 0:
                return
            time.sleep(0.2 * (attempt + 1))  # most likely the port was taken meanwhile
        log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
        raise ServiceUnavailable(f"PostgreSQL would not start:\n{result.stdout}\n{result.stderr}"
                                 f"\n{log}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "--pgdata", str(self.data), "--mode", "immediate", "--wait",
                      "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
