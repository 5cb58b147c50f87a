"""YAML + environment → frozen typed settings, or one ConfigError that lists every problem."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.content.templates import check_template
from bot.content.wording import default_cta
from bot.errors import ConfigError
from bot.models import ChannelType

DEFAULT_CONFIG = "config/relais.yaml"
DEFAULT_STORAGE = "sqlite:///data/relais.db"

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse_duration(value: Any) -> timedelta:
    """`90s`, `5m`, `2h`, `1d` (or a number of seconds) → timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90s, 5m, 2h or 1d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"expected a duration such as 90s, 5m, 2h or 1d, got {value!r}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _parse_clock(text: str) -> time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"expected a time as HH:MM, got {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _parse_quiet_hours(value: Any) -> tuple[time, time] | None:
    if value is None or value == "":
        return None
    if isinstance(value, tuple):
        return value
    if not isinstance(value, str) or "-" not in value:
        raise ValueError(f"expected quiet hours as HH:MM-HH:MM, got {value!r}")
    start, _, end = value.partition("-")
    return _parse_clock(start), _parse_clock(end)


def _parse_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a time as HH:MM, got {value!r}")
    return _parse_clock(value)


QuietHours = Annotated[tuple[time, time] | None, BeforeValidator(_parse_quiet_hours)]
ClockTime = Annotated[time, BeforeValidator(_parse_time)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SiteSettings(_Frozen):
    name: str = "Relais"
    url: str = ""
    language: Literal["fr", "en"] = "fr"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(
                f"unknown time zone {value!r} (use a name such as Africa/Bamako)"
            ) from err
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


FirstRun = Annotated[str, Field(pattern=r"^(skip|all|latest:[1-9][0-9]*)$")]


class FeedSettings(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    url: str
    every: Duration = timedelta(minutes=5)
    first_run: FirstRun = "skip"
    strip: tuple[str, ...] = ()
    max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)

    @field_validator("strip")
    @classmethod
    def _regexes_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"invalid regular expression {pattern!r}: {err}") from err
        return value

    @field_validator("every")
    @classmethod
    def _not_too_often(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=30):
            raise ValueError("polling more often than every 30s is not allowed")
        return value

    @property
    def first_run_latest(self) -> int | None:
        """N for `latest:N`, 0 for `skip`, None for `all`."""
        if self.first_run == "all":
            return None
        if self.first_run == "skip":
            return 0
        return int(self.first_run.split(":", 1)[1])


class Filter(_Frozen):
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


class Utm(_Frozen):
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None


TEASER_BUDGET = {ChannelType.TELEGRAM: 400, ChannelType.FACEBOOK: 300, ChannelType.CONSOLE: 400}
DEFAULT_MIN_GAP = {
    ChannelType.TELEGRAM: timedelta(0),
    ChannelType.FACEBOOK: timedelta(minutes=10),
    ChannelType.CONSOLE: timedelta(0),
}


class ChannelSettings(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    type: ChannelType
    chat: str | None = None
    page_id: str | None = None
    token: SecretStr | None = None
    feeds: tuple[str, ...] | None = None
    include: Filter = Filter()
    exclude: Filter = Filter()
    template: str | None = None
    cta: str | None = None
    hashtags: bool = True
    extra_hashtags: tuple[str, ...] = ()
    photo: Literal["auto", "never"] | None = None
    silent: bool = False
    buttons: tuple[tuple[str, str], ...] | None = None
    utm: Utm | None = None
    min_gap: Duration | None = None
    max_per_day: int | None = Field(default=None, gt=0)
    quiet_hours: QuietHours = None
    max_age: Duration | None = timedelta(days=2)
    teaser_length: int | None = Field(default=None, ge=40, le=4000)
    rescrape: bool = True
    show_title: bool | None = None
    """None: the title is shown, except in a Facebook link post, whose card shows it already."""
    show_date: bool = True
    """Show the publication date on a post that goes out hours after the article."""
    credit: Literal["source", "author", "none"] = "source"
    """"Source : L'Aube" for a reprint; `author` also names the author of the site's own."""

    @field_validator("chat")
    @classmethod
    def _chat_shape(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = str(value).strip()
        if not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,}|-?\d+", value):
            raise ValueError(
                f"expected @username or a numeric chat id such as -100..., got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _type_fields(self) -> ChannelSettings:
        problems = []
        if self.type is ChannelType.TELEGRAM and not self.chat:
            problems.append("a telegram channel needs `chat` (@username or -100... id)")
        if self.type is ChannelType.FACEBOOK:
            if not self.page_id:
                problems.append("a facebook channel needs `page_id`")
            if self.token is None or not self.token.get_secret_value():
                problems.append(
                    'a facebook channel needs `token` (for example "${FACEBOOK_PAGE_TOKEN}")'
                )
        if self.template is not None:
            try:
                check_template(self.template, channel_type=self.type)
            except ValueError as err:
                problems.append(f"template: {err}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def teaser_budget(self) -> int:
        return self.teaser_length or TEASER_BUDGET[self.type]

    @property
    def gap(self) -> timedelta:
        return self.min_gap if self.min_gap is not None else DEFAULT_MIN_GAP[self.type]

    @property
    def photo_mode(self) -> Literal["auto", "never"]:
        if self.photo is not None:
            return self.photo
        return "never" if self.type is ChannelType.FACEBOOK else "auto"


class WebhookSettings(_Frozen):
    url: str
    listen: str = "0.0.0.0"
    port: int = Field(default=8443, gt=0, lt=65536)
    secret_token: SecretStr | None = None


class TelegramSettings(_Frozen):
    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org/bot"
    admins: tuple[int, ...] = ()
    commands: bool = True
    digest_at: ClockTime = time(7, 0)
    webhook: WebhookSettings | None = None


class FacebookSettings(_Frozen):
    graph_url: str = "https://graph.facebook.com"
    version: str = Field(default="v25.0", pattern=r"^v\d+\.\d+$")
    timeout: Duration = timedelta(seconds=20)


class Settings(_Frozen):
    site: SiteSettings = SiteSettings()
    storage: str = DEFAULT_STORAGE

    @field_validator("storage")
    @classmethod
    def _database_url(cls, value: str) -> str:
        import sqlalchemy as sa  # only needed here and by the storage

        try:
            backend = sa.make_url(value).get_backend_name()
        except (sa.exc.ArgumentError, ValueError) as err:
            raise ValueError(
                "not a database URL (sqlite:///data/relais.db or postgresql+psycopg://…)"
            ) from err
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
        return value

    feeds: tuple[FeedSettings, ...] = ()
    channels: tuple[ChannelSettings, ...] = ()
    telegram: TelegramSettings = TelegramSettings()
    facebook: FacebookSettings = FacebookSettings()

    @model_validator(mode="after")
    def _facebook_invites_to_telegram(self) -> Settings:
        """A Facebook channel without a `cta` invites readers to the site's public Telegram
        channel (they are on the Page already), else to the site."""
        chat = next(
            (
                c.chat
                for c in self.channels
                if c.type is ChannelType.TELEGRAM and c.chat and c.chat.startswith("@")
            ),
            None,
        )
        if not any(c.type is ChannelType.FACEBOOK and c.cta is None for c in self.channels):
            return self
        cta = default_cta(
            self.site.language,
            self.site.name,
            facebook=True,
            telegram_chat=chat,
            site_url=self.site.url,
        )
        channels = tuple(
            c.model_copy(update={"cta": cta})
            if c.type is ChannelType.FACEBOOK and c.cta is None
            else c
            for c in self.channels
        )
        return self.model_copy(update={"channels": channels})

    def channel(self, channel_id: str) -> ChannelSettings:
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        raise KeyError(channel_id)

    def feed(self, feed_id: str) -> FeedSettings:
        for feed in self.feeds:
            if feed.id == feed_id:
                return feed
        raise KeyError(feed_id)


def _cross_references(data: Mapping[str, Any]) -> list[str]:
    """Problems between keys (duplicate ids, unknown feeds), found even when other keys are
    invalid, so that every problem is reported at once."""
    problems: list[str] = []
    feeds = [f for f in data.get("feeds") or [] if isinstance(f, dict)]
    channels = [c for c in data.get("channels") or [] if isinstance(c, dict)]
    feed_ids = [str(f.get("id")) for f in feeds]
    for kind, ids in (("feeds", feed_ids), ("channels", [str(c.get("id")) for c in channels])):
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"{kind}: id {dup!r} is used more than once")
    for index, channel in enumerate(data.get("channels") or []):
        if not isinstance(channel, dict):
            continue
        refs = channel.get("feeds")
        for ref in refs if isinstance(refs, list) else []:
            if str(ref) not in feed_ids:
                problems.append(f"channels[{index}].feeds: unknown feed {ref!r}")
    telegram = data.get("telegram") if isinstance(data.get("telegram"), dict) else {}
    if any(c.get("type") == "telegram" for c in channels) and not (telegram or {}).get("token"):
        problems.append(
            "telegram.token: telegram channels need the bot token "
            "(for example ${TELEGRAM_BOT_TOKEN})"
        )
    return problems


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union", "constrained-")):
            continue
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


def _substitute(value: Any, env: Mapping[str, str], path: str, problems: list[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: _substitute(v, env, f"{path}.{k}" if path else str(k), problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute(v, env, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env or env[name] == "":
                problems.append(f"{path}: environment variable {name} is not set")
                return match.group(0)  # already reported: keep the key from failing twice
            return env[name]

        return _ENV_REF.sub(replace, value)
    return value


def normalise_database_url(url: str) -> str:
    """Accept Heroku-style `postgres://` and plain `postgresql://` URLs; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def settings_from_mapping(
    raw: Any, *, source: str = "config", env: Mapping[str, str] | None = None
) -> Settings:
    """Validate an already-loaded YAML tree; raise ConfigError listing every problem."""
    environ = dict(os.environ if env is None else env)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            source, ["(top level): expected a mapping of keys such as site, feeds, channels"]
        )
    problems: list[str] = []
    data = _substitute(raw, environ, "", problems)
    if environ.get("DATABASE_URL"):
        data["storage"] = environ["DATABASE_URL"]
    if isinstance(data.get("storage"), str):
        data["storage"] = normalise_database_url(data["storage"])
    problems += _cross_references(data)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as err:
        for error in err.errors(include_url=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{_key_path(tuple(error['loc']))}: {message}")
        if environ.get("DATABASE_URL"):
            problems = [
                p.replace("storage:", "storage (from DATABASE_URL):", 1)
                if p.startswith("storage:")
                else p
                for p in problems
            ]
        raise ConfigError(source, problems) from None
    if problems:
        raise ConfigError(source, problems)
    return settings


def load_settings(path: str | Path, *, env: Mapping[str, str] | None = None) -> Settings:
    """Read the YAML file (and a `.env` beside it) into settings."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(path), ["the file does not exist (copy config/relais.example.yaml)"]
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(str(path), [f"cannot be read: {err}"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(str(path), [f"is not valid YAML: {err}"]) from None
    environ: dict[str, str] = {}
    dotenv_path = path.parent / ".env"
    if dotenv_path.is_file():
        environ.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    environ.update(os.environ if env is None else env)
    return settings_from_mapping(raw, source=str(path), env=environ)
