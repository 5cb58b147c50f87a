"""The Telegram publisher: posts to one channel through the shared bot; photo fallbacks."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePosixPath
from typing import NoReturn
from urllib.parse import urlsplit

import httpx
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot import USER_AGENT
from bot.clock import Clock, SystemClock
from bot.models import (
    ChannelType,
    Post,
    PublishResult,
    ReconcileOutcome,
    Reconciliation,
    TelegramPost,
)
from bot.publishers.boundary import short, wrong_post
from bot.publishers.telegram.client import chat_param
from bot.publishers.telegram.errors import photo_refusal, raise_translated
from bot.secrets import scrub
from bot.settings import ChannelSettings
from bot.telegram_bot.messages import Lang

log = logging.getLogger(__name__)

PHOTO_UPLOAD_MAX_BYTES = 10 * 1024 * 1024  # Telegram's limit for a photo sent by upload
PHOTO_DOWNLOAD_TIMEOUT = 15.0  # seconds, for the whole download of an article's image


class _PhotoUnavailable(Exception):
    """The article's image cannot be downloaded for an upload."""


def _keyboard(post: TelegramPost) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(label, url=url) for (label, url) in row if label and url]
        for row in post.buttons
    ]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


def _preview(post: TelegramPost) -> LinkPreviewOptions:
    """The article's link as a large preview under the text (Telegram's default placement)."""
    if post.link:
        return LinkPreviewOptions(url=post.link, prefer_large_media=True, show_above_text=False)
    return LinkPreviewOptions(prefer_large_media=True)


def _photo_filename(url: str, content_type: str) -> str:
    name = PurePosixPath(urlsplit(url).path).name
    suffix = PurePosixPath(name).suffix.lower()
    if name and suffix in {".jpg", ".jpeg", ".png", ".gif", ".webp"}:
        return name
    guessed = mimetypes.guess_extension(content_type) or ".jpg"
    return f"photo{'.jpg' if guessed == '.jpe' else guessed}"


class TelegramPublisher:
    """Publishes rendered posts to one Telegram channel (or group) through a shared bot.

    `chat_id` overrides the configured chat (the engine passes the new id of a migrated chat);
    `lang` is the site's language, that of the errors the admins read.
    `http` is used to download images that Telegram refuses to fetch by URL; without it the
    publisher opens its own client and closes it in `aclose`. The shared `bot` is never closed.
    """

    def __init__(
        self,
        channel: ChannelSettings,
        bot: Bot,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        chat_id: int | str | None = None,
        max_photo_bytes: int = PHOTO_UPLOAD_MAX_BYTES,
        download_timeout: float = PHOTO_DOWNLOAD_TIMEOUT,
        user_agent: str = USER_AGENT,
        lang: Lang = "fr",
    ) -> None:
        if channel.type is not ChannelType.TELEGRAM:
            raise ValueError(f"channel {channel.id!r} is not a telegram channel")
        chat = chat_id if chat_id is not None else channel.chat
        if chat is None:
            raise ValueError(f"channel {channel.id!r} has no chat")
        self.channel_id = channel.id
        self._channel = channel
        self._bot = bot
        self._chat = chat_param(chat)
        configured = channel.chat or ""
        self._username = configured[1:] if configured.startswith("@") else None
        self._http = http
        self._user_agent = user_agent
        self._owns_http = False
        self._clock: Clock = clock or SystemClock()
        self._max_photo_bytes = max_photo_bytes
        self._download_timeout = download_timeout
        self._lang: Lang = lang

    @property
    def chat(self) -> int | str:
        """The chat this publisher posts to (after any override)."""
        return self._chat

    # -- Publisher protocol ------------------------------------------------------------------

    async def publish(self, post: Post) -> PublishResult:
        if not isinstance(post, TelegramPost):
            raise wrong_post(self.channel_id, post, "Telegram", self._lang)
        markup = _keyboard(post)
        silent = post.silent  # rendered from the channel's `silent`; an urgent post rings
        if post.method == "sendPhoto" and post.photo:
            message = await self._publish_photo(post, post.photo, markup, silent)
        else:
            message = await self._send_text(post, markup, silent)
        return self._result(message)

    async def reconcile(self, post: Post, since: datetime) -> Reconciliation:
        """A bot cannot read a channel's history: Telegram posts are never reconciled."""
        return Reconciliation(ReconcileOutcome.CANNOT_TELL)

    async def edit(self, remote_id: str, post: Post, methods: Sequence[str]) -> PublishResult:
        """Bring a sent post up to date (`corrections.edit_plan`'s methods): a new picture with
        `editMessageMedia` (the caption rides along), a caption with `editMessageCaption`, a text
        with `editMessageText`. "Message is not modified" means it shows this already: done."""
        if not isinstance(post, TelegramPost):
            raise wrong_post(self.channel_id, post, "Telegram", self._lang)
        markup, chat, message_id = _keyboard(post), self._chat, int(remote_id)
        try:
            if "editMessageMedia" in methods and post.photo:
                media = InputMediaPhoto(post.photo, caption=post.text, parse_mode=ParseMode.HTML)
                await self._bot.edit_message_media(
                    media=media, chat_id=chat, message_id=message_id, reply_markup=markup
                )
            elif "editMessageCaption" in methods:
                await self._bot.edit_message_caption(
                    caption=post.text,
                    parse_mode=ParseMode.HTML,
                    chat_id=chat,
                    message_id=message_id,
                    reply_markup=markup,
                )
            else:
                await self._bot.edit_message_text(
                    text=post.text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=_preview(post),
                    chat_id=chat,
                    message_id=message_id,
                    reply_markup=markup,
                )
        except BadRequest as err:
            if "message is not modified" not in err.message.lower():
                self._fail(err)
        except TelegramError as err:
            self._fail(err)
        username = self._username
        link = f"https://t.me/{username}/{remote_id}" if username else None
        return PublishResult(remote_id=remote_id, link=link)

    async def delete(self, remote_id: str) -> None:
        """deleteMessage (Telegram allows it within 48 hours: `removal.delete_refusal`)."""
        try:
            await self._bot.delete_message(chat_id=self._chat, message_id=int(remote_id))
        except BadRequest as err:
            if "message to delete not found" not in err.message.lower():
                self._fail(err)
        except TelegramError as err:
            self._fail(err)

    async def pin(self, remote_id: str) -> None:
        """Pin the post (breaking news), without a second notification: it rang already."""
        try:
            await self._bot.pin_chat_message(
                chat_id=self._chat, message_id=int(remote_id), disable_notification=True
            )
        except TelegramError as err:
            self._fail(err)

    async def unpin(self, remote_id: str) -> None:
        try:
            await self._bot.unpin_chat_message(chat_id=self._chat, message_id=int(remote_id))
        except TelegramError as err:
            self._fail(err)

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
        self._http = None
        self._owns_http = False

    # -- sending -----------------------------------------------------------------------------

    def _fail(self, err: TelegramError) -> NoReturn:
        raise_translated(err, secrets=(self._bot.token,), lang=self._lang)

    async def _send_text(
        self, post: TelegramPost, markup: InlineKeyboardMarkup | None, silent: bool
    ) -> Message:
        try:
            return await self._bot.send_message(
                chat_id=self._chat,
                text=post.text,
                parse_mode=ParseMode.HTML,
                link_preview_options=_preview(post),
                reply_markup=markup,
                disable_notification=silent,
            )
        except TelegramError as err:
            self._fail(err)

    async def _send_photo(
        self,
        post: TelegramPost,
        photo: str | InputFile,
        markup: InlineKeyboardMarkup | None,
        silent: bool,
    ) -> Message:
        return await self._bot.send_photo(
            chat_id=self._chat,
            photo=photo,
            caption=post.text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            disable_notification=silent,
        )

    async def _publish_photo(
        self, post: TelegramPost, url: str, markup: InlineKeyboardMarkup | None, silent: bool
    ) -> Message:
        """Photo by URL; if Telegram cannot fetch it, download and upload it; if that fails too,
        the same text as a message with the article's link preview. The post is never lost
        because of its picture."""
        try:
            return await self._send_photo(post, url, markup, silent)
        except BadRequest as err:
            refusal = photo_refusal(err.message)
            if refusal is None:
                self._fail(err)
            reason = short(scrub(err.message, (self._bot.token,)))
        except TelegramError as err:
            self._fail(err)

        if refusal == "url":
            log.warning(
                "%s: Telegram could not take the photo %s by URL (%s); uploading it",
                self.channel_id,
                url,
                reason,
            )
            try:
                data, filename = await self._download(url)
            except _PhotoUnavailable as why:
                log.warning(
                    "%s: the photo %s cannot be downloaded (%s); posting the text with the "
                    "link preview",
                    self.channel_id,
                    url,
                    why,
                )
            else:
                try:
                    return await self._send_photo(
                        post, InputFile(data, filename=filename), markup, silent
                    )
                except BadRequest as err:
                    if photo_refusal(err.message) is None:
                        self._fail(err)
                    log.warning(
                        "%s: Telegram refused the uploaded photo %s (%s); posting the text "
                        "with the link preview",
                        self.channel_id,
                        url,
                        short(scrub(err.message, (self._bot.token,))),
                    )
                except TelegramError as err:
                    self._fail(err)
        else:
            log.warning(
                "%s: Telegram refused the photo %s (%s); posting the text with the link preview",
                self.channel_id,
                url,
                reason,
            )
        return await self._send_text(post, markup, silent)

    # -- photo download ----------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(headers={"User-Agent": self._user_agent})
            self._owns_http = True
        return self._http

    async def _download(self, url: str) -> tuple[bytes, str]:
        """The image at `url` (an image/* answer of at most `max_photo_bytes`) and a file name."""
        if urlsplit(url).scheme not in {"http", "https"}:
            raise _PhotoUnavailable("not an http(s) URL")
        cap = self._max_photo_bytes
        body = bytearray()
        try:
            async with asyncio.timeout(self._download_timeout):
                async with self._client().stream(
                    "GET",
                    url,
                    headers={"Accept": "image/*"},
                    timeout=self._download_timeout,
                    follow_redirects=True,
                ) as response:
                    if response.status_code != 200:
                        raise _PhotoUnavailable(f"HTTP {response.status_code}")
                    content_type = (
                        response.headers.get("content-type", "").split(";")[0].strip().lower()
                    )
                    if not content_type.startswith("image/") or content_type == "image/svg+xml":
                        raise _PhotoUnavailable(
                            f"not an image: {content_type or 'no content type'}"
                        )
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > cap:
                        raise _PhotoUnavailable(f"too big: {int(declared)} bytes (max {cap})")
                    async for chunk in response.aiter_bytes():
                        body.extend(chunk)
                        if len(body) > cap:
                            raise _PhotoUnavailable(f"too big: over {cap} bytes")
        except TimeoutError:
            raise _PhotoUnavailable(f"took over {self._download_timeout:g} s") from None
        except httpx.HTTPError as err:
            raise _PhotoUnavailable(f"{type(err).__name__}: {short(str(err), 120)}") from None
        if not body:
            raise _PhotoUnavailable("empty answer")
        return bytes(body), _photo_filename(url, content_type)

    # -- result ------------------------------------------------------------------------------

    def _result(self, message: Message) -> PublishResult:
        username = message.chat.username or self._username
        link = f"https://t.me/{username}/{message.message_id}" if username else None
        return PublishResult(remote_id=str(message.message_id), link=link)
