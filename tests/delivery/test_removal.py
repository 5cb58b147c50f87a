"""`/delete` within Telegram's 48 hours, and the alert for an article gone soon after posting."""

from __future__ import annotations

import pytest

from bot.delivery.removal import delete_refusal, gone_alert
from bot.models import ChannelType
from tests.builders import local

TG, FB, OUT = ChannelType.TELEGRAM, ChannelType.FACEBOOK, ChannelType.CONSOLE


@pytest.mark.parametrize(
    ("platform", "state", "sent_at", "now", "refused"),
    [
        (TG, "sent", local(3, 8), local(5, 8), None),
        (TG, "sent", local(3, 8), local(5, 8, 1), "moins de 48 heures (celui-ci a 48 heures)"),
        (TG, "sent", local(3, 8), local(10, 8), "celui-ci a 168 heures"),
        (FB, "sent", local(3, 8), local(30, 8), None),
        (TG, "queued", None, local(3, 8), "n'est pas envoyée (état queued)"),
        (OUT, "sent", local(3, 8), local(3, 9), "console"),
    ],
)
def test_delete_refusal(platform, state, sent_at, now, refused) -> None:
    answer = delete_refusal(platform, state=state, sent_at=sent_at, now=now)
    assert answer is None if refused is None else refused in answer


@pytest.mark.parametrize(
    ("status", "now", "alert"),
    [
        (404, local(3, 9), True),
        (410, local(5, 8), True),
        (404, local(5, 8, 1), False),
        (200, local(3, 9), False),
        (500, local(3, 9), False),
    ],
)
def test_gone_alert(status, now, alert) -> None:
    assert gone_alert(status, sent_at=local(3, 8), now=now) is alert
    assert not gone_alert(status, sent_at=None, now=now)
