"""Feeds: fetch (I/O), parse and identity (pure)."""
