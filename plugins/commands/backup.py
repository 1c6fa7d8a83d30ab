"""Back up and restore a bot's state (``ftpack-backup``).

    ftpack-backup [--user-data-dir user_data] [--db-url sqlite:///...] [--dest DIR] [--models]
    ftpack-backup --restore ZIP DIR

A backup is one zip, ``ftpack-backup-YYYYmmdd-HHMMSS.zip`` in ``--dest`` (default
``user_data/backups``), holding
- ``database/<name>``: the trade database, copied with sqlite's online backup API, so the copy is
  consistent while the bot keeps writing (a plain file copy of a live sqlite file is not);
- ``config/<file>``: every ``config*.json`` of the user_data folder, parsed and rewritten with every
  secret (exchange keys, API and Telegram credentials, webhook URLs) emptied - secrets belong in
  the environment and never go into a backup;
- ``strategies/<file>.json``: strategy parameter files (hyperopt exports, pair tables);
- ``models/...`` with ``--models``: FreqAI model folders (large);
- ``manifest.json``: what is in it, with SHA-256 sums, trade counts and versions.

After writing, old backups in ``--dest`` are pruned: the newest backup of each of the last 7 days
that have one, and of each of the last 4 ISO weeks, are kept (``--keep-daily``, ``--keep-weekly``).

``--restore ZIP DIR`` checks the sums, rebuilds a user_data folder in DIR (which must be empty or
new) and prints the ``--db-url`` freqtrade then opens with the same trades.
"""

import argparse
import hashlib
import json
import sqlite3
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import rapidjson
from freqtrade.configuration.load_config import CONFIG_PARSE_MODE


BACKUP_PREFIX = "ftpack-backup-"
STAMP_FORMAT = "%Y%m%d-%H%M%S"
MANIFEST = "manifest.json"
# Config keys whose values are secrets, at any depth (freqtrade's own sensitive keys and more:
# the API server's JWT secret and websocket token, ccxt credentials inside ccxt_config).
SECRET_KEYS = frozenset({
    "key", "api_key", "apiKey", "secret", "password", "uid", "account_id", "accountId",
    "wallet_address", "walletAddress", "private_key", "privateKey", "token", "chat_id",
    "jwt_secret_key", "ws_token", "webhook_url", "username",
})
SECRET_SECTIONS = {"webhook": {"url"}}  # section -> keys secret only inside it


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what to do."""


def redact_secrets(config, section: str | None = None):
    """A copy of ``config`` with every secret value emptied (structure and other values kept)."""
    if isinstance(config, dict):
        secret_here = SECRET_KEYS | SECRET_SECTIONS.get(section or "", set())
        return {
            key: ("" if key in secret_here and isinstance(value, str | int) and value != ""
                  else redact_secrets(value, key))
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [redact_secrets(item, section) for item in config]
    return config


def sqlite_path(db_url: str) -> Path:
    if not db_url.startswith("sqlite:///") or db_url == "sqlite:///:memory:":
        raise BackupError(
            f"--db-url {db_url}: only sqlite database files can be backed up here; "
            "back up a server database with its own tool (pg_dump, mysqldump)."
        )
    path = Path(db_url.removeprefix("sqlite:///"))
    if not path.is_file():
        raise BackupError(f"--db-url {db_url}: no database file at {path}.")
    return path


def copy_database(source: Path, target: Path) -> int:
    """Online-backup ``source`` into ``target``; returns the number of trades in the copy."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return database_trade_count(target)


def database_trade_count(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{path} fails sqlite's integrity check.")
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return db.execute("SELECT COUNT(*) FROM trades").fetchone()[0] if "trades" in tables else 0


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_config(path: Path) -> dict:
    """A config file as freqtrade reads it (comments and trailing commas allowed)."""
    try:
        return rapidjson.loads(path.read_text(), parse_mode=CONFIG_PARSE_MODE)
    except (ValueError, OSError) as err:
        raise BackupError(f"{path} is not a readable JSON config: {err}") from None


def backup_members(user_data: Path, with_models: bool) -> Iterable[tuple[str, Path]]:
    """(archive name, file) of the non-database files that go into a backup."""
    for path in sorted(user_data.glob("config*.json")):
        yield f"config/{path.name}", path
    for path in sorted((user_data / "strategies").glob("*.json")):
        yield f"strategies/{path.name}", path
    if with_models:
        models = user_data / "models"
        for path in sorted(p for p in models.rglob("*") if p.is_file()):
            yield f"models/{path.relative_to(models)}", path


def write_backup(user_data: Path, db_url: str, dest: Path, with_models: bool = False,
                 now: datetime | None = None) -> tuple[Path, dict]:
    """Write one backup zip into ``dest``; returns its path and manifest."""
    database = sqlite_path(db_url)
    now = now or datetime.now(UTC)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"{BACKUP_PREFIX}{now.strftime(STAMP_FORMAT)}.zip"
    partial = target.with_suffix(".zip.tmp")
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(
        partial, "w", compression=zipfile.ZIP_DEFLATED
    ) as archive:
        db_copy = Path(scratch) / database.name
        trades = copy_database(database, db_copy)
        name = f"database/{database.name}"
        archive.write(db_copy, name)
        files[name] = sha256(db_copy)
        for name, path in backup_members(user_data, with_models):
            if name.startswith("config/"):
                data = json.dumps(redact_secrets(read_config(path)), indent=4).encode()
                archive.writestr(name, data)
                files[name] = hashlib.sha256(data).hexdigest()
            else:
                archive.write(path, name)
                files[name] = sha256(path)
        manifest = {
            "created": now.isoformat(),
            "database": f"database/{database.name}",
            "trades": trades,
            "files": files,
            "versions": _versions(),
        }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
    partial.replace(target)  # a crash mid-write never leaves a zip that looks complete
    return target, manifest


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("freqtrade", "freqtrade-strategy-pack"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    return found


def backup_time(path: Path) -> datetime | None:
    stem = path.name.removeprefix(BACKUP_PREFIX).removesuffix(".zip")
    try:
        return datetime.strptime(stem, STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def retained(times: Iterable[datetime], keep_daily: int, keep_weekly: int) -> set[datetime]:
    """Backup times to keep: the newest of each of the last ``keep_daily`` days that have a
    backup, and the newest of each of the last ``keep_weekly`` ISO weeks that have one."""
    newest_first = sorted(set(times), reverse=True)
    keep: set[datetime] = set()
    for period, count in ((lambda t: t.date(), keep_daily),
                          (lambda t: t.isocalendar()[:2], keep_weekly)):
        seen: list = []
        for moment in newest_first:
            if period(moment) not in seen:
                if len(seen) == count:
                    break
                seen.append(period(moment))
                keep.add(moment)
    return keep


def prune(dest: Path, keep_daily: int, keep_weekly: int) -> list[Path]:
    """Delete the backups in ``dest`` that the retention rule drops; returns them."""
    backups = {t: p for p in dest.glob(f"{BACKUP_PREFIX}*.zip") if (t := backup_time(p))}
    keep = retained(backups, keep_daily, keep_weekly)
    dropped = [path for moment, path in sorted(backups.items()) if moment not in keep]
    for path in dropped:
        path.unlink()
    return dropped


def restore(archive_path: Path, target: Path) -> tuple[Path, dict]:
    """Rebuild a user_data folder from a backup zip; returns the database path and manifest."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"--restore target {target} is not empty; restore into a new folder.")
    try:
        archive = zipfile.ZipFile(archive_path)
    except (OSError, zipfile.BadZipFile) as err:
        raise BackupError(f"{archive_path} is not a readable backup zip: {err}") from None
    with archive:
        if MANIFEST not in archive.namelist():
            raise BackupError(f"{archive_path} has no {MANIFEST}: not an ftpack-backup zip.")
        manifest = json.loads(archive.read(MANIFEST))
        for name, digest in manifest["files"].items():
            if hashlib.sha256(archive.read(name)).hexdigest() != digest:
                raise BackupError(f"{archive_path}: {name} does not match its checksum.")
        target.mkdir(parents=True, exist_ok=True)
        for name in manifest["files"]:
            section, _, rest = name.partition("/")
            # config files go to the top of user_data, everything else keeps its folder
            destination = target / rest if section in ("config", "database") else target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(name))
    database = target / Path(manifest["database"]).name
    if database_trade_count(database) != manifest["trades"]:
        raise BackupError(f"{database}: trade count differs from the manifest.")
    return database, manifest


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ftpack-backup", description=__doc__.split("\n")[0])
    parser.add_argument("--user-data-dir", default="user_data", type=Path)
    parser.add_argument("--db-url", help="default: sqlite:///<user-data-dir>/tradesv3.sqlite")
    parser.add_argument("--dest", type=Path, help="default: <user-data-dir>/backups")
    parser.add_argument("--models", action="store_true", help="include FreqAI model folders")
    parser.add_argument("--keep-daily", type=int, default=7)
    parser.add_argument("--keep-weekly", type=int, default=4)
    parser.add_argument("--restore", nargs=2, metavar=("ZIP", "DIR"), type=Path)
    args = parser.parse_args(argv)
    if args.keep_daily < 1 or args.keep_weekly < 0:
        parser.error("--keep-daily must be >= 1 and --keep-weekly >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.restore:
            database, manifest = restore(*args.restore)
            print(f"Restored {manifest['trades']} trades and {len(manifest['files'])} files "
                  f"into {args.restore[1]}; run freqtrade with --userdir {args.restore[1]} "
                  f"--db-url sqlite:///{database.resolve()}")
            return 0
        user_data = args.user_data_dir
        if not user_data.is_dir():
            raise BackupError(f"--user-data-dir {user_data} is not a folder.")
        db_url = args.db_url or f"sqlite:///{(user_data / 'tradesv3.sqlite').resolve()}"
        dest = args.dest or user_data / "backups"
        started = time.perf_counter()
        path, manifest = write_backup(user_data, db_url, dest, args.models)
        seconds = time.perf_counter() - started
        dropped = prune(dest, args.keep_daily, args.keep_weekly)
        print(f"Wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {manifest['trades']} trades, "
              f"{len(manifest['files'])} files) in {seconds:.2f} s; pruned {len(dropped)} old backups")
        return 0
    except (BackupError, sqlite3.Error) as err:
        print(f"ERROR: ftpack-backup: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
