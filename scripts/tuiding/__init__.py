"""tuiding: YAML unsubscribe journeys in a real browser, one screenshot receipt per step."""

__version__ = "0.2.0"  # kept equal to pyproject.toml's version by tests/test_docs.py
