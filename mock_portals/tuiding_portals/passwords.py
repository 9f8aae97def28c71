"""Password hashes for the seed accounts, computed once per machine.

scrypt is slow on purpose (~0.14 s a hash); seeding six accounts per embedded portal paid it six
times for every scenario run, and once per process still added ~0.8 s before a run's first receipt.
The seed passwords are public test data (they are in the docs), so one salted hash per password is
kept in memory and, keyed by the password's SHA-256, in the user's cache folder (`$XDG_CACHE_HOME/tuiding/seed-hashes.json`) and reused
by every portal: no secrecy is lost. A cache that cannot be read or written is simply not used.
Passwords changed or set at run time (resets, new accounts) are hashed afresh as always.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from werkzeug.security import generate_password_hash

_memory: dict[str, str] = {}
_loaded = False


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tuiding" / "seed-hashes.json"


def _load() -> None:
    global _loaded
    _loaded = True
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict):
        _memory.update({k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)})


def _save() -> None:
    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".seed-hashes.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(_memory, f)
        os.replace(tmp, path)  # atomic: concurrent portals never read half a file
    except OSError:
        pass


def seed_hash(password: str) -> str:
    if not _loaded:
        _load()
    # Keyed by the password's SHA-256 (no password in clear on disk): a changed seed password is a new
    # entry. Checking a cached hash would cost the scrypt it saves; anything not a werkzeug hash is redone.
    key = hashlib.sha256(password.encode()).hexdigest()
    cached = _memory.get(key)
    if cached is not None and cached.startswith(("scrypt:", "pbkdf2:")):
        return cached
    _memory[key] = generate_password_hash(password)
    _save()
    return _memory[key]
