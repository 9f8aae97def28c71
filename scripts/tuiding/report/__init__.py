"""Reports read a run folder (manifest + receipts); they never talk to the browser."""
