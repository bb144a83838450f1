"""``python -m tests``: the project's test command.

Installs the system services the tests need (Chromium, ChromeDriver, PostgreSQL, nginx and
openssl) from Debian's packages when they are missing and we are root, then runs pytest with any
arguments given. The PostgreSQL server itself is started by a
session fixture (tests/conftest.py).
"""

from __future__ import annotations

import sys

import pytest

from tests.services import ServiceUnavailable, ensure_installed

NO_TESTS_COLLECTED = 5

def main(argv: list[str]) -> int:
    try:
        ensure_installed()
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
