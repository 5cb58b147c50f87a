"""`relais check --online` for Telegram: ask about the bot and each chat, then advise (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from telegram import (
    Bot,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberRestricted,
)
from telegram.error import TelegramError

from bot.models import ChannelType
from bot.publishers.boundary import short
from bot.publishers.checkline import CheckLine
from bot.publishers.telegram.client import chat_param
from bot.publishers.telegram.errors import REFUSALS, UNANSWERED, TelegramFailure, failure_of
from bot.settings import ChannelSettings
from bot.telegram_bot.messages import Lang, plain

BOT_CHECK_ID = "telegram"

# Lower-cased fragments of a 400 that mean "no such chat" (getChat) or "not in it" (member).
_NO_CHAT = ("chat not found", "peer_id_invalid")
_NOT_IN_CHAT = ("not found", "participant")


# --------------------------------------------------------------------------- the facts


@dataclass(frozen=True, slots=True)
class BotFacts:
    """What getMe said: the bot's @name and id, or why it failed."""

    failure: TelegramFailure | None = None
    username: str = ""
    id: int = 0

    @property
    def mention(self) -> str:
        return f"@{self.username}"


@dataclass(frozen=True, slots=True)
class ChatFacts:
    """What getChat and getChatMember said about one configured chat and the bot in it.

    `failure` and `step` say which call failed (then the later facts are empty); `shown` is
    the chat's @name (or the configured chat), `status` the bot's ChatMember status.
    """

    channel_id: str
    chat: str
    bot: str
    failure: TelegramFailure | None = None
    step: Literal["chat", "member"] | None = None
    shown: str = ""
    name: str = ""
    type: str = ""
    status: str = ""
    can_post: bool = False  # an administrator with "Post Messages"
    can_send: bool = False  # a restricted member still allowed to write
    members_can_send: bool | None = None  # the group's default permission


async def gather_bot(bot: Bot) -> BotFacts:
    """getMe: is the token good?"""
    try:
        me = await bot.get_me()
    except TelegramError as err:
        return BotFacts(failure=failure_of(err, secrets=(bot.token,)))
    return BotFacts(username=me.username or "", id=me.id)


async def gather_chat(bot: Bot, me: BotFacts, channel: ChannelSettings) -> ChatFacts:
    """getChat, then (except for a private chat) getChatMember of the bot."""
    label = channel.chat or "?"
    facts = ChatFacts(channel_id=channel.id, chat=label, bot=me.mention)
    try:
        chat = await bot.get_chat(chat_param(label))
    except TelegramError as err:
        return _failed(facts, "chat", err, bot.token)
    shown = f"@{chat.username}" if chat.username else label
    permissions = chat.permissions
    facts = replace(
        facts,
        shown=shown,
        name=chat.title or chat.first_name or shown,
        type=chat.type,
        members_can_send=permissions.can_send_messages if permissions is not None else None,
    )
    if chat.type == ChatFullInfo.PRIVATE:
        return facts
    try:
        member: ChatMember = await bot.get_chat_member(chat.id, me.id)
    except TelegramError as err:
        return _failed(facts, "member", err, bot.token)
    return replace(
        facts,
        status=member.status,
        can_post=isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages),
        can_send=isinstance(member, ChatMemberRestricted)
        and member.can_send_messages
        and member.is_member,
    )


def _failed(
    facts: ChatFacts, step: Literal["chat", "member"], err: TelegramError, token: str
) -> ChatFacts:
    return replace(facts, failure=failure_of(err, secrets=(token,)), step=step)


# --------------------------------------------------------------------------- the advice


def advise_bot(facts: BotFacts, lang: Lang) -> CheckLine:
    """The bot's line: the token works, is refused, or Telegram cannot be reached."""
    failure = facts.failure
    if failure is None:
        message = plain(lang, "tg_check_bot_ok", bot=facts.mention, id=facts.id)
        return CheckLine(BOT_CHECK_ID, True, message)
    if failure.kind == "token":
        return CheckLine(BOT_CHECK_ID, False, plain(lang, "tg_check_token_refused"))
    reason = short(failure.description, 200)
    return CheckLine(
        BOT_CHECK_ID, False, plain(lang, "tg_check_unreachable", reason=reason), reachable=False
    )


def advise_unchecked(facts: BotFacts, channel_id: str, lang: Lang) -> CheckLine:
    """A channel's line when the bot itself failed its check."""
    refused = facts.failure is not None and facts.failure.kind == "token"
    key = "tg_check_skipped_token" if refused else "tg_check_skipped_unreachable"
    return CheckLine(channel_id, False, plain(lang, key), reachable=refused)


def _mentions(failure: TelegramFailure, fragments: Sequence[str]) -> bool:
    lowered = failure.description.lower()
    return failure.kind in REFUSALS and any(fragment in lowered for fragment in fragments)


def _failure_advice(facts: ChatFacts, failure: TelegramFailure) -> tuple[str, str]:
    """(entry, chat) for a failed getChat or getChatMember."""
    if facts.step == "chat":
        if failure.kind == "moved":
            return "tg_check_migrated", facts.chat
        if failure.kind == "forbidden":
            return "tg_check_not_member", facts.chat
        if _mentions(failure, _NO_CHAT):
            return "tg_check_not_found", facts.chat
        if failure.kind in REFUSALS:
            return "tg_check_refused", facts.chat
        return "tg_check_failed", facts.chat
    if failure.kind == "forbidden":
        return "tg_check_not_member", facts.shown
    if _mentions(failure, _NOT_IN_CHAT):
        return "tg_check_not_admin", facts.shown
    return "tg_check_failed", facts.shown


Advice = tuple[bool, str, str]  # (the bot can post, catalogue entry, entry of the fix)

_CAN_POST: Final[Advice] = (True, "tg_check_can_post", "")

# (channel or group, the bot's status, allowed) → the advice. `allowed` is what the status
# depends on: an administrator's "Post Messages" right, a restricted member's "Send Messages",
# a member's group default. In a channel only an owner or an administrator who may post can post.
ADVICE: Final[Mapping[tuple[str, str, bool], Advice]] = {
    ("channel", ChatMember.OWNER, True): _CAN_POST,
    ("channel", ChatMember.ADMINISTRATOR, True): _CAN_POST,
    ("channel", ChatMember.ADMINISTRATOR, False): (False, "tg_check_admin_cannot_post", ""),
    ("channel", ChatMember.BANNED, True): (False, "tg_check_banned_channel", "tg_check_add_admin"),
    ("group", ChatMember.OWNER, True): _CAN_POST,
    ("group", ChatMember.ADMINISTRATOR, True): _CAN_POST,
    ("group", ChatMember.ADMINISTRATOR, False): _CAN_POST,
    ("group", ChatMember.BANNED, True): (False, "tg_check_banned_group", "tg_check_add_member"),
    ("group", ChatMember.RESTRICTED, True): _CAN_POST,
    ("group", ChatMember.RESTRICTED, False): (False, "tg_check_restricted", ""),
    ("group", ChatMember.MEMBER, True): _CAN_POST,
    ("group", ChatMember.MEMBER, False): (False, "tg_check_members_muted", ""),
}
# Any other status (left, or a plain member of a channel).
OTHERWISE: Final[Mapping[str, Advice]] = {
    "channel": (False, "tg_check_not_admin", "tg_check_add_admin"),
    "group": (False, "tg_check_not_member", "tg_check_add_member"),
}


def _allowed(facts: ChatFacts) -> bool:
    if facts.status == ChatMember.ADMINISTRATOR:
        return facts.can_post
    if facts.status == ChatMember.RESTRICTED:
        return facts.can_send
    if facts.status == ChatMember.MEMBER:
        return facts.members_can_send is not False
    return True


def _member_advice(facts: ChatFacts) -> Advice:
    kind = "channel" if facts.type == ChatFullInfo.CHANNEL else "group"
    return ADVICE.get((kind, facts.status, _allowed(facts)), OTHERWISE[kind])


def advise_chat(facts: ChatFacts, lang: Lang) -> CheckLine:
    """Can the bot post in this chat, and if not, what should the admin do (pure)."""
    failure = facts.failure
    if failure is not None:
        ok, (key, chat), fix_key = False, _failure_advice(facts, failure), "tg_check_add_admin"
    elif facts.type == ChatFullInfo.PRIVATE:
        ok, key, chat, fix_key = True, "tg_check_private", facts.shown, ""
    else:
        (ok, key, fix_key), chat = _member_advice(facts), facts.shown
    message = plain(
        lang,
        key,
        chat=chat,
        bot=facts.bot,
        name=facts.name,
        fix=plain(lang, fix_key, bot=facts.bot) if fix_key else "",
        reason=short(failure.description, 200) if failure is not None else "",
        new_chat=failure.new_chat_id if failure is not None else "",
    )
    reachable = failure is None or failure.kind not in UNANSWERED
    return CheckLine(facts.channel_id, ok, message, reachable=reachable)


# --------------------------------------------------------------------------- the check


async def check_channels(
    bot: Bot, channels: Sequence[ChannelSettings], *, lang: Lang = "fr"
) -> list[CheckLine]:
    """Ask Telegram whether the token works and whether the bot can post in each Telegram
    channel. The first line is the bot's (channel_id "telegram"), then one per channel."""
    targets = [c for c in channels if c.type is ChannelType.TELEGRAM]
    me = await gather_bot(bot)
    if me.failure is not None:
        return [advise_bot(me, lang), *(advise_unchecked(me, c.id, lang) for c in targets)]
    lines = [advise_bot(me, lang)]
    for channel in targets:
        lines.append(advise_chat(await gather_chat(bot, me, channel), lang))
    return lines


__all__ = [
    "BOT_CHECK_ID",
    "BotFacts",
    "ChatFacts",
    "advise_bot",
    "advise_chat",
    "advise_unchecked",
    "check_channels",
    "gather_bot",
    "gather_chat",
]
