"""A fake Telegram Bot API server on 127.0.0.1: real HTTP, Telegram-shaped answers, scripted errors.

Usage::

    with FakeTelegram() as tg:                      # or tg.start() / tg.stop()
        tg.set_chat(-1001234567890, username="bamada_net", title="Bamada.net")
        bot = Bot(tg.token, base_url=tg.base_url)   # base_url == f"{tg.url}/bot"
        tg.inject("sendMessage", Reply.flood(30), times=1, match={"chat_id": "@bamada_net"})
        ...
        [call] = tg.calls("sendMessage")            # call.params, call.files, call.token ...

What it does like Telegram:

* ``{"ok": true, "result": ...}`` answers with real-shaped objects (Message with a ``message_id``
  that increments per chat, ``date``, ``chat``, ``text``/``entities`` or ``caption`` + ``photo``
  sizes, ``reply_markup`` echoed); errors as non-2xx ``{"ok": false, "error_code", "description",
  "parameters"}`` using the real bodies saved in ``../shared/corpus`` when present (a built-in copy
  otherwise, so nothing here needs the corpus).
* Methods: getMe, getChat, getChatMember, sendMessage, sendPhoto (URL, file_id or multipart
  upload), editMessageText, sendChatAction, answerCallbackQuery, setMyCommands, getMyCommands,
  deleteWebhook, getWebhookInfo, getUpdates (a queue; honours ``offset``, ``limit`` and
  ``timeout``, long-polling at most ``long_poll_cap`` seconds). Any other method: 404 Not Found.
* Validation: HTML parse mode (only Telegram's tags; only ``&lt; &gt; &amp; &quot;`` and numeric
  entities; balanced tags), lengths in UTF-16 code units after entity parsing (4096 text, 1024
  caption), empty text, unknown chat, bad token (401), inline keyboard URLs, rights of the bot in
  a channel (not a member → 403, no ``can_post_messages`` → 400).
  Where Telegram is lenient and the project's contract is strict (a bare ``&`` or ``&nbsp;``),
  the fake is strict: it must never accept what Telegram could refuse.
* ``sendPhoto`` by a URL of this server's own ``/static/`` routes is checked like Telegram would:
  a 404 answers "failed to get HTTP URL content", a non-image "wrong type of the web page content".
  Any other URL is accepted without being fetched (the fake never goes on the network).
* Static files under ``/static/<name>`` for download tests: ``photo.png`` (a valid PNG),
  ``missing.jpg`` (404), ``page.html`` (an HTML page), ``redirect.png`` (302 to ``photo.png``);
  ``add_static`` adds more.

Scripted failures: ``inject(method, reply, times=1, match=None)`` queues a ``Reply`` for the next
matching call(s) of that method; see the ``Reply`` constructors (flood, bad_gateway, server_error,
slow, close_after, drop, corpus, error, migrated...). Every call is recorded, thread-safe, before
any injected reply is applied, so a test can assert on what reached the server.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.http_base import FakeHandler, FakeServer, Match

DEFAULT_TOKEN = "7012345678:AAF-fAkE_t0ken-for-relais-tests_0123456"
DEFAULT_BOT_ID = 7012345678
DEFAULT_BOT_USERNAME = "relais_test_bot"

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
UPLOAD_LIMIT = 10 * 1024 * 1024

CORPUS_DIR = Path(
    os.environ.get("RELAIS_CORPUS", str(Path(__file__).resolve().parents[3] / "shared" / "corpus"))
)
TELEGRAM_ERRORS_DIR = CORPUS_DIR / "api_responses" / "telegram_errors"

# The few fields of the corpus bodies the fake needs, for when the corpus is not there.
# name -> (error_code, description, parameters)
BUILTIN_ERRORS: dict[str, tuple[int, str, dict[str, Any] | None]] = {
    "bad-request-chat-not-found": (400, "Bad Request: chat not found", None),
    "bad-request-entities-too-long": (400, "Bad Request: entities too long", None),
    "bad-request-file-too-big": (400, "Bad Request: file is too big", None),
    "bad-request-group-chat-migrated": (
        400,
        "Bad Request: group chat was migrated to a supergroup chat",
        {"migrate_to_chat_id": -123456789},
    ),
    "bad-request-group-deactivated": (400, "Bad Request: group is deactivated", None),
    "bad-request-member-not-found": (400, "Bad Request: member not found", None),
    "bad-request-message-not-modified": (400, "Bad Request: message is not modified", None),
    "bad-request-message-text-is-empty": (400, "Bad Request: message text is empty", None),
    "bad-request-message-to-edit-not-found": (400, "Bad Request: message to edit not found", None),
    "bad-request-not-enough-rights-photos": (
        400,
        "Bad Request: not enough rights to send photos to the chat",
        None,
    ),
    "bad-request-not-enough-rights-text": (
        400,
        "Bad Request: not enough rights to send text messages to the chat",
        None,
    ),
    "bad-request-peer-id-invalid": (400, "Bad Request: PEER_ID_INVALID", None),
    "bad-request-button-url-invalid": (400, "Bad Request: BUTTON_URL_INVALID", None),
    "bad-request-wrong-parameter-action-in-request": (
        400,
        "Bad Request: wrong parameter action in request",
        None,
    ),
    "conflicted-terminated-by-other-long-poll": (
        409,
        "Conflict: terminated by other long poll or webhook",
        None,
    ),
    "webhook-is-active": (
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
        None,
    ),
    "forbidden-bot-blocked-by-user": (403, "Forbidden: bot was blocked by the user", None),
    "forbidden-bot-not-member-channel": (
        403,
        "Forbidden: bot is not a member of the channel chat",
        None,
    ),
    "forbidden-bot-not-member-supergroup": (
        403,
        "Forbidden: bot is not a member of the supergroup chat",
        None,
    ),
    "forbidden-bot-was-kicked": (403, "Forbidden: bot was kicked from the group chat", None),
    "forbidden-user-is-deactivated": (403, "Forbidden: user is deactivated", None),
    "too-many-requests": (429, "Too Many Requests: retry after X", {"retry_after": 123}),
    "unauthorized": (401, "Unauthorized", None),
}

# Photo-by-URL refusals seen from Telegram (not in the corpus; texts from public bug reports).
PHOTO_URL_WRONG = "Bad Request: wrong file identifier/HTTP URL specified"
PHOTO_URL_FAILED = "Bad Request: failed to get HTTP URL content"
PHOTO_URL_WRONG_TYPE = "Bad Request: wrong type of the web page content"
IMAGE_PROCESS_FAILED = "Bad Request: IMAGE_PROCESS_FAILED"
NEED_ADMIN_RIGHTS = "Bad Request: need administrator rights in the channel chat"

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Parameters that Telegram takes as JSON-serialized objects (form values are JSON strings).
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "link_preview_options",
        "entities",
        "caption_entities",
        "reply_parameters",
        "commands",
        "scope",
        "allowed_updates",
        "media",
    }
)


def load_error_body(name: str) -> dict[str, Any]:
    """The error body `name` (a corpus file name without `.json`), from the corpus when present."""
    path = TELEGRAM_ERRORS_DIR / f"{name}.json"
    if path.is_file():
        body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return body
    code, description, parameters = BUILTIN_ERRORS[name]
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = dict(parameters)
    return body


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# Telegram HTML


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message is what follows "can't parse entities: "."""


_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR = re.compile(r"""\s*([A-Za-z_][A-Za-z0-9_-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_ENTITY = re.compile(r"&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};?)")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, index: int) -> tuple[str, int]:
    """Decode the entity at text[index] == '&' → (character, index after it)."""
    match = _ENTITY.match(text, index)
    where = _byte_offset(text, index)
    if not match:
        raise EntityParseError(
            f'Unsupported character "&" at byte offset {where}: escape it as &amp;'
        )
    body = match.group(1)
    if body.startswith("#"):
        digits = body[1:-1]
        code = int(digits[1:], 16) if digits[:1] in "xX" else int(digits)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(f"Invalid character entity at byte offset {where}")
        return chr(code), match.end()
    name = body.rstrip(";")
    if name in _NAMED_ENTITIES and body.endswith(";"):
        return _NAMED_ENTITIES[name], match.end()
    raise EntityParseError(f'Unsupported HTML entity "&{body}" at byte offset {where}')


def _attr_value(raw: str | None, text: str, index: int) -> str:
    if raw is None:
        return ""
    if raw[:1] in {'"', "'"}:
        raw = raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "&":
            char, end = _decode_entity(raw, i)
            out.append(char)
            i = end
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


@dataclass
class _Open:
    name: str
    offset: int
    attrs: dict[str, str]


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML → (plain text, entities with UTF-16 offsets); EntityParseError if bad."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    offset = 0  # UTF-16 units emitted so far
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "<":
            where = _byte_offset(text, i)
            if text.startswith("</", i):
                close = text.find(">", i)
                if close < 0:
                    raise EntityParseError(f"Unclosed end tag at byte offset {where}")
                name = text[i + 2 : close].strip().lower()
                if not stack:
                    raise EntityParseError(f"Unexpected end tag at byte offset {where}")
                top = stack[-1]
                if name != top.name:
                    raise EntityParseError(
                        f'Unmatched end tag at byte offset {where}, expected "</{top.name}>", '
                        f'found "</{name}>"'
                    )
                stack.pop()
                entity = _entity_for(top, offset, stack)
                if entity is not None:
                    entities.append(entity)
                i = close + 1
                continue
            match = _TAG_NAME.match(text, i + 1)
            name = match.group(0).lower() if match else ""
            if name not in _TAG_ENTITY:
                raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {where}')
            assert match is not None
            j = match.end()
            attrs: dict[str, str] = {}
            while True:
                while j < n and text[j].isspace():
                    j += 1
                if j >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {where}")
                if text[j] == ">":
                    j += 1
                    break
                attr = _ATTR.match(text, j)
                if not attr or attr.end() == j:
                    raise EntityParseError(
                        f'Unexpected character in the tag "{name}" at byte offset '
                        f"{_byte_offset(text, j)}"
                    )
                attrs[attr.group(1).lower()] = _attr_value(attr.group(2), text, j)
                j = attr.end()
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {where}'
                )
            if name == "tg-emoji" and not attrs.get("emoji-id"):
                raise EntityParseError(
                    f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {where}'
                )
            stack.append(_Open(name, offset, attrs))
            i = j
            continue
        if char == "&":
            decoded, i = _decode_entity(text, i)
            out.append(decoded)
            offset += utf16_len(decoded)
            continue
        out.append(char)
        offset += utf16_len(char)
        i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _entity_for(tag: _Open, end: int, stack: list[_Open]) -> dict[str, Any] | None:
    length = end - tag.offset
    if length <= 0:
        return None
    kind = _TAG_ENTITY[tag.name]
    entity: dict[str, Any] = {"type": kind, "offset": tag.offset, "length": length}
    if kind == "text_link":
        href = tag.attrs.get("href", "")
        if not href:
            return None
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            return {**entity, "type": "text_mention", "user": _user(int(user.group(1)))}
        entity["url"] = href
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    elif kind == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].attrs["language"] = language.removeprefix("language-")
        return None
    elif kind == "pre" and tag.attrs.get("language"):
        entity["language"] = tag.attrs["language"]
    elif kind == "date_time":
        return None
    return entity


def _strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading and trailing whitespace; shift and clip the entities with it."""
    stripped = text.strip()
    if not stripped:
        return "", []
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------------------------
# Images


def tiny_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid PNG image of one colour, built with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(rgb) * width
    pixels = zlib.compress(row * height)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def image_kind(data: bytes) -> str | None:
    """'png', 'jpeg', 'gif' or 'webp' from the magic bytes, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in {b"GIF87a", b"GIF89a"}:
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


# --------------------------------------------------------------------------------------------
# Records and scripted replies


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request that reached the server (recorded before any scripted reply is applied)."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    token: str
    http_method: str
    content_type: str
    at: float
    status: int | None = None  # the HTTP status answered (None: dropped or still running)

    @property
    def uploaded(self) -> bool:
        """Whether a file was uploaded (multipart) with this call."""
        return bool(self.files)

    @property
    def photo_source(self) -> str | None:
        """For sendPhoto: 'upload', 'url' or 'file_id'; None when there is no photo."""
        if "photo" in self.files:
            return "upload"
        photo = self.params.get("photo")
        if not isinstance(photo, str) or not photo:
            return None
        if photo.startswith("attach://"):
            return "upload"
        if photo.startswith(("http://", "https://")):
            return "url"
        return "file_id"


@dataclass(frozen=True)
class Reply:
    """A scripted answer. Build one with the class methods; `inject` queues it for a method.

    ``passthrough`` replies let the real handler answer (after ``delay``; then ``close`` the
    connection if asked); the others answer ``status`` + ``body`` (a dict is sent as JSON).
    ``drop`` closes the connection without answering (after ``delay``).
    """

    status: int = 200
    body: dict[str, Any] | bytes | None = None
    content_type: str = "application/json"
    delay: float = 0.0
    close: bool = False
    drop: bool = False
    passthrough: bool = False

    @classmethod
    def ok(cls, result: Any) -> Reply:
        return cls(200, {"ok": True, "result": result})

    @classmethod
    def error(cls, code: int, description: str, **parameters: Any) -> Reply:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return cls(code, body)

    @classmethod
    def corpus(cls, name: str, **parameters: Any) -> Reply:
        """A real error body from the corpus (built-in copy without it); `parameters` override."""
        body = load_error_body(name)
        if parameters:
            body["parameters"] = {**body.get("parameters", {}), **parameters}
        return cls(int(body["error_code"]), body)

    @classmethod
    def flood(cls, retry_after: int) -> Reply:
        """429 Too Many Requests with parameters.retry_after, shaped like the corpus body."""
        body = load_error_body("too-many-requests")
        body["description"] = f"Too Many Requests: retry after {retry_after}"
        body["parameters"] = {"retry_after": retry_after}
        return cls(429, body)

    @classmethod
    def migrated(cls, new_chat_id: int) -> Reply:
        return cls.corpus("bad-request-group-chat-migrated", migrate_to_chat_id=new_chat_id)

    @classmethod
    def bad_gateway(cls) -> Reply:
        """502 with the HTML page a front proxy answers (not JSON)."""
        page = (
            b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
            b"</body>\r\n</html>\r\n"
        )
        return cls(502, page, "text/html")

    @classmethod
    def server_error(cls) -> Reply:
        return cls.error(500, "Internal Server Error")

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        """Answer normally, only after `seconds` (the call is processed: the message is posted)."""
        return cls(delay=seconds, passthrough=True)

    @classmethod
    def close_after(cls) -> Reply:
        """Answer normally, then close the connection (``Connection: close``)."""
        return cls(close=True, passthrough=True)

    @classmethod
    def drop_connection(cls, delay: float = 0.0) -> Reply:
        """Read the request, then close the connection without any answer."""
        return cls(delay=delay, drop=True)

    @classmethod
    def photo_url_wrong(cls) -> Reply:
        return cls.error(400, PHOTO_URL_WRONG)

    @classmethod
    def photo_url_failed(cls) -> Reply:
        return cls.error(400, PHOTO_URL_FAILED)

    @classmethod
    def photo_url_wrong_type(cls) -> Reply:
        return cls.error(400, PHOTO_URL_WRONG_TYPE)

    @classmethod
    def bot_kicked(cls) -> Reply:
        return cls.corpus("forbidden-bot-was-kicked")

    @classmethod
    def not_member(cls) -> Reply:
        return cls.corpus("forbidden-bot-not-member-channel")

    @classmethod
    def no_rights_text(cls) -> Reply:
        return cls.corpus("bad-request-not-enough-rights-text")

    @classmethod
    def no_rights_photos(cls) -> Reply:
        return cls.corpus("bad-request-not-enough-rights-photos")

    @classmethod
    def chat_not_found(cls) -> Reply:
        return cls.corpus("bad-request-chat-not-found")

    @classmethod
    def unauthorized(cls) -> Reply:
        return cls.corpus("unauthorized")


@dataclass(frozen=True)
class StaticFile:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    no_length: bool = False  # no Content-Length: the body ends when the connection closes


class ApiError(Exception):
    """Raised by a method handler: answered as a Telegram error body."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("description", ""))
        self.body = body

    @classmethod
    def make(cls, code: int, description: str, **parameters: Any) -> ApiError:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return cls(body)

    @classmethod
    def corpus(cls, name: str) -> ApiError:
        return cls(load_error_body(name))


def _user(user_id: int, *, first_name: str = "Lecteur", is_bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "is_bot": is_bot, "first_name": first_name}


_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


# --------------------------------------------------------------------------------------------
# The server


class _Handler(FakeHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    def route(self) -> None:
        fake = self.fake
        assert isinstance(fake, FakeTelegram)
        http_method = self.command
        parts = urlsplit(self.path)
        body = self.read_body()
        if parts.path.startswith("/static/"):
            self._serve_static(parts.path.removeprefix("/static/"))
            return
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]+)/?", parts.path)
        if not match:
            self._send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = match.group(1), match.group(2)
        content_type = self.headers.get("Content-Type", "")
        params, files = _decode_params(parts.query, body, content_type)
        call = fake.record(
            Call(method, params, files, token, http_method, content_type, time.time())
        )
        if not fake._token_valid(token):
            call.status = 401
            self._send_json(401, load_error_body("unauthorized"))
            return
        reply = fake.scripted(method, params)
        close = False
        if reply is not None:
            if reply.delay and not fake.pause(reply.delay):
                self.drop()
                return
            if reply.drop:
                self.drop()
                return
            close = reply.close
            if not reply.passthrough:
                call.status = reply.status
                self._send(reply.status, reply.body, reply.content_type, close=close)
                return
        try:
            result = fake._dispatch(method, params, files)
        except ApiError as err:
            status = int(err.body.get("error_code", 400))
            call.status = status
            self._send_json(status, err.body, close=close)
            return
        call.status = 200
        self._send_json(200, {"ok": True, "result": result}, close=close)

    def _serve_static(self, name: str) -> None:
        fake = self.fake
        assert isinstance(fake, FakeTelegram)
        static = fake._static_file(name, hit=True)
        if static is None:
            self._send(404, b"<html><body>Not Found</body></html>", "text/html")
            return
        if static.no_length:
            self.send(static.status, static.body, static.content_type, length=False, close=True)
            return
        self._send(static.status, static.body, static.content_type, headers=dict(static.headers))

    def _send_json(self, status: int, body: dict[str, Any], *, close: bool = False) -> None:
        self._send(status, body, "application/json", close=close)

    def _send(
        self,
        status: int,
        body: dict[str, Any] | bytes | None,
        content_type: str,
        *,
        close: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(body, dict):
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        else:
            payload = body or b""
        self.send(status, payload, content_type, headers, close=close)


class FakeTelegram(FakeServer[Call, Reply]):
    """The fake Bot API on the HTTP fake base. Thread-safe; start/stop or a context manager.

    Public API: ``start()``, ``stop()``, ``url``, ``base_url``, ``token``, ``static_url(name)``,
    ``add_static(...)``, ``static_hits()``, ``calls(method=None)``, ``clear_calls()``,
    ``inject(method, reply, times=1, match=None)``, ``push_update(update)``, ``set_chat(...)``,
    ``set_member(...)``, ``add_token(token)``, ``revoke_token(token)``, ``messages(chat)``,
    ``commands()``, ``pending_updates()``.
    """

    handler = _Handler
    poll_interval = 0.01
    thread_name = "fake-telegram"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_id: int = DEFAULT_BOT_ID,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_name: str = "Relais (tests)",
        long_poll_cap: float = 1.0,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.long_poll_cap = long_poll_cap
        super().__init__()
        self._updates_changed = threading.Condition(self._lock)
        self._tokens: set[str] = {token}
        self._chats: dict[int, dict[str, Any]] = {}
        self._usernames: dict[str, int] = {}
        self._members: dict[tuple[int, int], dict[str, Any]] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, list[dict[str, Any]]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1000
        self._file_ids = itertools.count(1)
        self._commands: list[dict[str, Any]] = []
        self._static: dict[str, StaticFile] = {}
        self._static_hits: list[str] = []
        self._add_default_static()

    # -- lifecycle (start, stop, port: the base) ------------------------------------------------

    def on_stop(self) -> None:
        with self._updates_changed:
            self._updates_changed.notify_all()

    @property
    def url(self) -> str:
        return self.origin

    @property
    def base_url(self) -> str:
        """What to pass as `base_url` to python-telegram-bot's Bot (the token is appended)."""
        return f"{self.url}/bot"

    # -- configuration ------------------------------------------------------------------------

    def add_token(self, token: str) -> None:
        with self._lock:
            self._tokens.add(token)

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._tokens.discard(token)

    def set_chat(
        self,
        chat_id: int,
        *,
        username: str | None = None,
        title: str | None = None,
        type: str = "channel",
        bot_status: str | None = "administrator",
        can_post_messages: bool = True,
        blocked: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Register a chat (channel by default). The bot's membership is set from `bot_status`
        (None leaves it as it is); `blocked` marks a private chat whose user blocked the bot."""
        chat: dict[str, Any] = {"id": chat_id, "type": type}
        if type == "private":
            chat["first_name"] = extra.pop("first_name", title or "Lecteur")
        elif title is not None or type != "private":
            chat["title"] = title or (username or str(chat_id))
        if username:
            chat["username"] = username.lstrip("@")
        chat.update(extra)
        with self._lock:
            old = self._chats.get(chat_id)
            if old and old.get("username"):
                self._usernames.pop(old["username"].lower(), None)
            self._chats[chat_id] = chat
            if username:
                self._usernames[username.lstrip("@").lower()] = chat_id
            if blocked:
                self._blocked.add(chat_id)
            else:
                self._blocked.discard(chat_id)
            self._next_message_id.setdefault(chat_id, 1)
        if bot_status is not None and type != "private":
            self.set_member(chat_id, None, bot_status, can_post_messages=can_post_messages)
        return dict(chat)

    def set_member(
        self, chat: int | str, user_id: int | None = None, status: str = "member", **rights: Any
    ) -> dict[str, Any]:
        """Set a member's status in a chat (user_id None: the bot itself).

        status: creator, administrator (rights default to True, `can_post_messages` included;
        pass e.g. can_post_messages=False), member, restricted, left, kicked.
        """
        with self._lock:
            chat_id = self._resolve_chat(chat)
            uid = self.bot_id if user_id is None else user_id
            member = self._member_object(uid, status, rights)
            self._members[(chat_id, uid)] = member
            return dict(member)

    def add_static(
        self,
        name: str,
        body: bytes,
        content_type: str = "image/png",
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        no_length: bool = False,
    ) -> str:
        """Serve `body` at /static/<name>; returns its URL. `no_length` sends no Content-Length
        (the body ends when the connection closes), as some web servers do."""
        with self._lock:
            self._static[name] = StaticFile(
                status, body, content_type, tuple((headers or {}).items()), no_length
            )
        return self.static_url(name)

    def static_hits(self) -> list[str]:
        """The names of the static files requested so far, in order."""
        with self._lock:
            return list(self._static_hits)

    def static_url(self, name: str) -> str:
        return f"{self.url}/static/{name}"

    def inject(self, method: str, reply: Reply, times: int = 1, match: Match | None = None) -> None:
        """Answer the next `times` calls of `method` (whose params fit `match`) with `reply`.

        `match` is a mapping compared as strings with the decoded params (e.g. {"chat_id":
        "@bamada_net"}) or a predicate on the params. Injections are used first-in, first-out.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        super().inject(method, reply, times, match)

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update for getUpdates; an `update_id` is assigned when missing. Returns it."""
        with self._updates_changed:
            item = dict(update)
            if "update_id" not in item:
                item["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, int(item["update_id"])) + 1
            self._updates.append(item)
            self._updates_changed.notify_all()
            return int(item["update_id"])

    # -- inspection --------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every recorded call (copies of the list), optionally only those of one method."""
        return [c for c in self.logged() if method is None or c.method == method]

    def clear_calls(self) -> None:
        self.clear_log()

    def messages(self, chat: int | str) -> list[dict[str, Any]]:
        """The messages the bot posted (and that were answered) in a chat."""
        with self._lock:
            return list(self._messages.get(self._resolve_chat(chat), []))

    def commands(self) -> list[dict[str, Any]]:
        """The commands last set with setMyCommands."""
        with self._lock:
            return list(self._commands)

    def pending_updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._updates)

    # -- request handling (called from the handler threads) ---------------------------------

    def handle(self, request: FakeHandler) -> None:
        assert isinstance(request, _Handler)
        request.route()

    def _token_valid(self, token: str) -> bool:
        with self._lock:
            return token in self._tokens

    def _dispatch(self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            raise ApiError.make(404, "Not Found")
        return handler(params, files)

    def _static_file(self, name: str, *, hit: bool = False) -> StaticFile | None:
        with self._lock:
            if hit:
                self._static_hits.append(name)
            return self._static.get(name)

    # -- helpers -----------------------------------------------------------------------------

    def _add_default_static(self) -> None:
        self._static["photo.png"] = StaticFile(200, tiny_png(), "image/png")
        self._static["missing.jpg"] = StaticFile(
            404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html; charset=utf-8"
        )
        self._static["page.html"] = StaticFile(
            200,
            b"<!doctype html><html><head><title>Article</title></head>"
            b"<body><p>Ceci est une page, pas une image.</p></body></html>",
            "text/html; charset=utf-8",
        )
        self._static["redirect.png"] = StaticFile(
            302, b"", "text/plain", (("Location", "/static/photo.png"),)
        )

    def _resolve_chat(self, chat: Any) -> int:
        """A chat_id param ('@name', '-100…', an int) → a known chat id, or 'chat not found'."""
        with self._lock:
            if isinstance(chat, int):
                chat_id: int | None = chat
            else:
                text = str(chat).strip()
                if text.startswith("@"):
                    chat_id = self._usernames.get(text[1:].lower())
                elif re.fullmatch(r"-?\d+", text):
                    chat_id = int(text)
                else:
                    chat_id = None
            if chat_id is None or chat_id not in self._chats:
                raise ApiError.corpus("bad-request-chat-not-found")
            return chat_id

    def _member_object(
        self, user_id: int, status: str, rights: Mapping[str, Any]
    ) -> dict[str, Any]:
        is_bot = user_id == self.bot_id
        user = (
            {**_user(user_id, first_name=self.bot_name, is_bot=True), "username": self.bot_username}
            if is_bot
            else _user(user_id)
        )
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = bool(rights.get("is_anonymous", False))
        elif status == "administrator":
            member["can_be_edited"] = bool(rights.get("can_be_edited", False))
            member["is_anonymous"] = bool(rights.get("is_anonymous", False))
            for right in _ADMIN_RIGHTS:
                member[right] = bool(rights.get(right, True))
            for right in ("can_post_messages", "can_edit_messages", "can_pin_messages"):
                member[right] = bool(rights.get(right, True))
        elif status == "restricted":
            member["is_member"] = bool(rights.get("is_member", True))
            member["until_date"] = int(rights.get("until_date", 0))
            for right in (
                "can_send_messages",
                "can_send_audios",
                "can_send_documents",
                "can_send_photos",
                "can_send_videos",
                "can_send_video_notes",
                "can_send_voice_notes",
                "can_send_polls",
                "can_send_other_messages",
                "can_add_web_page_previews",
                "can_change_info",
                "can_invite_users",
                "can_pin_messages",
                "can_manage_topics",
                "can_edit_tag",  # required by python-telegram-bot 22.8 (newer than spec 9.2)
                "can_react_to_messages",
            ):
                member[right] = bool(rights.get(right, False))
        elif status == "kicked":
            member["until_date"] = int(rights.get("until_date", 0))
        elif status not in {"member", "left"}:
            raise ValueError(f"unknown member status {status!r}")
        return member

    def _bot_member(self, chat_id: int) -> dict[str, Any]:
        return self._members.get((chat_id, self.bot_id)) or self._member_object(
            self.bot_id, "left", {}
        )

    def _check_can_send(self, chat_id: int) -> None:
        """Refuse like Telegram when the bot may not post in this chat."""
        with self._lock:
            chat = self._chats[chat_id]
            if chat["type"] == "private":
                if chat_id in self._blocked:
                    raise ApiError.corpus("forbidden-bot-blocked-by-user")
                return
            member = self._bot_member(chat_id)
        status = member["status"]
        kind = chat["type"]
        where = (
            "channel" if kind == "channel" else ("supergroup" if kind == "supergroup" else "group")
        )
        if status == "kicked":
            raise ApiError.make(403, f"Forbidden: bot was kicked from the {where} chat")
        if status == "left":
            if kind == "channel":
                raise ApiError.corpus("forbidden-bot-not-member-channel")
            if kind == "supergroup":
                raise ApiError.corpus("forbidden-bot-not-member-supergroup")
            raise ApiError.make(403, "Forbidden: bot is not a member of the group chat")
        if kind == "channel":
            if status == "creator":
                return
            if status != "administrator" or not member.get("can_post_messages"):
                raise ApiError.make(400, NEED_ADMIN_RIGHTS)
        elif status == "restricted" and not member.get("can_send_messages"):
            raise ApiError.corpus("bad-request-not-enough-rights-text")

    def _formatted(
        self, params: dict[str, Any], key: str, *, limit: int, too_long: str, required: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = params.get(key)
        if raw is None or raw == "":
            if required:
                raise ApiError.corpus("bad-request-message-text-is-empty")
            return "", []
        text = str(raw)
        mode = str(params.get("parse_mode") or "").strip()
        entities: list[dict[str, Any]] = []
        if mode.lower() == "html":
            try:
                text, entities = parse_html(text)
            except EntityParseError as err:
                raise ApiError.make(400, f"Bad Request: can't parse entities: {err}") from None
        elif mode and mode.lower() not in {"markdown", "markdownv2"}:
            raise ApiError.make(400, "Bad Request: unsupported parse_mode")
        elif not mode:
            given = params.get("entities" if key == "text" else "caption_entities")
            entities = list(given) if isinstance(given, list) else []
        text, entities = _strip_text(text, entities)
        if required and not text:
            raise ApiError.corpus("bad-request-message-text-is-empty")
        if utf16_len(text) > limit:
            raise ApiError.make(400, too_long)
        return text, entities

    def _reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError.make(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError.make(
                400, 'Bad Request: field "inline_keyboard" must be an Array of Array'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError.make(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://[^\s]+$", str(url)):
                    raise ApiError.corpus("bad-request-button-url-invalid")
        return markup

    def _new_message(self, chat_id: int, content: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            chat = dict(self._chats[chat_id])
            message_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = message_id + 1
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
            }
            if chat["type"] == "channel":
                message["sender_chat"] = chat
            else:
                message["from"] = {
                    **_user(self.bot_id, first_name=self.bot_name, is_bot=True),
                    "username": self.bot_username,
                }
            message.update({k: v for k, v in content.items() if v not in (None, [], "")})
            self._messages.setdefault(chat_id, []).append(message)
            return message

    def _photo_sizes(self, size: int) -> list[dict[str, Any]]:
        number = next(self._file_ids)
        sizes = []
        for i, (w, h) in enumerate(((90, 60), (320, 213), (1280, 853))):
            sizes.append(
                {
                    "file_id": f"AgACAgQAAxkDAAI{number:06d}{i}",
                    "file_unique_id": f"AQAD{number:06d}{i}",
                    "width": w,
                    "height": h,
                    "file_size": max(1, size // (3 - i)),
                }
            )
        return sizes

    def _check_own_photo_url(self, url: str) -> None:
        """A photo URL on this server is fetched (in memory) and judged like Telegram would."""
        parts = urlsplit(url)
        if parts.hostname != "127.0.0.1" or self._server is None or parts.port != self.port:
            return
        if not parts.path.startswith("/static/"):
            raise ApiError.make(400, PHOTO_URL_FAILED)
        static = self._static_file(parts.path.removeprefix("/static/"))
        for _ in range(5):
            if static is None or static.status not in {301, 302, 303, 307, 308}:
                break
            location = dict(static.headers).get("Location", "")
            static = self._static_file(urlsplit(location).path.removeprefix("/static/"))
        if static is None or static.status != 200:
            raise ApiError.make(400, PHOTO_URL_FAILED)
        if not static.content_type.startswith("image/") or image_kind(static.body) is None:
            raise ApiError.make(400, PHOTO_URL_WRONG_TYPE)
        if len(static.body) > 5 * 1024 * 1024:
            raise ApiError.make(400, PHOTO_URL_FAILED)

    # -- methods -----------------------------------------------------------------------------

    def _m_getMe(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {
            **_user(self.bot_id, first_name=self.bot_name, is_bot=True),
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_getChat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._resolve_chat(params.get("chat_id"))
        with self._lock:
            chat = dict(self._chats[chat_id])
        full = {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
            **chat,
        }
        if chat["type"] in {"group", "supergroup"}:
            full.setdefault("permissions", {"can_send_messages": True, "can_send_photos": True})
        return full

    def _m_getChatMember(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._resolve_chat(params.get("chat_id"))
        try:
            user_id = int(str(params.get("user_id")))
        except ValueError:
            raise ApiError.make(400, "Bad Request: invalid user_id specified") from None
        with self._lock:
            member = self._members.get((chat_id, user_id))
            if member is None:
                member = self._member_object(user_id, "left", {})
            return dict(member)

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._resolve_chat(params.get("chat_id"))
        text, entities = self._formatted(
            params,
            "text",
            limit=TEXT_LIMIT,
            too_long="Bad Request: message is too long",
            required=True,
        )
        markup = self._reply_markup(params)
        self._check_can_send(chat_id)
        return self._new_message(
            chat_id,
            {
                "text": text,
                "entities": entities,
                "reply_markup": markup,
                "link_preview_options": params.get("link_preview_options"),
            },
        )

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._resolve_chat(params.get("chat_id"))
        photo = params.get("photo")
        upload = files.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            upload = files.get(photo.removeprefix("attach://"))
        if upload is None and (not isinstance(photo, str) or not photo):
            raise ApiError.make(400, "Bad Request: there is no photo in the request")
        caption, entities = self._formatted(
            params,
            "caption",
            limit=CAPTION_LIMIT,
            too_long="Bad Request: message caption is too long",
            required=False,
        )
        markup = self._reply_markup(params)
        self._check_can_send(chat_id)
        if upload is not None:
            if len(upload.data) > UPLOAD_LIMIT:
                raise ApiError.corpus("bad-request-file-too-big")
            if image_kind(upload.data) is None:
                raise ApiError.make(400, IMAGE_PROCESS_FAILED)
            size = len(upload.data)
        else:
            assert isinstance(photo, str)
            if photo.startswith(("http://", "https://")):
                self._check_own_photo_url(photo)
            elif not re.fullmatch(r"[A-Za-z0-9_-]{8,}", photo):
                raise ApiError.make(400, "Bad Request: wrong remote file identifier specified")
            size = 50_000
        return self._new_message(
            chat_id,
            {
                "photo": self._photo_sizes(size),
                "caption": caption,
                "caption_entities": entities,
                "reply_markup": markup,
                "show_caption_above_media": params.get("show_caption_above_media") in {True, "true"}
                or None,
            },
        )

    def _m_editMessageText(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        text, entities = self._formatted(
            params,
            "text",
            limit=TEXT_LIMIT,
            too_long="Bad Request: message is too long",
            required=True,
        )
        markup = self._reply_markup(params)
        if params.get("inline_message_id"):
            return True
        chat_id = self._resolve_chat(params.get("chat_id"))
        try:
            message_id = int(str(params.get("message_id")))
        except ValueError:
            raise ApiError.corpus("bad-request-message-to-edit-not-found") from None
        with self._lock:
            for message in self._messages.get(chat_id, []):
                if message["message_id"] == message_id and "text" not in message:
                    raise ApiError.make(400, "Bad Request: there is no text in the message to edit")
                if message["message_id"] == message_id:
                    if message["text"] == text and message.get("reply_markup") == markup:
                        raise ApiError.make(
                            400,
                            "Bad Request: message is not modified: specified new message content "
                            "and reply markup are exactly the same as a current content and reply "
                            "markup of the message",
                        )
                    message["text"] = text
                    message["edit_date"] = int(time.time())
                    if entities:
                        message["entities"] = entities
                    else:
                        message.pop("entities", None)
                    if markup is not None:
                        message["reply_markup"] = markup
                    return dict(message)
        raise ApiError.corpus("bad-request-message-to-edit-not-found")

    def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._resolve_chat(params.get("chat_id"))
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError.corpus("bad-request-wrong-parameter-action-in-request")
        self._check_can_send(chat_id)
        return True

    def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if not params.get("callback_query_id"):
            raise ApiError.make(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        return True

    def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError.make(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not command.get("description"):
                raise ApiError.make(400, "Bad Request: BOT_COMMAND_INVALID")
        with self._lock:
            self._commands = list(commands)
        return True

    def _m_getMyCommands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self.commands()

    def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            with self._lock:
                self._updates.clear()
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        with self._lock:
            pending = len(self._updates)
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}

    def _m_getUpdates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        offset = int(str(params.get("offset") or 0))
        limit = max(1, min(100, int(str(params.get("limit") or 100))))
        timeout = float(str(params.get("timeout") or 0))
        deadline = time.monotonic() + min(max(0.0, timeout), self.long_poll_cap)
        with self._updates_changed:
            while True:
                if offset:
                    if offset < 0:
                        self._updates = self._updates[offset:]
                    else:
                        self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._stopping.is_set():
                    return [dict(u) for u in ready]
                self._updates_changed.wait(remaining)


def _decode_value(key: str, value: str) -> Any:
    if key in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _decode_params(
    query: str, body: bytes, content_type: str
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    params: dict[str, Any] = {
        k: _decode_value(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
    }
    files: dict[str, UploadedFile] = {}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        text = body.decode("utf-8", "replace")
        params.update({k: _decode_value(k, v) for k, v in parse_qsl(text, keep_blank_values=True)})
    elif kind == "application/json" and body:
        data = json.loads(body)
        if isinstance(data, dict):
            params.update(data)
    elif kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            filename = part.get_filename()
            data = part.get_payload(decode=True)
            raw = data if isinstance(data, bytes) else b""
            if filename is not None:
                files[name] = UploadedFile(name, filename, part.get_content_type(), raw)
            else:
                charset = part.get_content_charset() or "utf-8"
                params[name] = _decode_value(name, raw.decode(charset, "replace"))
    return params, files


def message_update(
    text: str,
    *,
    chat_id: int = 555,
    user_id: int | None = None,
    first_name: str = "Awa",
    language_code: str | None = "fr",
    chat_type: str = "private",
    message_id: int = 1,
) -> dict[str, Any]:
    """An update carrying a message a user sent to the bot (a leading /command gets its
    bot_command entity, as Telegram adds it). Pass it to `push_update`."""
    user: dict[str, Any] = {"id": user_id or chat_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = first_name
    else:
        chat["title"] = "Groupe"
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat,
        "from": user,
        "text": text,
    }
    command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if command:
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command[0])}]
    return {"message": message}


def callback_update(
    data: str,
    *,
    chat_id: int = 555,
    user_id: int | None = None,
    first_name: str = "Awa",
    message_id: int = 1,
    query_id: str = "4242",
) -> dict[str, Any]:
    """An update for a press on an inline button (callback_data `data`) under a bot message."""
    user = {"id": user_id or chat_id, "is_bot": False, "first_name": first_name}
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        "text": "…",
    }
    return {
        "callback_query": {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(chat_id),
            "data": data,
        }
    }


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[FakeTelegram]:
    """`with running() as tg:` — a started FakeTelegram, stopped at the end."""
    fake = FakeTelegram(**kwargs)
    with fake:
        yield fake


__all__ = [
    "CAPTION_LIMIT",
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "IMAGE_PROCESS_FAILED",
    "NEED_ADMIN_RIGHTS",
    "PHOTO_URL_FAILED",
    "PHOTO_URL_WRONG",
    "PHOTO_URL_WRONG_TYPE",
    "TEXT_LIMIT",
    "ApiError",
    "Call",
    "EntityParseError",
    "FakeTelegram",
    "Reply",
    "UploadedFile",
    "callback_update",
    "image_kind",
    "load_error_body",
    "message_update",
    "parse_html",
    "running",
    "tiny_png",
    "utf16_len",
]
