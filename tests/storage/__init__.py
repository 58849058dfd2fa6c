"""Contract and backend tests for `storage/`."""
