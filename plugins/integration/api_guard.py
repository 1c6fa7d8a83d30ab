"""Refuse to start FreqUI's API server with missing or placeholder credentials.

The committed ``user_data/config.json`` holds no secrets: the API username, password and JWT secret
come from ``FREQTRADE__API_SERVER__USERNAME`` / ``__PASSWORD`` / ``__JWT_SECRET_KEY`` (freqtrade's
own environment-variable overrides). Stock freqtrade only warns when they are empty or default
(and an empty username/password pair then logs anyone in); the pack stops with one line instead.
"""

from typing import Any


ENV_HINT = (
    "set FREQTRADE__API_SERVER__USERNAME, FREQTRADE__API_SERVER__PASSWORD and "
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY (32+ random characters) in the environment"
)
PLACEHOLDER_MARK = "CHANGE-ME"
KNOWN_DEFAULT_SECRETS = {"super-secret", "somethingrandom", "somethingRandomSomethingRandom123"}


def credential_problem(api_config: dict[str, Any]) -> str | None:
    """What is wrong with the API credentials, or None when they are usable."""
    if not api_config.get("enabled", False):
        return None
    missing = [key for key in ("username", "password") if not str(api_config.get(key, "")).strip()]
    secret = str(api_config.get("jwt_secret_key", ""))
    if PLACEHOLDER_MARK in secret or secret in KNOWN_DEFAULT_SECRETS or len(secret) < 32:
        missing.append("jwt_secret_key")
    if not missing:
        return None
    return f"FreqUI API server has no real {', '.join(missing)}: {ENV_HINT}."


def check_api_credentials(config: dict[str, Any]) -> None:
    from freqtrade.exceptions import OperationalException

    if problem := credential_problem(config.get("api_server", {})):
        raise OperationalException(problem)
