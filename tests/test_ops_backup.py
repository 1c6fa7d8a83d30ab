"""ftpack-backup: online copy of a trade database, secrets never archived, retention, restore
that freqtrade's own ``show-trades`` reads back with the same trades. Real processes throughout."""

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from plugins.commands.backup import retained
from tests.conftest import FREQTRADE, REPO, run_freqtrade

BACKUP = Path(sys.executable).parent / "ftpack-backup"

# Writes N closed dry-run trades (with their orders) through freqtrade's persistence layer;
# with "--forever" it keeps adding one trade at a time (a bot writing while the backup runs).
MAKE_TRADES = textwrap.dedent('''
    import sys, time
    from datetime import UTC, datetime, timedelta
    from freqtrade.persistence import Order, Trade, init_db
    url, count, forever = sys.argv[1], int(sys.argv[2]), "--forever" in sys.argv
    from sqlalchemy import func, select
    init_db(url)
    first = Trade.session.scalar(select(func.count(Trade.id)))  # continue an existing database
    start = datetime(2025, 1, 1, tzinfo=UTC)
    def add(i):
        opened = start + timedelta(hours=3 * i)
        rate = 100.0 + (i % 17)
        close = rate * (1.02 if i % 3 else 0.97)
        trade = Trade(pair=("BTC/USDT", "ETH/USDT", "SOL/USDT")[i % 3], base_currency="BTC",
                      stake_currency="USDT", exchange="binance", strategy="RsiMeanReversion",
                      timeframe=60, is_open=False, open_date=opened,
                      close_date=opened + timedelta(hours=2), open_rate=rate, close_rate=close,
                      amount=1.0, amount_requested=1.0, stake_amount=rate, fee_open=0.001,
                      fee_close=0.001, exit_reason="roi", enter_tag="rsi_dip",
                      leverage=1.0, is_short=False)
        for side, price, when in (("buy", rate, opened), ("sell", close, trade.close_date)):
            trade.orders.append(Order(ft_order_side=side, ft_pair=trade.pair, ft_is_open=False,
                                      order_id=f"{side}-{i}", status="closed", side=side, ft_amount=1.0, ft_price=price,
                                      order_type="limit", price=price, average=price, amount=1.0,
                                      filled=1.0, remaining=0.0, cost=price, order_date=when,
                                      order_filled_date=when))
        trade.recalc_open_trade_value()
        trade.close_profit = trade.calc_profit_ratio(close)
        trade.close_profit_abs = trade.calc_profit(close)
        trade.realized_profit = trade.close_profit_abs
        Trade.session.add(trade)
    for i in range(first, first + count):
        add(i)
    Trade.commit()
    i = first + count
    while forever:
        add(i); Trade.commit(); i += 1
        time.sleep(0.002)
''')


def make_trades(db: Path, count: int, forever: bool = False):
    args = [sys.executable, "-c", MAKE_TRADES, f"sqlite:///{db}", str(count)]
    if forever:
        return subprocess.Popen([*args, "--forever"], cwd=REPO)
    subprocess.run(args, cwd=REPO, check=True, timeout=300)


def shown_trades(db: Path) -> list[dict]:
    """The trades as freqtrade itself reads them (``freqtrade show-trades --print-json``)."""
    result = run_freqtrade("show-trades", "--db-url", f"sqlite:///{db}", "--print-json", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    start = result.stdout.index("[")
    return json.loads(result.stdout[start:])


def trade_rows(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as connection:
        return connection.execute("SELECT COUNT(*) FROM trades").fetchone()[0]


def run_backup(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE")}
    return subprocess.run([str(BACKUP), *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


SECRETS = {"exchange-key-XYZ", "exchange-secret-XYZ", "telegram-token-XYZ", "987654321",
           "jwt-secret-XYZ-0123456789abcdef0123456789", "api-password-XYZ",
           "https://hooks.example/abc-XYZ"}


def write_user_data(root: Path) -> Path:
    user_data = root / "user_data"
    (user_data / "strategies").mkdir(parents=True)
    config = json.loads((REPO / "user_data" / "config.json").read_text())
    config["exchange"].update(key="exchange-key-XYZ", secret="exchange-secret-XYZ")
    config["telegram"].update(token="telegram-token-XYZ", chat_id=987654321)
    config["api_server"].update(password="api-password-XYZ",
                                jwt_secret_key="jwt-secret-XYZ-0123456789abcdef0123456789")
    config["webhook"] = {"enabled": True, "url": "https://hooks.example/abc-XYZ"}
    # freqtrade allows comments in its config files
    (user_data / "config.json").write_text("// live settings\n" + json.dumps(config, indent=2))
    (user_data / "strategies" / "RsiMeanReversion.json").write_text('{"params": {"buy": {}}}')
    (user_data / ".env").write_text("FREQTRADE__API_SERVER__PASSWORD=api-password-XYZ\n")
    return user_data


def test_backup_and_restore_1000_trades_read_back_by_freqtrade(tmp_path):
    user_data = write_user_data(tmp_path)
    db = user_data / "tradesv3.sqlite"
    make_trades(db, 1000)
    before = shown_trades(db)
    assert len(before) == 1000

    started = time.perf_counter()
    result = run_backup("--user-data-dir", str(user_data))
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    backups = list((user_data / "backups").glob("ftpack-backup-*.zip"))
    assert len(backups) == 1
    print(f"\nbackup of 1000 trades: {elapsed:.2f} s wall (process), "
          f"{backups[0].stat().st_size / 1e6:.3f} MB zip; {result.stdout.strip()}")

    with zipfile.ZipFile(backups[0]) as archive:
        names = set(archive.namelist())
        assert {"database/tradesv3.sqlite", "config/config.json",
                "strategies/RsiMeanReversion.json", "manifest.json"} <= names
        assert not any(".env" in name for name in names)
        blob = b"".join(archive.read(name) for name in names)
    for secret in SECRETS:
        assert secret.encode() not in blob, secret
    archived = json.loads(zipfile.ZipFile(backups[0]).read("config/config.json"))
    assert archived["exchange"]["key"] == "" and archived["stake_currency"] == "USDT"

    restored = tmp_path / "restored"
    result = run_backup("--restore", str(backups[0]), str(restored))
    assert result.returncode == 0, result.stderr
    assert f"--db-url sqlite:///{(restored / 'tradesv3.sqlite').resolve()}" in result.stdout
    after = shown_trades(restored / "tradesv3.sqlite")
    key = ("trade_id", "pair", "open_date", "close_date", "profit_abs", "open_rate", "close_rate")
    assert [tuple(t[k] for k in key) for t in after] == [tuple(t[k] for k in key) for t in before]
    assert (restored / "strategies" / "RsiMeanReversion.json").is_file()
    assert (restored / "config.json").is_file()


def test_backup_while_a_writer_commits_is_consistent(tmp_path):
    user_data = write_user_data(tmp_path)
    db = user_data / "tradesv3.sqlite"
    make_trades(db, 200)
    writer = make_trades(db, 0, forever=True)
    try:
        deadline = time.monotonic() + 120
        while trade_rows(db) < 250 and time.monotonic() < deadline:
            time.sleep(0.2)
        result = run_backup("--user-data-dir", str(user_data))
        assert writer.poll() is None  # still writing after the backup finished
        assert trade_rows(db) > 250
    finally:
        writer.terminate()
        writer.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    zip_path = next((user_data / "backups").glob("*.zip"))
    manifest = json.loads(zipfile.ZipFile(zip_path).read("manifest.json"))
    assert manifest["trades"] >= 250  # taken while the writer was adding trades
    restored = tmp_path / "restored"
    assert run_backup("--restore", str(zip_path), str(restored)).returncode == 0
    assert len(shown_trades(restored / "tradesv3.sqlite")) == manifest["trades"]


def test_retention_keeps_7_daily_and_4_weekly():
    base = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # a Monday
    times = [base + timedelta(days=d, hours=h) for d in range(40) for h in (0, 12)]
    keep = retained(times, keep_daily=7, keep_weekly=4)
    newest = max(times)
    assert newest == datetime(2026, 4, 10, 15, 0, tzinfo=UTC)  # a Friday
    daily = {datetime(2026, 4, day, 15, 0, tzinfo=UTC) for day in range(4, 11)}
    # newest of each of the last 4 ISO weeks: this week's Friday and three Sundays before it
    weekly = {newest} | {datetime(2026, m, d, 15, 0, tzinfo=UTC) for m, d in ((4, 5), (3, 29), (3, 22))}
    assert keep == daily | weekly
    assert len(keep) == 9  # Sunday 5 April is both a daily and a weekly keeper

def test_pruning_deletes_only_dropped_backups(tmp_path):
    user_data = write_user_data(tmp_path)
    make_trades(user_data / "tradesv3.sqlite", 5)
    dest = user_data / "backups"
    dest.mkdir()
    old = [dest / f"ftpack-backup-202601{d:02d}-010000.zip" for d in range(1, 21)]
    for path in old:
        path.write_bytes(b"old")
    (dest / "notes.txt").write_text("not a backup")
    result = run_backup("--user-data-dir", str(user_data), "--keep-daily", "2", "--keep-weekly", "1")
    assert result.returncode == 0, result.stderr
    left = sorted(p.name for p in dest.glob("ftpack-backup-*.zip"))
    # today's new backup (newest day and week) plus 2026-01-20 (second-newest day)
    assert len(left) == 2 and left[0] == "ftpack-backup-20260120-010000.zip"
    assert (dest / "notes.txt").exists()


def test_bad_input_is_one_error_line(tmp_path):
    user_data = write_user_data(tmp_path)
    for args, expected in (
        (["--user-data-dir", str(user_data)], "no database file"),
        (["--user-data-dir", str(user_data), "--db-url", "postgresql://db/x"], "only sqlite"),
        (["--restore", str(user_data / "config.json"), str(tmp_path / "r")], "not a readable"),
        (["--restore", str(user_data / "x.zip"), str(user_data)], "not empty"),
    ):
        result = run_backup(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ERROR: ftpack-backup:"), result.stderr
        assert expected in lines[0]
