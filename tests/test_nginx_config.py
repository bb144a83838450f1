"""deploy/nginx.conf, once its per-machine names are filled in as docs/deploy.md says, is a
configuration nginx accepts; benchmarks/proxy_cache.py runs this very file."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks.proxy_cache import NGINX_SITE, PLACEHOLDER, local_nginx, render_site

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or next(
    (str(path) for path in (Path("/usr/sbin/nginx"),) if path.exists()), None)


def names() -> set[str]:
    return set(PLACEHOLDER.findall(NGINX_SITE.read_text(encoding="utf-8")))


def test_deploy_md_fills_in_every_name_the_file_has():
    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "deploy/nginx.conf" in deploy
    envsubst = re.search(r"^envsubst '([^']*)'", deploy, re.MULTILINE)
    assert envsubst, "docs/deploy.md shows the envsubst command"
    assert set(envsubst.group(1).replace("$", "").split()) == names()
    for name in names():
        assert re.search(rf"\b{name}=", deploy), f"docs/deploy.md gives no example of {name}"


def test_rendering_fills_in_every_name_and_refuses_missing_or_unknown_ones():
    values = {name: f"value-of-{name.lower()}" for name in names()}
    rendered = render_site(values)
    assert PLACEHOLDER.search(rendered) is None
    assert all(value in rendered for value in values.values())
    with pytest.raises(ValueError):
        render_site({name: "x" for name in sorted(names())[1:]})
    with pytest.raises(ValueError):
        render_site({**values, "SURVEY_UNKNOWN": "x"})


@pytest.mark.skipif(NGINX is None or shutil.which("openssl") is None,
                    reason="needs nginx and openssl (python -m tests installs them as root)")
def test_nginx_accepts_the_rendered_configuration(tmp_path):
    prefix = tmp_path / "nginx"
    config = local_nginx(prefix, listen="127.0.0.1:8443 ssl http2", upstream="127.0.0.1:8050")
    result = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
