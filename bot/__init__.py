"""Relais: a syndication bot that posts a news site's articles to Telegram and Facebook."""

__version__ = "0.1.0"
# How Relais names itself to the sites and platforms it calls: the composition root
# (bot/app.py) passes it to the fetcher and the publishers; their defaults are this one string.
USER_AGENT = f"Relais/{__version__} (news syndication bot)"
