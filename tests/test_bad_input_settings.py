"""The validation path itself (plugins/integration/settings.py), on hand-written cases."""

import pytest
from freqtrade.exceptions import ConfigurationError, OperationalException

from plugins.integration.settings import (
    Setting,
    closest_name,
    pairlist_settings,
    validate_settings,
)


SCHEMA = {
    "max_drawdown": Setting("number", 0.2, minimum=0, maximum=1, exclusive_minimum=True,
                            exclusive_maximum=True),
    "max_loss_streak": Setting("integer", None, minimum=1, nullable=True),
    "direction": Setting("option", "up", options=("up", "any")),
}


def test_defaults_fill_in_and_given_values_pass_through():
    assert validate_settings("X", {"method": "X", "max_loss_streak": 3}, SCHEMA, where="w") == {
        "max_drawdown": 0.2, "max_loss_streak": 3, "direction": "up"}


@pytest.mark.parametrize("values, message", [
    ({"max_drawdwn": 0.1}, "X: unknown parameter 'max_drawdwn' (did you mean 'max_drawdown'?); "
                           "valid: direction, max_drawdown, max_loss_streak, method. Fix it in w."),
    ({"zzz": 1}, "X: unknown parameter 'zzz'; valid: direction, max_drawdown, max_loss_streak, "
                 "method. Fix it in w."),
    ({"max_drawdown": 1}, "X: max_drawdown must be a number in (0, 1), got 1. Fix it in w."),
    ({"max_drawdown": float("nan")}, "max_drawdown must be a number in (0, 1), got nan"),
    ({"max_drawdown": "0.1"}, "got '0.1'"),
    ({"max_loss_streak": 2.0}, "max_loss_streak must be an integer >= 1 or null to switch it off"),
    ({"max_loss_streak": True}, "got True"),
    ({"direction": "down"}, "direction must be one of ['up', 'any'], got 'down'"),
])
def test_bad_values_are_one_line_operational_errors(values, message):
    with pytest.raises(OperationalException) as caught:
        validate_settings("X", values, SCHEMA, where="w")
    text = str(caught.value)
    assert message in text and "\n" not in text
    # Not ConfigurationError: freqtrade's main would exit 0 on that (freqtrade/main.py).
    assert not isinstance(caught.value, ConfigurationError)


def test_null_switches_off_only_nullable_settings():
    assert validate_settings("X", {"max_loss_streak": None}, SCHEMA, where="w")["max_loss_streak"] is None
    with pytest.raises(OperationalException, match="max_drawdown must be"):
        validate_settings("X", {"max_drawdown": None}, SCHEMA, where="w")


def test_closest_name_is_none_when_nothing_is_close():
    assert closest_name("max_corelation", ["max_correlation", "cluster_correlation"]) == "max_correlation"
    assert closest_name("foo", ["max_correlation"]) is None


def test_timeframe_setting_uses_freqtrade_timeframes():
    tf = Setting("timeframe")
    assert tf.is_valid("4h") and tf.is_valid("1d")
    assert not tf.is_valid("7x") and not tf.is_valid(60) and not tf.is_valid("")


def test_pairlist_refinements_cannot_drift_from_available_parameters():
    parameters = {"number_assets": {"type": "number", "default": 20}}
    settings = pairlist_settings(parameters, {"number_assets": {"kind": "integer", "minimum": 1}})
    assert settings["number_assets"] == Setting("integer", 20, minimum=1)
    with pytest.raises(ValueError, match="missing from available_parameters"):
        pairlist_settings(parameters, {"numer_assets": {"minimum": 1}})


def test_setting_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="kind must be one of"):
        Setting("float")
