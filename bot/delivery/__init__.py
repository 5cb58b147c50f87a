"""Delivery: routing and scheduling decisions and the outbox engine."""
