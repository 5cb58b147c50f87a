"""The Telegram bot for readers and admins, and admin alerts."""
