"""Reader commands: /start /help /latest /search /topics /subscribe /digest /lang /stop…"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.content.telegram_html import escape_html
from bot.models import Subscription, Topic
from bot.telegram_bot.context import BotContext, clean_input, send, topic_token
from bot.telegram_bot.messages import Html, Lang, as_lang, text
from bot.telegram_bot.search import query_terms, suggest, topic_key
from bot.telegram_bot.views import article_lines, fit

log = logging.getLogger("relais.readers")

LATEST_DEFAULT = 5
LATEST_MAX = 10
PAGE_OFFSET_MAX = 200  # "more" pages go this deep at most
SEARCH_PAGE = 5
TOPICS_SHOWN = 30
SUBSCRIPTIONS_MAX = 30
CALLBACK_MAX = 64  # bytes of callback data Telegram accepts

DIGEST_ON = {"daily", "on", "quotidien", "oui", "yes", "matin", "jour"}
DIGEST_OFF = {"off", "non", "no", "stop", "arret", "arrêt", "aucun", "none"}


def argument(update: Update) -> str:
    """What follows the command in the message, cleaned ('' when nothing)."""
    message = update.effective_message
    raw = (message.text or "") if message is not None else ""
    if raw.startswith("/"):
        raw = raw.partition(" ")[2] if " " in raw else ""
    return clean_input(raw)


def _parse_page(data: str, prefix: str) -> tuple[int, int, str] | None:
    """'l:5:5' → (5, 5, ''); 's:5:words' → (5, 0, 'words'); None when malformed."""
    match = re.fullmatch(rf"{prefix}:(\d{{1,4}}):(.*)", data, flags=re.DOTALL)
    if not match:
        return None
    offset = int(match.group(1))
    rest = match.group(2)
    if offset > PAGE_OFFSET_MAX:
        return None
    if prefix == "l":
        if not rest.isdigit() or not 1 <= int(rest[:3]) <= LATEST_MAX:
            return None
        return offset, int(rest), ""
    return offset, 0, rest


class ReaderHandlers:
    """The commands and buttons any reader can use (private chats only)."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx

    def register(self, app: Any) -> None:
        private = filters.ChatType.PRIVATE
        for name, callback in (
            ("start", self.start),
            ("help", self.help),
            ("latest", self.latest),
            ("search", self.search),
            ("topics", self.topics),
            ("subscribe", self.subscribe),
            ("unsubscribe", self.unsubscribe),
            ("digest", self.digest),
            ("lang", self.lang),
            ("stop", self.stop),
        ):
            app.add_handler(CommandHandler(name, callback, filters=private))
        app.add_handler(CallbackQueryHandler(self.latest_page, pattern=r"^l:"))
        app.add_handler(CallbackQueryHandler(self.search_page, pattern=r"^s:"))
        app.add_handler(CallbackQueryHandler(self.topic_button, pattern=r"^t?[+-]:"))
        app.add_handler(CallbackQueryHandler(self.stale_button))

    def register_fallbacks(self, app: Any) -> None:
        """After the admin commands: unknown commands, and plain text as a search."""
        private = filters.ChatType.PRIVATE
        app.add_handler(MessageHandler(private & filters.COMMAND, self.unknown))
        app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, self.plain_text))

    # ---- welcome ------------------------------------------------------------------------

    def _help(self, lang: Lang, update: Update) -> str:
        telegram = self.ctx.settings.telegram
        body = text(lang, "help", time=f"{telegram.digest_at:%H:%M}")
        if self.ctx.is_admin(update.effective_user):
            body += "\n\n" + text(lang, "admin_help")
        return body

    async def start(self, update: Update, context: Any) -> None:
        lang = self.ctx.lang(update)
        user = update.effective_user
        name = clean_input(user.first_name if user else "", 64) or "👋"
        message = text(
            lang,
            "welcome",
            name=name,
            site=self.ctx.settings.site.name,
            help=Html(self._help(lang, update)),
        )
        await send(update, context, message)

    async def help(self, update: Update, context: Any) -> None:
        lang = self.ctx.lang(update)
        await send(update, context, self._help(lang, update))

    async def unknown(self, update: Update, context: Any) -> None:
        await send(update, context, text(self.ctx.lang(update), "unknown_command"))

    # ---- latest -------------------------------------------------------------------------

    def _latest_page(
        self, lang: Lang, offset: int, size: int
    ) -> tuple[str, InlineKeyboardMarkup | None] | None:
        found = self.ctx.readers.latest(offset=offset, limit=size + 1)
        if not found:
            return None
        shown, more = found[:size], len(found) > size
        site = self.ctx.settings.site
        if offset:
            head = text(
                lang,
                "latest_more_title",
                site=site.name,
                first=offset + 1,
                last=offset + len(shown),
            )
        else:
            head = text(lang, "latest_title", site=site.name)
        body = article_lines(shown, lang, site.tz, first_number=offset + 1)
        markup = None
        if more and offset + size <= PAGE_OFFSET_MAX:
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            text(lang, "more_button"), callback_data=f"l:{offset + size}:{size}"
                        )
                    ]
                ]
            )
        return fit([head, "", *body]), markup

    async def latest(self, update: Update, context: Any) -> None:
        lang = self.ctx.lang(update)
        arg = argument(update)
        size = LATEST_DEFAULT
        if arg:
            if not arg.isdigit():
                await send(update, context, text(lang, "latest_usage"))
                return
            size = max(1, min(LATEST_MAX, int(arg[:4])))
        page = self._latest_page(lang, 0, size)
        if page is None:
            await send(update, context, text(lang, "latest_empty"))
            return
        await send(update, context, page[0], markup=page[1])

    async def latest_page(self, update: Update, context: Any) -> None:
        query = update.callback_query
        if query is None:
            return
        lang = self.ctx.lang(update)
        parsed = _parse_page(query.data or "", "l")
        if parsed is None:
            await query.answer(text(lang, "button_expired"))
            return
        offset, size, _ = parsed
        page = self._latest_page(lang, offset, size)
        if page is None:
            await query.answer(text(lang, "latest_end"))
            return
        await query.answer()
        await self._show(update, context, page[0], page[1])

    async def _show(
        self, update: Update, context: Any, message: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        """Replace the message under a pressed button (a new message if it cannot be edited)."""
        query = update.callback_query
        if query is not None and query.message is not None:
            try:
                await query.edit_message_text(
                    message,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                return
            except BadRequest as err:
                if "not modified" in err.message.lower():
                    return
                log.info("could not edit a message (%s): sending a new one", err.message)
        await send(update, context, message, markup=markup)

    # ---- search -------------------------------------------------------------------------

    async def _search_page(
        self, lang: Lang, terms: list[str], shown_query: str, offset: int
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        # a scan of the folded texts: in a worker thread, so that the loop keeps answering
        found, more = await asyncio.to_thread(
            self.ctx.readers.search, terms, offset=offset, limit=SEARCH_PAGE
        )
        if not found:
            key = "search_none" if offset == 0 else "latest_end"
            return text(lang, key, query=shown_query), None
        site = self.ctx.settings.site
        head = text(lang, "search_title", query=shown_query)
        body = article_lines(found, lang, site.tz, first_number=offset + 1)
        markup = None
        data = f"s:{offset + SEARCH_PAGE}:{' '.join(terms)}"
        if (
            more
            and len(data.encode("utf-8")) <= CALLBACK_MAX
            and offset + SEARCH_PAGE <= PAGE_OFFSET_MAX
        ):
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(text(lang, "more_button"), callback_data=data)]]
            )
        return fit([head, "", *body]), markup

    async def _search(self, update: Update, context: Any, query: str) -> None:
        lang = self.ctx.lang(update)
        terms = query_terms(query)
        if not terms:
            await send(update, context, text(lang, "search_usage"))
            return
        shown = query if len(query) <= 80 else query[:79] + "…"
        message, markup = await self._search_page(lang, terms, shown, 0)
        await send(update, context, message, markup=markup)

    async def search(self, update: Update, context: Any) -> None:
        await self._search(update, context, argument(update))

    async def plain_text(self, update: Update, context: Any) -> None:
        await self._search(update, context, argument(update))

    async def search_page(self, update: Update, context: Any) -> None:
        query = update.callback_query
        if query is None:
            return
        lang = self.ctx.lang(update)
        parsed = _parse_page(query.data or "", "s")
        terms = query_terms(parsed[2]) if parsed else []
        if parsed is None or not terms:
            await query.answer(text(lang, "button_expired"))
            return
        await query.answer()
        message, markup = await self._search_page(lang, terms, " ".join(terms), parsed[0])
        await self._show(update, context, message, markup)

    # ---- topics -------------------------------------------------------------------------

    def _topics_view(
        self, lang: Lang, subscribed: list[Subscription]
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        topics = self.ctx.topics.get()
        if not topics:
            return text(lang, "topics_empty"), None
        mine = {s.topic for s in subscribed}
        shown: list[Topic] = topics[:TOPICS_SHOWN]
        shown_keys = {t.key for t in shown}
        extra = [Topic(s.topic, s.label, 0) for s in subscribed if s.topic not in shown_keys]
        lines = [
            text(lang, "topics_title", site=self.ctx.settings.site.name),
            text(lang, "topics_hint"),
            "",
        ]
        for topic in shown:
            mark = "✅" if topic.key in mine else "•"
            lines.append(f"{mark} {escape_html(topic.label)} ({topic.count})")
        buttons = [
            InlineKeyboardButton(
                ("✅ " if t.key in mine else "➕ ") + t.label[:40],
                callback_data=f"t{'-' if t.key in mine else '+'}:{topic_token(t.key)}",
            )
            for t in [*shown, *extra]
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        return fit(lines), InlineKeyboardMarkup(rows)

    async def topics(self, update: Update, context: Any) -> None:
        user = update.effective_user
        if user is None:
            return
        lang = self.ctx.lang(update)
        await self.ctx.topics.refresh()
        message, markup = self._topics_view(lang, self.ctx.readers.subscriptions(user.id))
        await send(update, context, message, markup=markup)

    def _resolve(self, token: str, user_id: int) -> tuple[str, str] | None:
        """A topic token from a button → (key, label), among the site's topics and the
        reader's own subscriptions."""
        for key, label in self.ctx.topics.by_key().items():
            if topic_token(key) == token:
                return key, label
        for sub in self.ctx.readers.subscriptions(user_id):
            if topic_token(sub.topic) == token:
                return sub.topic, sub.label
        return None

    def _add(self, user_id: int, chat_id: int, key: str, label: str, code: str | None) -> str:
        """Subscribe; returns the catalogue key of the answer."""
        readers = self.ctx.readers
        if any(s.topic == key for s in readers.subscriptions(user_id)):
            return "already_subscribed"
        if readers.subscription_count(user_id) >= SUBSCRIPTIONS_MAX:
            return "too_many_topics"
        readers.subscribe(
            user_id, chat_id, key, label, self.ctx.clock.now(), telegram_language=code
        )
        log.info("reader %s subscribed to %r", user_id, key)
        return "subscribed"

    async def topic_button(self, update: Update, context: Any) -> None:
        query = update.callback_query
        user = update.effective_user
        chat = update.effective_chat
        if query is None or user is None or chat is None:
            return
        lang = self.ctx.lang(update)
        data = query.data or ""
        await self.ctx.topics.refresh()
        in_list = data.startswith("t")
        action, _, token = data.removeprefix("t").partition(":")
        found = self._resolve(token, user.id) if re.fullmatch(r"[0-9a-f]{12}", token) else None
        if found is None:
            await query.answer(text(lang, "button_expired"))
            return
        key, label = found
        if action == "+":
            outcome = self._add(user.id, chat.id, key, label, user.language_code)
            toast = "toast_subscribed" if outcome == "subscribed" else outcome
        else:
            self.ctx.readers.unsubscribe(user.id, key)
            log.info("reader %s unsubscribed from %r", user.id, key)
            toast = "toast_unsubscribed"
        answer = text(lang, toast, topic=label, count=SUBSCRIPTIONS_MAX)
        await query.answer(html.unescape(re.sub(r"<[^>]+>", "", answer))[:190])
        if in_list:
            message, markup = self._topics_view(lang, self.ctx.readers.subscriptions(user.id))
            await self._show(update, context, message, markup)
        elif outcome_is_new(toast):
            await send(update, context, text(lang, "subscribed", topic=label))

    async def stale_button(self, update: Update, context: Any) -> None:
        query = update.callback_query
        if query is not None:
            await query.answer(text(self.ctx.lang(update), "button_expired"))

    def _suggestions(self, lang: Lang, typed: str) -> tuple[str, InlineKeyboardMarkup | None]:
        known = self.ctx.topics.by_key()
        lines = [text(lang, "unknown_topic", topic=typed)]
        labels = suggest(typed, known)
        markup = None
        if labels:
            lines.append(text(lang, "suggestions", topics=", ".join(labels)))
            keys = {label: key for key, label in known.items()}
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            f"➕ {label[:40]}", callback_data=f"+:{topic_token(keys[label])}"
                        )
                    ]
                    for label in labels
                ]
            )
        lines.append(text(lang, "see_topics"))
        return "\n".join(lines), markup

    async def subscribe(self, update: Update, context: Any) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        lang = self.ctx.lang(update)
        typed = argument(update)
        key = topic_key(typed)
        if not key:
            await send(update, context, text(lang, "subscribe_usage"))
            return
        await self.ctx.topics.refresh()
        known = self.ctx.topics.by_key()
        if not known:
            await send(update, context, text(lang, "topics_empty"))
            return
        if key not in known:
            message, markup = self._suggestions(lang, typed)
            await send(update, context, message, markup=markup)
            return
        outcome = self._add(user.id, chat.id, key, known[key], user.language_code)
        await send(update, context, text(lang, outcome, topic=known[key], count=SUBSCRIPTIONS_MAX))

    async def unsubscribe(self, update: Update, context: Any) -> None:
        user = update.effective_user
        if user is None:
            return
        lang = self.ctx.lang(update)
        typed = argument(update)
        key = topic_key(typed)
        mine = self.ctx.readers.subscriptions(user.id)
        if key and any(s.topic == key for s in mine):
            label = next(s.label for s in mine if s.topic == key)
            self.ctx.readers.unsubscribe(user.id, key)
            log.info("reader %s unsubscribed from %r", user.id, key)
            await send(update, context, text(lang, "unsubscribed", topic=label))
            return
        lines = []
        if key:
            lines.append(text(lang, "not_subscribed", topic=typed))
        else:
            lines.append(text(lang, "unsubscribe_usage"))
        markup = None
        if mine:
            lines.append(text(lang, "your_topics", topics=", ".join(s.label for s in mine)))
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            f"✖ {s.label[:40]}", callback_data=f"-:{topic_token(s.topic)}"
                        )
                    ]
                    for s in mine
                ]
            )
        else:
            lines.append(text(lang, "no_subscriptions"))
        await send(update, context, "\n".join(lines), markup=markup)

    # ---- preferences --------------------------------------------------------------------

    async def digest(self, update: Update, context: Any) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        row, lang = self.ctx.reader(user)
        time = f"{self.ctx.settings.telegram.digest_at:%H:%M}"
        choice = topic_key(argument(update))
        now = self.ctx.clock.now()
        if choice in DIGEST_ON:
            self.ctx.readers.set_digest(
                user.id, chat.id, True, now, telegram_language=user.language_code
            )
            key = "digest_on" if self.ctx.readers.subscriptions(user.id) else "digest_on_all"
            await send(update, context, text(lang, key, time=time))
            return
        if choice in {topic_key(w) for w in DIGEST_OFF}:
            if row is not None:
                self.ctx.readers.set_digest(user.id, chat.id, False, now)
            await send(update, context, text(lang, "digest_off"))
            return
        state = "digest_state_on" if row is not None and row.digest else "digest_state_off"
        await send(update, context, text(lang, "digest_usage", time=time, state=text(lang, state)))

    async def lang(self, update: Update, context: Any) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        chosen = as_lang(argument(update))
        if chosen is None or len(argument(update)) > 5:
            await send(update, context, text(self.ctx.lang(update), "lang_usage"))
            return
        self.ctx.readers.set_language(
            user.id, chat.id, chosen, self.ctx.clock.now(), telegram_language=user.language_code
        )
        await send(update, context, text(chosen, "lang_set"))

    async def stop(self, update: Update, context: Any) -> None:
        user = update.effective_user
        if user is None:
            return
        lang = self.ctx.lang(update)
        forgotten = self.ctx.readers.forget(user.id)
        log.info(
            "reader %s asked to be forgotten (%s)",
            user.id,
            "done" if forgotten.anything else "nothing kept",
        )
        await send(
            update, context, text(lang, "stop_done" if forgotten.anything else "stop_nothing")
        )


def outcome_is_new(toast: str) -> bool:
    return toast == "toast_subscribed"
