"""``python -m tests``: the project's test command.

Installs the system services the tests need (Chromium, ChromeDriver, PostgreSQL, and nginx with
openssl for tests/test_nginx_config.py) from Debian's packages when they are missing and we are
root, then runs pytest with any arguments given. The PostgreSQL server itself is started by a
session fixture (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.services import ServiceUnavailable, ensure_installed, install_packages

NO_TESTS_COLLECTED = 5
PROXY_PACKAGES = {"nginx": "nginx", "openssl": "openssl"}
"""Programs tests/test_nginx_config.py uses (it is skipped without them) and their packages."""


def ensure_proxy_packages() -> None:
    """Install nginx and openssl when missing, as root only (nginx lives in /usr/sbin)."""
    missing = [package for program, package in PROXY_PACKAGES.items()
               if not shutil.which(program) and not Path("/usr/sbin", program).exists()]
    if missing and os.geteuid() == 0:
        install_packages(missing)


def main(argv: list[str]) -> int:
    try:
        ensure_installed()
        ensure_proxy_packages()
    except ServiceUnavailable as error:
        print(f"python -m tests: {error}", file=sys.stderr)
        return 2
    code = int(pytest.main(argv))
    if code == NO_TESTS_COLLECTED:
        print("python -m tests: no test ran; that is a failure.", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
