"""Helpers the tests share, as a package (fixtures stay in conftest.py): `from support import DATA, run_cli`."""

from .leaks import forms, leaks
from .paths import DATA, ROOT
from .portal import AuthActions, form_client, post_at_once
from .processes import free_port, only_run_dir, run_cli, run_server, start_cli, stop_server, verify_run, wait_for_steps

__all__ = [
    "DATA", "ROOT", "AuthActions", "form_client", "forms", "free_port", "leaks", "only_run_dir", "post_at_once",
    "run_cli", "run_server", "start_cli", "stop_server", "verify_run", "wait_for_steps",
]  # fmt: skip
