"""Database rows → the records of `bot/models.py` (one converter per record)."""

from __future__ import annotations

import json
from typing import Any

from bot.models import Article, ChannelState, Delivery, DeliveryState, FeedState, Subscriber


def categories(value: Any) -> list[str]:
    """An article's categories as stored (JSON; a string on SQLite), blanks dropped."""
    if isinstance(value, str):
        value = json.loads(value)
    return [str(c) for c in value or () if str(c).strip()]


def feed_state(m: Any) -> FeedState:
    return FeedState(
        feed_id=m["feed_id"],
        url=m["url"],
        configured_url=m["configured_url"],
        etag=m["etag"],
        last_modified=m["last_modified"],
        last_poll=m["last_poll"],
        last_result=m["last_result"],
        next_poll=m["next_poll"],
        consecutive_errors=int(m["consecutive_errors"]),
        baselined=bool(m["baselined"]),
        failing_since=m["failing_since"],
        body_hash=m["body_hash"],
    )


def article(m: Any) -> Article:
    cats = m["categories"]
    if isinstance(cats, str):
        cats = json.loads(cats)
    return Article(
        feed_id=m["feed_id"],
        key=m["key"],
        guid=m["guid"],
        url=m["url"],
        canonical_url=m["canonical_url"],
        title=m["title"],
        published=m["published"],
        author=m["author"],
        categories=tuple(cats or ()),
        image=m["image"],
        content_html=m["content_html"] or "",
        summary_html=m["summary_html"] or "",
    )


def delivery(m: Any) -> Delivery:
    return Delivery(
        id=int(m["id"]),
        article_key=m["article_key"],
        channel_id=m["channel_id"],
        state=DeliveryState(m["state"]),
        due_at=m["due_at"],
        attempts=int(m["attempts"]),
        remote_id=m["remote_id"],
        remote_link=m["remote_link"],
        error=m["error"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        sent_at=m["sent_at"],
        attempted_at=m["attempted_at"],
        worker=m["worker"],
        urgent=bool(m["urgent"]),
        covered_by=m["covered_by"],
        pinned_until=m["pinned_until"],
        asked_at=m["asked_at"],
    )


def channel_state(m: Any) -> ChannelState:
    return ChannelState(
        m["channel_id"],
        bool(m["paused"]),
        m["pause_reason"],
        m["chat_override"],
        m["paused_by"],
        m["chat_override_from"],
        m["created_at"],
    )


def subscriber(m: Any) -> Subscriber:
    return Subscriber(
        user_id=int(m["user_id"]),
        chat_id=int(m["chat_id"]),
        language=m["language"],
        telegram_language=m["telegram_language"],
        digest=bool(m["digest"]),
        digest_since=m["digest_since"],
    )
