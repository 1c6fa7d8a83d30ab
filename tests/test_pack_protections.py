"""Protections from config.json's "pack_protections", else the strategy's defaults."""

import pytest

from freqtrade.exceptions import OperationalException

from plugins.strategy.pack_protections import DEFAULT_PROTECTIONS, ConfiguredProtections


class Strategy(ConfiguredProtections):
    def __init__(self, config):
        self.config = config


class OwnDefaults(Strategy):
    default_protections = [{"method": "RegimeGuard"}]


def test_defaults_when_config_is_silent():
    assert Strategy({}).protections == DEFAULT_PROTECTIONS
    assert OwnDefaults({}).protections == [{"method": "RegimeGuard"}]


def test_config_overrides_defaults_and_is_copied():
    configured = [{"method": "DrawdownGuard", "max_drawdown": 0.1}]
    protections = Strategy({"pack_protections": configured}).protections
    assert protections == configured
    protections[0]["max_drawdown"] = 0.5
    assert configured[0]["max_drawdown"] == 0.1


def test_empty_list_turns_protections_off():
    assert OwnDefaults({"pack_protections": []}).protections == []


@pytest.mark.parametrize("bad", [{"method": "DrawdownGuard"}, [{"max_drawdown": 0.1}], ["DrawdownGuard"]])
def test_malformed_setting_is_one_clear_error(bad):
    with pytest.raises(OperationalException, match='"pack_protections" in the config must be a list'):
        Strategy({"pack_protections": bad}).protections
