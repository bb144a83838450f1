"""The documentation says what the code does: settings, the README's commands, CI."""

from __future__ import annotations

import re
from pathlib import Path

from survey.settings import SETTINGS, Settings, settings_table

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented():
    for doc in ("settings.md", "deploy.md"):
        documented = (ROOT / "docs" / doc).read_text(encoding="utf-8")
        assert settings_table() in documented, f"regenerate docs/{doc}'s table: python -m survey.settings"
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert re.search(rf"^{setting.metadata['env']}=", example, re.M), setting.name


def test_settings_come_from_the_environment_and_refuse_nonsense():
    settings = Settings.from_env({"MIN_CELL_SIZE": "20", "DEBUG": "yes", "REFRESH_SECONDS": "2.5"})
    assert (settings.min_cell_size, settings.debug, settings.refresh_seconds) == (20, True, 2.5)
    try:
        Settings.from_env({"MIN_CELL_SIZE": "ten"})
    except SystemExit as error:
        assert "MIN_CELL_SIZE='ten' is not a valid int" in str(error)
    else:
        raise AssertionError("an invalid setting was accepted")


def readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", setup, re.S)


def test_readme_shows_exactly_two_set_up_commands_and_ci_runs_the_second():
    run, test = readme_commands()
    assert run.endswith("python app.py") and "requirements.txt" in run
    assert test.endswith("python -m tests") and "requirements-dev.txt" in test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()
