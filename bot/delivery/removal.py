"""Pure removal decisions: may `/delete` remove a post, and does a vanished article call for
an alert with a one-tap delete."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.models import ChannelType

# Telegram lets a bot delete a message only within 48 hours of sending it (Bot API
# deleteMessage); Facebook has no such limit.
TELEGRAM_DELETE_WINDOW = timedelta(hours=48)
# An article that disappears (404/410) this soon after we posted it was probably withdrawn by
# the newsroom; later, it is more likely an archive change nobody needs to hear about.
GONE_ALERT_WINDOW = timedelta(hours=48)


def delete_refusal(
    platform: ChannelType, *, state: str, sent_at: datetime | None, now: datetime
) -> str | None:
    """Why `/delete <delivery>` cannot remove this post (None: it can), in French."""
    if state != "sent" or sent_at is None:
        return f"refusé : cette publication n'est pas envoyée (état {state})"
    if platform is ChannelType.CONSOLE:
        return "refusé : un canal console n'a rien à supprimer"
    if platform is ChannelType.TELEGRAM and now - sent_at > TELEGRAM_DELETE_WINDOW:
        hours = int((now - sent_at).total_seconds() // 3600)
        return (
            f"refusé : Telegram ne permet de supprimer qu'un message de moins de 48 heures "
            f"(celui-ci a {hours} heures) ; supprimez-le à la main dans le canal"
        )
    return None


def gone_alert(status: int, *, sent_at: datetime | None, now: datetime) -> bool:
    """Whether a 404/410 answer for a posted article alerts the admins (with a delete button)."""
    return (
        status in {404, 410}
        and sent_at is not None
        and timedelta(0) <= now - sent_at <= GONE_ALERT_WINDOW
    )
