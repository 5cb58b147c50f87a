"""End-to-end tests: the whole pipeline against fake platforms."""
