"""Re-exports for the tests still edited on other branches (core/test_outbox, test_storage,
test_decisions, content/test_roundup): builders live in tests/builders.py, the scripted publisher
in tests/fakes/scripted_publisher.py. New tests import from there."""

from __future__ import annotations

from tests.builders import BASE, article, settings
from tests.builders import new_article as new
from tests.fakes.scripted_publisher import ScriptedPublisher

__all__ = ["BASE", "ScriptedPublisher", "article", "new", "settings"]
