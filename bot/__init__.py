"""Relais: a syndication bot that posts a news site's articles to Telegram and Facebook."""

__version__ = "0.1.0"
