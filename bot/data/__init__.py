"""Bundled data: the demo feed."""
