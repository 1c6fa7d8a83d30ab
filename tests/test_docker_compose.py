"""docker-compose.yml: pinned official FreqAI image, pack installed on top, FreqUI on localhost."""

import yaml

from tests.conftest import REPO


COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICE = COMPOSE["services"]["freqtrade"]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def test_dockerfile_builds_on_pinned_freqai_image_and_installs_pack():
    assert "FROM freqtradeorg/freqtrade:2026.9_freqai" in DOCKERFILE
    assert "pip install --user --no-cache-dir --no-deps /tmp/pack" in DOCKERFILE
    assert SERVICE["build"]["dockerfile"] == "Dockerfile"


def test_user_data_mounted_and_ui_bound_to_localhost():
    assert "./user_data:/freqtrade/user_data" in SERVICE["volumes"]
    assert SERVICE["ports"] == ["127.0.0.1:8080:8080"]


def test_secrets_only_from_environment():
    env = SERVICE["environment"]
    for key in ("USERNAME", "PASSWORD", "JWT_SECRET_KEY"):
        assert env[f"FREQTRADE__API_SERVER__{key}"].startswith(f"${{FREQTRADE__API_SERVER__{key}:?")
    assert env["FREQTRADE__TELEGRAM__ENABLED"] == "${FREQTRADE__TELEGRAM__ENABLED:-false}"
    assert ".env" in (REPO / ".gitignore").read_text().split()
