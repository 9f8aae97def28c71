"""Helpers the tests share (imported as `support.…`; fixtures stay in conftest.py)."""
