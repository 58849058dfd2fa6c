"""Schema revisions, applied in order by `storage.migrate.upgrade_to_head` at start-up."""
