"""Publishers: one adapter per service behind the Publisher protocol."""
