"""Alerts: cooldown and lock filtering by hand, then a real offline dry-run bot whose webhook
posts to a receiver on 127.0.0.1: one regime message at start, one message per guard lock."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from freqtrade.exceptions import OperationalException

from plugins.integration import alerts
from plugins.integration.alerts import Alerter, AlertSettings
from plugins.quant.regime import REGIMES
from tests.test_ops_lock import API_SECRETS, start_bot, stop, wait_for
from tests.test_ops_metrics import free_port


class Sink:
    def __init__(self):
        self.messages = []

    def send_msg(self, message, *, always_send=False):
        self.messages.append(message)


class Strategy:
    def __init__(self):
        self.dp = Sink()


T0 = datetime(2025, 6, 1, tzinfo=UTC)


def test_cooldown_and_regime_changes_by_hand():
    strategy = Strategy()
    alerter = Alerter(strategy, AlertSettings({"pack_alerts": {"cooldown_minutes": 30}}))
    alerter.regime_seen("BTC/USDT", "BULL_TREND", 0.8, T0)
    alerter.regime_seen("BTC/USDT", "BULL_TREND", 0.9, T0 + timedelta(minutes=5))   # same
    alerter.regime_seen("BTC/USDT", "BEAR_TREND", 0.7, T0 + timedelta(minutes=10))  # in cooldown
    alerter.regime_seen("BTC/USDT", "BEAR_TREND", 0.7, T0 + timedelta(minutes=31))  # reported now
    alerter.regime_seen("BTC/USDT", "BEAR_TREND", 0.7, T0 + timedelta(minutes=70))  # unchanged
    assert strategy.dp.messages == [
        "Market regime of BTC/USDT: BULL_TREND (confidence 0.80)",
        "Market regime of BTC/USDT changed BULL_TREND -> BEAR_TREND (confidence 0.70)",
    ]


def test_only_locks_made_by_protection_runs_alert(monkeypatch):
    strategy = Strategy()
    monkeypatch.setattr(alerts, "_alerter", Alerter(strategy, AlertSettings({})))
    made = []
    lock_pair = alerts.lock_pair_alerting(lambda pair, until, reason, *, now, side: made.append(pair))
    run_protections = alerts.evaluating_protections(
        lambda reason: lock_pair("*", T0 + timedelta(hours=1), reason, now=T0, side="*"))

    lock_pair("ETH/USDT", T0, "manual /lock", now=T0, side="*")  # not from a protection
    run_protections("Drawdown 26.0% from peak equity >= 25%")
    run_protections("Drawdown 27.5% from peak equity >= 25%")  # same rule within the cooldown
    assert made == ["ETH/USDT", "*", "*"]  # every lock is still made
    assert strategy.dp.messages == [
        "Protection lock on all pairs (*) until 2025-06-01 01:00 UTC: "
        "Drawdown 26.0% from peak equity >= 25%"]


@pytest.mark.parametrize("settings, named", [
    ({"cooldown_minutes": -1}, "cooldown_minutes"),
    ({"enabled": "yes"}, "enabled"),
    ({"cooldown": 5}, '"pack_alerts" must be an object'),
])
def test_bad_settings_name_the_setting(settings, named):
    with pytest.raises(OperationalException, match=named):
        AlertSettings({"pack_alerts": settings})


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_real_bot_sends_one_regime_and_one_lock_message_to_a_webhook(tmp_user_data, tmp_path):
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = tmp_path / "alerts.json"
    config.write_text(json.dumps({
        "force_entry_enable": True,
        "entry_pricing": {"use_order_book": False},  # offline mode serves tickers, not order books
        "webhook": {"enabled": True, "format": "json", "allow_custom_messages": True,
                    "url": f"http://127.0.0.1:{server.server_address[1]}/hook",
                    "strategy_msg": {"msg": "{msg}"}},
        # every regime blocks, so a forced entry is refused by a guard lock whatever the data says
        "pack_protections": [{"method": "RegimeGuard", "pair": "BTC/USDT", "regimes": list(REGIMES)}],
        "pack_alerts": {"cooldown_minutes": 60},
    }))
    api_port = free_port()
    log = tmp_path / "bot.log"
    bot = start_bot(tmp_user_data, tmp_path / "t.sqlite", log, api_port=api_port, configs=(config,))
    messages = lambda: [m.get("msg", "") for m in Receiver.received]  # noqa: E731
    try:
        assert wait_for(lambda: any("Market regime of BTC/USDT" in m for m in messages()), bot, 150), \
            [line for line in log.read_text().splitlines() if "Outdated" not in line][-40:]
        from freqtrade_client import FtRestClient

        client = FtRestClient(f"http://127.0.0.1:{api_port}",
                              API_SECRETS["FREQTRADE__API_SERVER__USERNAME"],
                              API_SECRETS["FREQTRADE__API_SERVER__PASSWORD"])
        client.forceenter("ETH/USDT", "long")
        assert wait_for(lambda: any("Protection lock" in m for m in messages()), bot, 60), \
            (messages(), log.read_text()[-3000:])
        client.forceenter("SOL/USDT", "long")  # all pairs already locked: no second lock
        time.sleep(12)  # two more bot loops (process_throttle_secs 5)
        assert client.locks()["lock_count"] == 1
        assert client.status() == []  # neither forced entry opened a trade
    finally:
        stop(bot)
        server.shutdown()
    regime = [m for m in messages() if "Market regime" in m]
    locks = [m for m in messages() if "Protection lock" in m]
    assert len(regime) == 1 and len(locks) == 1, messages()
    assert locks[0].startswith("Protection lock on all pairs (*) until ")
    assert "BTC/USDT regime" in locks[0]


def test_start_up_hook_wraps_freqtrades_protection_runs_and_lock_creation():
    """In a fresh interpreter, importing freqtrade's ProtectionManager installs the alert hooks."""
    import subprocess
    import sys

    code = ("from freqtrade.plugins.protectionmanager import ProtectionManager\n"
            "from freqtrade.persistence import PairLocks\n"
            "print(getattr(ProtectionManager.global_stop, '_pack_alerts', False),"
            " getattr(ProtectionManager.stop_per_pair, '_pack_alerts', False),"
            " getattr(PairLocks.lock_pair, '_pack_alerts', False))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True", "True", "True"], result.stderr[-2000:]
