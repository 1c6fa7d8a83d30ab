"""FreqUI's API server refuses missing or placeholder credentials with one clear line."""

import json

import pytest

from freqtrade.exceptions import OperationalException

from plugins.integration.api_guard import check_api_credentials, credential_problem
from tests.conftest import CONFIG, error_lines, run_freqtrade


GOOD = {"enabled": True, "username": "trader", "password": "s3cret",
        "jwt_secret_key": "f" * 32}


def test_committed_config_holds_no_secrets():
    api = json.loads(CONFIG.read_text())["api_server"]
    assert api["listen_ip_address"] == "127.0.0.1"
    assert api["username"] == "" and api["password"] == ""
    assert "CHANGE-ME" in api["jwt_secret_key"]
    assert credential_problem(api) is not None


def test_real_credentials_pass():
    assert credential_problem(GOOD) is None
    assert credential_problem({**GOOD, "enabled": False, "password": ""}) is None


@pytest.mark.parametrize(
    "change, missing",
    [({"password": ""}, "password"), ({"username": " "}, "username"),
     ({"jwt_secret_key": "short"}, "jwt_secret_key"),
     ({"jwt_secret_key": "somethingRandomSomethingRandom123"}, "jwt_secret_key")],
)
def test_each_missing_credential_is_named(change, missing):
    problem = credential_problem({**GOOD, **change})
    assert problem is not None and missing in problem
    with pytest.raises(OperationalException, match=missing):
        check_api_credentials({"api_server": {**GOOD, **change}})


def test_webserver_without_credentials_stops_with_one_line():
    result = run_freqtrade("webserver", "--config", str(CONFIG), "--userdir", "user_data",
                           timeout=120)
    errors = error_lines(result.stdout + result.stderr)
    assert result.returncode != 0
    assert len(errors) == 1, errors
    assert "FREQTRADE__API_SERVER__PASSWORD" in errors[0]
