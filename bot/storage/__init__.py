"""Storage: engine, tables, migrations and queries over SQLite or PostgreSQL."""
