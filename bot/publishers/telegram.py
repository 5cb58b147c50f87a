"""Telegram channels via python-telegram-bot: build the bot, publish posts, map errors, check."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
import ssl
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, Literal, NoReturn
from urllib.parse import urlsplit

import certifi
import httpx
from telegram import (
    Bot,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberOwner,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    User,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot import USER_AGENT
from bot.clock import Clock, SystemClock
from bot.delivery.telegram_rates import BOT_WIDE_PER_SECOND, PER_CHANNEL_PER_MINUTE
from bot.errors import (
    AuthError,
    ChatMovedError,
    CredentialsError,
    PermanentError,
    PublishError,
    TooLongError,
    TransientError,
    UnknownOutcomeError,
)
from bot.models import (
    ChannelType,
    Post,
    PublishResult,
    ReconcileOutcome,
    Reconciliation,
    TelegramPost,
)
from bot.secrets import mentions_secret, redact_in_logs, scrub
from bot.settings import ChannelSettings, TelegramSettings

log = logging.getLogger(__name__)

PHOTO_UPLOAD_MAX_BYTES = 10 * 1024 * 1024  # Telegram's limit for a photo sent by upload
PHOTO_DOWNLOAD_TIMEOUT = 15.0  # seconds, for the whole download of an article's image

# Loggers that may print a URL (which holds the token): httpx logs every request at INFO, and
# python-telegram-bot logs its base URL at DEBUG and the token itself when initialize() fails.
_TOKEN_LOGGERS = (
    "httpx",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "telegram.ext.AIORateLimiter",
    "telegram.ext.Updater",
    "telegram.ext.Application",
)

# Lower-cased fragments of Telegram's descriptions. python-telegram-bot drops "Bad Request: " and
# lower-cases the rest of the text (str.capitalize), so every comparison is on lower case.
_TOO_LONG = (
    "message is too long",
    "caption is too long",
    "entities too long",
    "text is too long",
    "message_too_long",
    "media_caption_too_long",
)
_NO_RIGHTS = (
    "not enough rights",
    "need administrator rights",
    "have no rights to send",
    "chat_write_forbidden",
    "chat_admin_required",
    "chat_restricted",
)
# Telegram could not take the photo from its URL: downloading and uploading it may work.
_PHOTO_URL_REFUSED = (
    "wrong file identifier/http url specified",
    "failed to get http url content",
    "wrong type of the web page content",
    "wrong http url",
    "wrong remote file identifier",
    "webpage_curl_failed",
    "webpage_media_empty",
    "photo_content_url_empty",
    "file is too big",
)
# Telegram refused the image itself: sending the same bytes again will not help.
_PHOTO_REFUSED = (
    "image_process_failed",
    "photo_invalid_dimensions",
    "photo_ext_invalid",
    "photo_save_file_invalid",
    "photo_content_type_invalid",
    "photo_invalid",
)

PhotoRefusal = Literal["url", "image"]


def redact_token_in_logs(token: str) -> None:
    """Keep `token` out of the logs of httpx and python-telegram-bot (idempotent)."""
    redact_in_logs(token, loggers=_TOKEN_LOGGERS)


def _chain_mentions(err: BaseException, secrets: Iterable[str]) -> bool:
    """Whether `err` or any exception it was raised from/while prints a secret or a token."""
    seen: set[int] = set()
    current: BaseException | None = err
    secrets = tuple(s for s in secrets if s)
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = f"{current!s} {current!r}"
        if mentions_secret(text, secrets):
            return True
        current = current.__cause__ or current.__context__
    return False


# --------------------------------------------------------------------------------------------
# The bot


@dataclass(frozen=True, slots=True)
class BotTimeouts:
    """HTTP timeouts (seconds) of the Bot API client; a read timeout on a send is ambiguous."""

    connect: float = 10.0
    read: float = 20.0
    write: float = 20.0
    media_write: float = 60.0
    pool: float = 5.0


class InvalidTokenError(CredentialsError):
    """Telegram refused the bot token: every Telegram channel must pause, not only this one."""


def _file_url(api_url: str) -> str:
    """The file download base matching an API base: …/bot → …/file/bot."""
    head, sep, tail = api_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else api_url


def make_bot(
    settings: TelegramSettings,
    *,
    rate_limited: bool = True,
    timeouts: BotTimeouts | None = None,
) -> ExtBot[Any]:
    """The shared Bot API client: `settings.api_url` (a `{token}` in it is replaced), explicit
    timeouts, and python-telegram-bot's AIORateLimiter at Telegram's rates
    (delivery/telegram_rates.py) that never retries by itself, so a 429 reaches the outbox as a
    TransientError.

    The caller owns the bot: `async with bot:` (or initialize/shutdown) around its use.
    """
    token = settings.token.get_secret_value().strip() if settings.token is not None else ""
    if not token:
        raise InvalidTokenError("no Telegram bot token is configured (telegram.token)")
    redact_token_in_logs(token)
    t = timeouts or BotTimeouts()
    # One TLS context (httpx's default: certifi's CA bundle) for both connection pools: loading
    # the bundle is the slow part of creating an HTTP client.
    tls = {"verify": ssl.create_default_context(cafile=certifi.where())}
    request = HTTPXRequest(
        connection_pool_size=256,
        connect_timeout=t.connect,
        read_timeout=t.read,
        write_timeout=t.write,
        media_write_timeout=t.media_write,
        pool_timeout=t.pool,
        httpx_kwargs=tls,
    )
    # getUpdates has its own connection; python-telegram-bot adds the long-poll time to `read`.
    updates_request = HTTPXRequest(
        connection_pool_size=1,
        connect_timeout=t.connect,
        read_timeout=t.read,
        write_timeout=t.write,
        pool_timeout=t.pool,
        httpx_kwargs=tls,
    )
    limiter = (
        AIORateLimiter(
            overall_max_rate=BOT_WIDE_PER_SECOND,
            overall_time_period=1,
            group_max_rate=PER_CHANNEL_PER_MINUTE,
            group_time_period=60,
            max_retries=0,
        )
        if rate_limited
        else None
    )
    return ExtBot(
        token,
        base_url=settings.api_url,
        base_file_url=_file_url(settings.api_url),
        request=request,
        get_updates_request=updates_request,
        rate_limiter=limiter,
    )


async def initialize_bot(bot: Bot) -> User:
    """`bot.initialize()` (which checks the token with getMe), with Relais errors: python-telegram-
    bot's own InvalidToken message quotes the token, this one never does. Returns the bot's user.
    Shut the bot down even when this fails: its connections are open by then."""
    try:
        await bot.initialize()
    except TelegramError as err:
        mapped = translate_error(err, secrets=(bot.token,))
        if _chain_mentions(err, (bot.token,)):
            raise mapped from None
        raise mapped from err
    return bot.bot


# --------------------------------------------------------------------------------------------
# Errors


def retry_after_seconds(err: RetryAfter) -> float:
    """`err.retry_after` in seconds, whether python-telegram-bot gives an int or a timedelta
    (PTB_TIMEDELTA), without the deprecation warning that reading the int form emits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = err.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def photo_refusal(description: str) -> PhotoRefusal | None:
    """'url' when Telegram could not fetch a photo by URL (upload it instead), 'image' when it
    refused the image itself (post as text), None for anything else."""
    lowered = description.lower()
    if any(fragment in lowered for fragment in _PHOTO_URL_REFUSED):
        return "url"
    if any(fragment in lowered for fragment in _PHOTO_REFUSED):
        return "image"
    return None


def translate_error(err: TelegramError, *, secrets: Iterable[str] = ()) -> PublishError:
    """The Relais error for a python-telegram-bot error (see docs/design.md for the table).

    The message never contains a secret or anything shaped like a bot token.
    """
    secrets = tuple(secrets)
    description = _short(scrub(err.message, secrets))
    if isinstance(err, InvalidToken):
        return InvalidTokenError(
            "Telegram refused the bot token (401/404): check telegram.token "
            "(and telegram.api_url); every Telegram channel waits until it is fixed"
        )
    if isinstance(err, RetryAfter):
        seconds = retry_after_seconds(err)
        return TransientError(
            f"Telegram flood control: retry in {seconds:g} s", retry_after=seconds
        )
    if isinstance(err, ChatMigrated):
        return ChatMovedError(
            f"the Telegram chat moved to {err.new_chat_id}", new_chat_id=int(err.new_chat_id)
        )
    if isinstance(err, Forbidden):
        return AuthError(f"Telegram forbids the bot to post here: {description}")
    if isinstance(err, BadRequest):  # before NetworkError: BadRequest is a subclass of it
        lowered = err.message.lower()
        if any(fragment in lowered for fragment in _TOO_LONG):
            return TooLongError(f"Telegram refused the post as too long: {description}")
        if any(fragment in lowered for fragment in _NO_RIGHTS):
            return AuthError(f"the bot lacks the rights to post here: {description}")
        return PermanentError(f"Telegram refused the post: {description}")
    if isinstance(err, TimedOut):  # before NetworkError too
        cause = err.__cause__
        if isinstance(cause, httpx.PoolTimeout | httpx.ConnectTimeout | httpx.WriteTimeout):
            return TransientError(
                f"the request to Telegram was not sent ({type(cause).__name__}); try again later"
            )
        return UnknownOutcomeError(
            "Telegram did not answer in time: the message may have been posted"
        )
    if isinstance(err, Conflict):
        return TransientError(f"Telegram conflict: {description}")
    if isinstance(err, NetworkError):
        cause = err.__cause__
        if isinstance(cause, httpx.RemoteProtocolError | httpx.ReadError):
            return UnknownOutcomeError(
                "the connection to Telegram broke after the request was sent "
                f"({type(cause).__name__}): the message may have been posted"
            )
        return TransientError(f"Telegram could not be reached: {description}")
    # A bare TelegramError: the answer to a request Telegram took could not be read.
    return UnknownOutcomeError(f"unreadable answer from Telegram ({description})")


# --------------------------------------------------------------------------------------------
# The publisher


class _PhotoUnavailable(Exception):
    """The article's image cannot be downloaded for an upload."""


def _chat_param(chat: int | str) -> int | str:
    """'@name' stays a string; '-100123' becomes the int Telegram expects."""
    if isinstance(chat, int):
        return chat
    text = chat.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


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

    `chat_id` overrides the configured chat (the engine passes the new id of a migrated chat).
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
    ) -> None:
        if channel.type is not ChannelType.TELEGRAM:
            raise ValueError(f"channel {channel.id!r} is not a telegram channel")
        chat = chat_id if chat_id is not None else channel.chat
        if chat is None:
            raise ValueError(f"channel {channel.id!r} has no chat")
        self.channel_id = channel.id
        self._channel = channel
        self._bot = bot
        self._chat = _chat_param(chat)
        configured = channel.chat or ""
        self._username = configured[1:] if configured.startswith("@") else None
        self._http = http
        self._owns_http = False
        self._user_agent = user_agent
        self._clock: Clock = clock or SystemClock()
        self._max_photo_bytes = max_photo_bytes
        self._download_timeout = download_timeout

    @property
    def chat(self) -> int | str:
        """The chat this publisher posts to (after any override)."""
        return self._chat

    # -- Publisher protocol ------------------------------------------------------------------

    async def publish(self, post: Post) -> PublishResult:
        if not isinstance(post, TelegramPost):
            raise PermanentError(
                f"channel {self.channel_id!r} only publishes Telegram posts, "
                f"not {type(post).__name__}"
            )
        markup = _keyboard(post)
        silent = post.silent or self._channel.silent
        if post.method == "sendPhoto" and post.photo:
            message = await self._publish_photo(post, post.photo, markup, silent)
        else:
            message = await self._send_text(post, markup, silent)
        return self._result(message)

    async def reconcile(self, post: Post, since: datetime) -> Reconciliation:
        """A bot cannot read a channel's history: Telegram posts are never reconciled."""
        return Reconciliation(ReconcileOutcome.CANNOT_TELL)

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
        self._http = None
        self._owns_http = False

    # -- sending -----------------------------------------------------------------------------

    def _fail(self, err: TelegramError) -> NoReturn:
        secrets = (self._bot.token,)
        mapped = translate_error(err, secrets=secrets)
        if _chain_mentions(err, secrets):
            raise mapped from None
        raise mapped from err

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
            reason = _short(scrub(err.message, (self._bot.token,)))
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
                        _short(scrub(err.message, (self._bot.token,))),
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
            raise _PhotoUnavailable(f"{type(err).__name__}: {_short(str(err), 120)}") from None
        if not body:
            raise _PhotoUnavailable("empty answer")
        return bytes(body), _photo_filename(url, content_type)

    # -- result ------------------------------------------------------------------------------

    def _result(self, message: Message) -> PublishResult:
        username = message.chat.username or self._username
        link = f"https://t.me/{username}/{message.message_id}" if username else None
        return PublishResult(remote_id=str(message.message_id), link=link)


# --------------------------------------------------------------------------------------------
# relais check --online


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One line of `relais check --online`: a channel (or "telegram" for the bot), OK or what to
    fix, in plain French."""

    channel_id: str
    ok: bool
    message: str


BOT_CHECK_ID = "telegram"


def _reason(err: TelegramError, token: str) -> str:
    return _short(scrub(err.message, (token,)), 200)


async def check_channels(bot: Bot, channels: Sequence[ChannelSettings]) -> list[CheckLine]:
    """Ask Telegram whether the token works and whether the bot can post in each Telegram
    channel. The first line is the bot's (channel_id "telegram"), then one per channel."""
    targets = [c for c in channels if c.type is ChannelType.TELEGRAM]
    token = bot.token
    try:
        me = await bot.get_me()
    except InvalidToken:
        head = CheckLine(
            BOT_CHECK_ID,
            False,
            "Telegram refuse le jeton du bot : vérifiez TELEGRAM_BOT_TOKEN (telegram.token). "
            "Dans Telegram, ouvrez @BotFather › /mybots › votre bot › API Token et copiez le "
            "jeton complet (« 123456789:AA… »). Vérifiez aussi telegram.api_url.",
        )
        skipped = "non vérifiée : le jeton du bot est refusé par Telegram."
        return [head, *(CheckLine(c.id, False, skipped) for c in targets)]
    except TelegramError as err:
        head = CheckLine(
            BOT_CHECK_ID,
            False,
            f"Impossible de joindre Telegram ({_reason(err, token)}) : vérifiez la connexion "
            "Internet du serveur et telegram.api_url, puis réessayez.",
        )
        skipped = "non vérifiée : Telegram n'a pas pu être joint."
        return [head, *(CheckLine(c.id, False, skipped) for c in targets)]
    lines = [CheckLine(BOT_CHECK_ID, True, f"jeton valide : bot @{me.username} (id {me.id}).")]
    for channel in targets:
        lines.append(await _check_channel(bot, me, channel))
    return lines


async def _check_channel(bot: Bot, me: User, channel: ChannelSettings) -> CheckLine:
    label = channel.chat or "?"
    mine = f"@{me.username}"

    def bad(message: str) -> CheckLine:
        return CheckLine(channel.id, False, message)

    add_admin = (
        f"ouvrez la chaîne › Administrateurs › Ajouter un administrateur, choisissez {mine} et "
        "cochez « Publier des messages »."
    )
    try:
        chat = await bot.get_chat(_chat_param(label))
    except ChatMigrated as err:
        return bad(
            f"Le groupe {label} est devenu un supergroupe : remplacez `chat` par "
            f"{err.new_chat_id} dans la configuration."
        )
    except Forbidden:
        return bad(f"Le bot n'est pas membre de {label} : {add_admin}")
    except BadRequest as err:
        if "chat not found" in err.message.lower() or "peer_id_invalid" in err.message.lower():
            return bad(
                f"La chaîne {label} est introuvable : vérifiez `chat` dans la configuration "
                "(le @nom public de la chaîne, ou son identifiant numérique -100… pour une "
                f"chaîne privée). Pour une chaîne privée, ajoutez d'abord {mine} comme "
                "administrateur."
            )
        return bad(f"Telegram refuse l'accès à {label} : {_reason(err, bot.token)}.")
    except TelegramError as err:
        return bad(f"Vérification impossible pour {label} : {_reason(err, bot.token)}.")

    shown = f"@{chat.username}" if chat.username else label
    name = chat.title or chat.first_name or shown
    if chat.type == ChatFullInfo.PRIVATE:
        return CheckLine(
            channel.id,
            True,
            f"{shown} est une conversation privée avec {name} : le bot peut y écrire tant que "
            "la personne ne l'a pas bloqué.",
        )
    try:
        member: ChatMember = await bot.get_chat_member(chat.id, me.id)
    except Forbidden:
        return bad(f"Le bot n'est pas membre de {shown} : {add_admin}")
    except BadRequest as err:
        lowered = err.message.lower()
        if "not found" in lowered or "participant" in lowered:
            return bad(f"Le bot n'est pas administrateur de {shown} : {add_admin}")
        return bad(f"Vérification impossible pour {shown} : {_reason(err, bot.token)}.")
    except TelegramError as err:
        return bad(f"Vérification impossible pour {shown} : {_reason(err, bot.token)}.")

    if chat.type == ChatFullInfo.CHANNEL:
        if isinstance(member, ChatMemberOwner):
            return CheckLine(channel.id, True, f"{shown} (« {name} ») : le bot peut publier.")
        if isinstance(member, ChatMemberAdministrator):
            if member.can_post_messages:
                return CheckLine(channel.id, True, f"{shown} (« {name} ») : le bot peut publier.")
            return bad(
                f"Le bot est administrateur de {shown} mais sans le droit « Publier des "
                f"messages » : ouvrez la chaîne › Administrateurs › {mine} et cochez « Publier "
                "des messages »."
            )
        if isinstance(member, ChatMemberBanned):
            return bad(
                f"Le bot a été retiré et banni de {shown} : ouvrez la chaîne › Utilisateurs "
                f"bannis, débannissez {mine}, puis {add_admin}"
            )
        return bad(f"Le bot n'est pas administrateur de {shown} : {add_admin}")

    # A group or supergroup: an admin can post; a member can if the group lets members write.
    add_member = f"ouvrez le groupe › Ajouter des membres et ajoutez {mine}."
    if isinstance(member, ChatMemberOwner | ChatMemberAdministrator):
        return CheckLine(channel.id, True, f"{shown} (« {name} ») : le bot peut publier.")
    if isinstance(member, ChatMemberBanned):
        return bad(
            f"Le bot a été banni de {shown} : retirez {mine} des utilisateurs bannis, puis "
            f"{add_member}"
        )
    if isinstance(member, ChatMemberRestricted):
        if member.can_send_messages and member.is_member:
            return CheckLine(channel.id, True, f"{shown} (« {name} ») : le bot peut publier.")
        return bad(
            f"Le bot est restreint dans {shown} et ne peut pas écrire : ouvrez le groupe › "
            f"Membres › {mine} et autorisez « Envoyer des messages » (ou nommez-le "
            "administrateur)."
        )
    if member.status == ChatMember.MEMBER:
        permissions = chat.permissions
        if permissions is not None and permissions.can_send_messages is False:
            return bad(
                f"Les membres de {shown} ne peuvent pas écrire : nommez {mine} administrateur "
                "du groupe."
            )
        return CheckLine(channel.id, True, f"{shown} (« {name} ») : le bot peut publier.")
    return bad(f"Le bot n'est pas membre de {shown} : {add_member}")


__all__ = [
    "BOT_CHECK_ID",
    "BotTimeouts",
    "CheckLine",
    "InvalidTokenError",
    "TelegramPublisher",
    "check_channels",
    "initialize_bot",
    "make_bot",
    "photo_refusal",
    "redact_token_in_logs",
    "retry_after_seconds",
    "scrub",
    "translate_error",
]
