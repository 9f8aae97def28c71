"""Seed-account password hashes are computed once per machine and reused (they cost ~0.8 s per process)."""

from __future__ import annotations

import json

from werkzeug.security import check_password_hash

from tuiding_portals import passwords


def test_seed_hashes_are_cached_on_disk_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(passwords, "_memory", {})
    monkeypatch.setattr(passwords, "_loaded", False)
    first = passwords.seed_hash("Migu@2026")
    assert check_password_hash(first, "Migu@2026")
    stored = json.loads((tmp_path / "tuiding" / "seed-hashes.json").read_text("utf-8"))
    assert list(stored.values()) == [first] and "Migu@2026" not in json.dumps(stored)  # no password in clear
    monkeypatch.setattr(passwords, "_memory", {})  # a new process: read from disk, not hashed again
    monkeypatch.setattr(passwords, "_loaded", False)
    monkeypatch.setattr(passwords, "generate_password_hash", lambda _p: (_ for _ in ()).throw(AssertionError("rehashed")))
    assert passwords.seed_hash("Migu@2026") == first


def test_a_broken_or_foreign_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "tuiding").mkdir()
    for junk in ("{not json", "[1, 2]", json.dumps({"x": 1})):
        (tmp_path / "tuiding" / "seed-hashes.json").write_text(junk, encoding="utf-8")
        monkeypatch.setattr(passwords, "_memory", {})
        monkeypatch.setattr(passwords, "_loaded", False)
        assert check_password_hash(passwords.seed_hash("pw"), "pw")
    (tmp_path / "tuiding" / "seed-hashes.json").unlink()
    (tmp_path / "tuiding").chmod(0o500)  # unwritable (root ignores modes; then it is simply written)
    monkeypatch.setattr(passwords, "_memory", {})
    monkeypatch.setattr(passwords, "_loaded", False)
    assert check_password_hash(passwords.seed_hash("pw"), "pw")
    (tmp_path / "tuiding").chmod(0o700)
