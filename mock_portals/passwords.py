"""Password hashes for the seed accounts, computed once per process.

scrypt is slow on purpose (~0.14 s a hash); seeding six accounts per embedded portal paid it six
times for every scenario run. The seed passwords are public test data, so reusing one salted
hash per password across a process's portals costs no secrecy and saves ~0.8 s per portal."""

from __future__ import annotations

from functools import cache

from werkzeug.security import generate_password_hash


@cache
def seed_hash(password: str) -> str:
    return generate_password_hash(password)
