"""tuiding: YAML unsubscribe journeys in a real browser, one screenshot receipt per step."""

__version__ = "0.1.0"
