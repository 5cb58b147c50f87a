"""Approval in the admins' private chats: each pending post shown as it will look with
✅ Publier / ✏️ Modifier / ⏭ Ignorer / ⏰ Plus tard; the buttons answered by compare-and-set, so
two admins at once settle on one answer and the others' messages show it; "Modifier" takes
that admin's next message as the post's teaser."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.content.describe import describe_post_html
from bot.content.telegram_html import escape_html
from bot.delivery.approval import (
    BUTTONS,
    Verdict,
    after_verdict,
    callback_data,
    describe,
    parse_callback,
    settle,
)
from bot.models import Article, Delivery, DeliveryState, Post
from bot.settings import ChannelSettings
from bot.telegram_bot.context import BotContext, clean_input
from bot.telegram_bot.views import fit

log = logging.getLogger("relais.approval")
Handler = Callable[[Update, Any], Coroutine[Any, Any, None]]
TEASER_MAX = 1000  # characters of an admin's own teaser


def keyboard(delivery_id: int) -> InlineKeyboardMarkup:
    first, second = BUTTONS[:2], BUTTONS[2:]
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=callback_data(delivery_id, a))
                for a, label in row
            ]
            for row in (first, second)
        ]
    )


def by_name(user: Any) -> str:
    """How a verdict names its admin: first name and id (the id makes "the same admin" exact)."""
    name = clean_input(getattr(user, "first_name", "") or "", 64) or "admin"
    return f"{name} ({user.id})"


class TelegramDesk:
    """`approval_desk.AdminDesk` over the shared bot: one private message per admin."""

    def __init__(self, bot: Any, admins: Sequence[int], *, lang: str = "fr") -> None:
        self.bot, self.admins, self.lang = bot, list(admins), lang

    async def ask(
        self, channel: ChannelSettings, delivery: Delivery, article: Article, post: Post
    ) -> list[tuple[int, int]]:
        head = f"🕵️ <b>À approuver pour {escape_html(channel.id)}</b> (#{delivery.id})"
        body = fit([head, "", describe_post_html(post)])
        sent: list[tuple[int, int]] = []
        for admin in self.admins:
            try:
                message = await self.bot.send_message(
                    chat_id=admin,
                    text=body,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(delivery.id),
                    disable_web_page_preview=True,
                )
            except TelegramError as err:  # one admin who blocked the bot does not stop the rest
                log.warning("delivery %s: admin %s not reached: %s", delivery.id, admin, err)
                continue
            sent.append((admin, message.message_id))
        return sent  # none reached: the timeout decides

    async def show(self, messages: Sequence[tuple[int, int]], text: str) -> None:
        for chat, message_id in messages:
            try:
                await self.bot.edit_message_text(
                    chat_id=chat, message_id=message_id, text=escape_html(text), reply_markup=None
                )
            except TelegramError as err:
                log.info("approval message %s/%s not updated: %s", chat, message_id, err)


class ApprovalHandlers:
    """The approval buttons and the "Modifier" teaser, for admins only."""

    def __init__(self, ctx: BotContext, desk: TelegramDesk) -> None:
        self.ctx, self.desk = ctx, desk

    def register(self, app: Any, *, fallback: Handler) -> None:
        """Before the reader's handlers: the buttons by their prefix, and plain text — an
        editing admin's teaser, else `fallback` (the reader's own plain-text handler)."""
        self._fallback = fallback
        app.add_handler(CallbackQueryHandler(self.button, pattern=r"^ap:"))
        private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
        app.add_handler(MessageHandler(private_text, self.teaser))

    def _wake(self) -> None:
        if self.ctx.hooks.wake is not None:
            self.ctx.hooks.wake()

    async def button(self, update: Update, context: Any) -> None:
        query = update.callback_query
        if query is None:
            return
        parsed = parse_callback(query.data or "")
        if parsed is None or not self.ctx.is_admin(query.from_user):
            await query.answer()
            return
        delivery_id, answer = parsed
        verdict = Verdict(answer, by_name(query.from_user), self.ctx.clock.now())
        state, due = after_verdict(verdict)
        written, recorded = self.ctx.storage.answer_pending(
            delivery_id, verdict, state=DeliveryState(state), due=due
        )
        if not written and recorded is None:
            await query.answer("Cette publication n'attend plus d'approbation.")
            return
        settlement = settle(None if written else recorded, verdict)
        await query.answer(settlement.message[:200])
        if not settlement.applied:
            return
        log.info("delivery %s: %s", delivery_id, settlement.message)
        if answer == "edit":
            chat = update.effective_chat
            if chat is not None:
                await context.bot.send_message(
                    chat_id=chat.id,
                    text=f"✏️ Envoyez-moi le nouveau texte d'accroche pour la publication "
                    f"#{delivery_id} (pour elle seule).",
                )
            return
        await self.desk.show(self.ctx.storage.approval_messages(delivery_id), settlement.message)
        self._wake()

    async def teaser(self, update: Update, context: Any) -> None:
        user, message = update.effective_user, update.effective_message
        editing = (
            self.ctx.storage.editing(by_name(user))
            if user is not None and message is not None and self.ctx.is_admin(user)
            else None
        )
        if user is None or message is None or editing is None:
            await self._fallback(update, context)  # not a teaser: a reader's search
            return
        by, delivery = by_name(user), editing
        teaser = clean_input(message.text or "", TEASER_MAX)
        now = self.ctx.clock.now()
        approved = teaser and self.ctx.storage.approve_with_teaser(
            delivery.id, by, teaser, now, author=user.id
        )
        if approved:
            decided = describe(Verdict("publish", by, now))
            await self.desk.show(self.ctx.storage.approval_messages(delivery.id), decided)
            await message.reply_text(f"✅ Accroche enregistrée : #{delivery.id} part avec elle.")
            self._wake()
