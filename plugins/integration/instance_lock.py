"""One ``freqtrade trade`` per trade database: an instance lock with the owner's PID.

Two bots on one database would both place orders for the same trades. Freqtrade does not stop a
second one, so the pack's start-up hook takes this lock at the top of ``FreqtradeBot.__init__``
(before the exchange is even loaded) and a second bot stops with one ERROR line naming the owner.

How the lock works
    The lock file sits beside an sqlite database (``tradesv3.sqlite`` -> ``tradesv3.sqlite.lock``);
    for a server database (PostgreSQL, MySQL) it goes to ``user_data/`` under a name derived from
    the URL, so it guards one host only. The file holds the owner's PID and start time, and the
    owner holds an exclusive ``flock`` on it for its whole life. The kernel drops a flock when the
    process dies, however it dies, so a lock file left by a killed bot is recognised as stale (its
    flock is free), taken over, and a WARNING names the dead PID. PIDs are only reported, never
    trusted: in a container every bot is PID 1, and a reused PID must not block a restart.
    In-memory databases (``sqlite://``) are private to their process and need no lock.

The same process may take the lock again (freqtrade rebuilds ``FreqtradeBot`` on ``/reload_config``).
``fcntl`` is POSIX-only: on Windows the lock is skipped with a warning.
"""

import atexit
import hashlib
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from freqtrade.exceptions import OperationalException


logger = logging.getLogger(__name__)

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

_held: dict[Path, int] = {}  # lock path -> open file descriptor holding the flock


def lock_path_for(db_url: str, user_data_dir: str | os.PathLike | None) -> Path | None:
    """Where the lock of ``db_url`` lives, or None for a private in-memory database."""
    if db_url.startswith("sqlite"):
        _, _, path = db_url.partition(":///")
        if not path or path == ":memory:":
            return None
        return Path(path).resolve().with_name(Path(path).name + ".lock")
    digest = hashlib.sha256(db_url.encode()).hexdigest()[:16]
    return Path(user_data_dir or ".").resolve() / f"trade-db-{digest}.lock"


def _owner_of(path: Path) -> str:
    try:
        return path.read_text().split("\n", 1)[0].strip() or "unknown"
    except OSError:
        return "unknown"


def _open_locked(path: Path) -> int | None:
    """An fd holding the exclusive flock on ``path``, or None while another process holds it.

    Retries when the file was replaced between open and flock (an owner unlinking it on exit),
    so two processes never hold locks on different inodes of the same name.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def acquire(db_url: str, user_data_dir: str | os.PathLike | None = None) -> Path | None:
    """Take the lock of ``db_url`` for this process; OperationalException when another bot has it."""
    path = lock_path_for(db_url, user_data_dir)
    if path is None or path in _held:
        return path
    if fcntl is None:
        logger.warning("Instance lock unavailable on this platform: start one bot per database.")
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = _owner_of(path) if path.exists() else None
    fd = _open_locked(path)
    if fd is None:
        raise OperationalException(
            f"Another freqtrade trade (PID {_owner_of(path)}) is using the database {db_url} "
            f"(lock {path}); stop it first or give this bot its own --db-url."
        )
    if previous:
        logger.warning(
            "Took over the stale instance lock %s of PID %s, which is no longer running.",
            path, previous,
        )
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n{datetime.now(UTC).isoformat()}\n{db_url}\n".encode())
    _held[path] = fd
    return path


def release(path: Path) -> None:
    """Remove and unlock ``path`` if this process holds it (unlink first, see ``_open_locked``)."""
    fd = _held.pop(path, None)
    if fd is None:
        return
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def release_all() -> None:
    for path in list(_held):
        release(path)


atexit.register(release_all)


def install_instance_lock(bot_class) -> None:
    """Make ``FreqtradeBot.__init__`` take the database lock before anything else (idempotent)."""
    original = bot_class.__init__
    if getattr(original, "_pack_instance_lock", False):
        return

    def __init__(self, config, *args, **kwargs):
        acquire(config.get("db_url", ""), config.get("user_data_dir"))
        original(self, config, *args, **kwargs)

    __init__._pack_instance_lock = True
    bot_class.__init__ = __init__
