"""Storage: one Database, per-domain parts over it, one shared outbox, tables, migrations."""
