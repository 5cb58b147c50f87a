"""The project's small exception hierarchy; adapters translate library errors into it."""

from __future__ import annotations

from collections.abc import Sequence


class RelaisError(Exception):
    """Base of every error Relais raises on purpose."""


class ConfigError(RelaisError):
    """The configuration is invalid; `problems` lists every problem, each with its key path."""

    def __init__(self, source: str, problems: Sequence[str], *, header: str = "") -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        header = header or f"{len(self.problems)} problem(s) in the configuration:"
        super().__init__(f"{source}: {header}\n{lines}")


class FeedError(RelaisError):
    """A feed could not be fetched or read; other feeds are not affected."""


class NotAFeedError(FeedError):
    """The body is not RSS or Atom (an HTML page, JSON, empty...)."""


class StorageError(RelaisError):
    """The database cannot be used."""


class SchemaTooNewError(StorageError):
    """The database was written by a newer Relais than this one."""


class InstanceLockedError(StorageError):
    """Another Relais process already uses this SQLite database."""


class PublishError(RelaisError):
    """A publisher could not deliver a post. Subclasses say what the outbox must do."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(PublishError):
    """Try again later (honour `retry_after` when set, else back off)."""


class PermanentError(PublishError):
    """This post will never go through as it is: mark the delivery failed."""


class TooLongError(PermanentError):
    """The platform refused the post for its length: render it shorter once, then fail."""


class RecipientGoneError(PermanentError):
    """A reader blocked the bot or no longer exists: never write to them again."""


class AuthError(PublishError):
    """The channel's credentials or rights are wrong: pause the channel, keep its queue."""


class CredentialsError(AuthError):
    """The platform credentials themselves are invalid (a revoked bot token): every channel of
    that platform pauses, not only the one that saw it."""


class UnknownOutcomeError(PublishError):
    """The request may have reached the platform: the post may or may not exist."""


class ChatMovedError(TransientError):
    """The Telegram chat moved to a new id (a group upgraded to a supergroup)."""

    def __init__(self, message: str, *, new_chat_id: int) -> None:
        super().__init__(message, retry_after=0)
        self.new_chat_id = new_chat_id
