"""YAML + environment → frozen typed settings, or one ConfigError that lists every problem."""

from __future__ import annotations

import difflib
import gc
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from dotenv import dotenv_values
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from bot.content.templates import MAX_CHARS, MAX_STEPS, TemplateBudgetError, check_template
from bot.content.wording import default_cta
from bot.delivery.plan_settings import (
    Approval,
    ApprovalRule,
    ApprovalTimeout,
    PrioritySettings,
    RoundupSettings,
    Slots,
    plan_problems,
)
from bot.errors import ConfigError
from bot.models import ChannelType

DEFAULT_CONFIG = "config/relais.yaml"
DEFAULT_STORAGE = "sqlite:///data/relais.db"

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A value that is only `$NAME` means `${NAME}` (the braces forgotten), not the text "$NAME".
_BARE_ENV_REF = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
YAML_MAX_VALUES = 100_000
"""A configuration holds a few hundred values; past this, aliases are a bomb (billion laughs)."""

# ---------------------------------------------------------------------------------------------
# Problems, in the manager's words: one catalogue per language (the site's), one key each
# ---------------------------------------------------------------------------------------------

_MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        "header": "{count} problème(s) dans la configuration :",
        "duration": "durée attendue, par exemple 90s, 5m, 2h ou 1d ; trouvé {got}",
        "negative_duration": "une durée ne peut pas être négative",
        "duration_max": "doit être au plus {limit}",
        "port": "port {got} invalide (de 1 à 65535)",
        "bad_address": "adresse invalide {got}",
        "less_than": "doit être plus petit que {limit}",
        "duplicate_key": "clé écrite deux fois (lignes {first} et {second}) : la première serait "
        "perdue",
        "too_deep": "YAML imbriqué trop profondément (des centaines de [ ou {{ ouverts)",
        "alias_bomb": "trop d'alias YAML (plus de {limit} valeurs une fois développés)",
        "in_memory": "une base en mémoire oublie tout à l'arrêt : chaque `run` reposterait les "
        "articles ; indiquez un fichier (sqlite:///data/relais.db)",
        "clock": "heure attendue au format HH:MM ; trouvé {got}",
        "quiet_hours": "heures calmes attendues au format HH:MM-HH:MM ; trouvé {got}",
        "time_zone": "fuseau horaire inconnu {got} (un nom comme Africa/Bamako)",
        "regex": "expression régulière invalide {got} : {error}",
        "too_often": "interroger un flux plus souvent que toutes les 30s n'est pas permis",
        "no_scheme": "adresse sans schéma {got} : écrivez {fixed} (ou ./fichier.xml pour un "
        "fichier local)",
        "bad_scheme": "adresse {got} : utilisez http(s):// ou un fichier local",
        "chat": "attendu @nom_de_chaine ou un identifiant numérique comme -100… ; trouvé {got}",
        "needs_chat": "une chaîne telegram a besoin de `chat` (@nom ou identifiant -100…)",
        "needs_page": "une page facebook a besoin de `page_id`",
        "needs_token": "une page facebook a besoin de `token` "
        '(par exemple "${{FACEBOOK_PAGE_TOKEN}}")',
        "template": "modèle : {error}",
        "template_budget": "modèle trop long ou trop lent à produire (au plus {chars} caractères "
        "et {steps} étapes)",
        "database": "pas une adresse de base de données (sqlite:///data/relais.db ou "
        "postgresql+psycopg://…)",
        "database_kind": "base de données {got} non prise en charge : sqlite ou postgresql",
        "duplicate_id": "l'identifiant {got} est utilisé plusieurs fois",
        "unknown_feed": "flux inconnu {got}",
        "needs_bot_token": "les chaînes telegram ont besoin du jeton du bot (par exemple "
        "${{TELEGRAM_BOT_TOKEN}})",
        "env_missing": "la variable d'environnement {name} n'est pas définie",
        "from_database_url": "storage (depuis DATABASE_URL)",
        "not_a_mapping": "une liste de clés attendue (site, feeds, channels…)",
        "empty": "le fichier est vide (copiez config/relais.example.yaml)",
        "missing_file": "le fichier n'existe pas (copiez config/relais.example.yaml)",
        "unreadable": "illisible : {error}",
        "yaml": "YAML invalide ligne {line}, colonne {column} : {error}",
        "unknown_key": "clé inconnue `{key}`",
        "did_you_mean": " (vouliez-vous dire `{suggestion}` ?)",
        "missing": "clé obligatoire manquante",
        "choice": "valeur {got} inconnue : choisissez parmi {choices}",
        "text": "texte attendu",
        "integer": "nombre entier attendu ; trouvé {got}",
        "number": "nombre attendu ; trouvé {got}",
        "boolean": "true ou false attendu ; trouvé {got}",
        "list": "liste attendue",
        "mapping": "liste de clés attendue",
        "min": "doit être au moins {limit}",
        "more_than": "doit être plus grand que {limit}",
        "max": "doit être au plus {limit}",
        "pattern": "forme invalide {got}",
        "first_run": "attendu skip, all ou latest:N ; trouvé {got}",
        "id": "identifiant attendu (lettres, chiffres, . _ -) ; trouvé {got}",
        "worded": "{text}",
    },
    "en": {
        "header": "{count} problem(s) in the configuration:",
        "duration": "expected a duration such as 90s, 5m, 2h or 1d, got {got}",
        "negative_duration": "a duration cannot be negative",
        "duration_max": "must be at most {limit}",
        "port": "invalid port {got} (1 to 65535)",
        "bad_address": "invalid address {got}",
        "less_than": "must be less than {limit}",
        "duplicate_key": "key written twice (lines {first} and {second}): the first would be lost",
        "too_deep": "YAML nested too deeply (hundreds of open [ or {{)",
        "alias_bomb": "too many YAML aliases (more than {limit} values once expanded)",
        "in_memory": "an in-memory database forgets everything when it stops: every `run` would "
        "post the articles again; name a file (sqlite:///data/relais.db)",
        "clock": "expected a time as HH:MM, got {got}",
        "quiet_hours": "expected quiet hours as HH:MM-HH:MM, got {got}",
        "time_zone": "unknown time zone {got} (use a name such as Africa/Bamako)",
        "regex": "invalid regular expression {got}: {error}",
        "too_often": "polling more often than every 30s is not allowed",
        "no_scheme": "address without a scheme {got}: write {fixed} (or ./file.xml for a "
        "local file)",
        "bad_scheme": "address {got}: use http(s):// or a local file",
        "chat": "expected @username or a numeric chat id such as -100..., got {got}",
        "needs_chat": "a telegram channel needs `chat` (@username or -100... id)",
        "needs_page": "a facebook channel needs `page_id`",
        "needs_token": 'a facebook channel needs `token` (for example "${{FACEBOOK_PAGE_TOKEN}}")',
        "template": "template: {error}",
        "template_budget": "the template renders too much or too slowly (at most {chars} "
        "characters and {steps} steps)",
        "database": "not a database URL (sqlite:///data/relais.db or postgresql+psycopg://…)",
        "database_kind": "unsupported database {got}: use sqlite or postgresql",
        "duplicate_id": "id {got} is used more than once",
        "unknown_feed": "unknown feed {got}",
        "needs_bot_token": "telegram channels need the bot token (for example "
        "${{TELEGRAM_BOT_TOKEN}})",
        "env_missing": "environment variable {name} is not set",
        "from_database_url": "storage (from DATABASE_URL)",
        "not_a_mapping": "expected a mapping of keys such as site, feeds, channels",
        "empty": "the file is empty (copy config/relais.example.yaml)",
        "missing_file": "the file does not exist (copy config/relais.example.yaml)",
        "unreadable": "cannot be read: {error}",
        "yaml": "is not valid YAML, line {line}, column {column}: {error}",
        "unknown_key": "unknown key `{key}`",
        "did_you_mean": " (did you mean `{suggestion}`?)",
        "missing": "required key missing",
        "choice": "unknown value {got}: choose among {choices}",
        "text": "expected text",
        "integer": "expected a whole number, got {got}",
        "number": "expected a number, got {got}",
        "boolean": "expected true or false, got {got}",
        "list": "expected a list",
        "mapping": "expected a mapping of keys",
        "min": "must be at least {limit}",
        "more_than": "must be greater than {limit}",
        "max": "must be at most {limit}",
        "pattern": "invalid form {got}",
        "first_run": "expected skip, all or latest:N, got {got}",
        "id": "expected an id (letters, digits, . _ -), got {got}",
        "worded": "{text}",
    },
}


def _say(language: str, message: str, **params: Any) -> str:
    catalogue = _MESSAGES.get(language, _MESSAGES["fr"])
    return catalogue[message].format(**params)


class _Problem(ValueError):
    """A validation problem as a catalogue key and its values, worded when it is reported
    (in the site's language); its `str` is the French wording (Relais is French-first), for
    direct callers such as the schedule's own validators."""

    def __init__(self, *items: tuple[str, dict[str, Any]]) -> None:
        self.items = items
        super().__init__("; ".join(_say("fr", key, **params) for key, params in items))

    def words(self, language: str) -> str:
        return "; ".join(_say(language, key, **params) for key, params in self.items)


def _problem(key: str, **params: Any) -> _Problem:
    return _Problem((key, params))


# "bamada.net/feed": a host where a scheme is missing (not "feed.xml" or "data/feed.xml").
_HOST_WITHOUT_SCHEME = re.compile(
    r"^(?:www\.)?[\w-]+(?:\.[\w-]+)*\.(?!(?:xml|rss|atom|rdf|json|gz|txt|html?)(?:/|$))"
    r"[A-Za-z]{2,24}(?::\d+)?(?:/|$)"
)


LONGEST_DURATION = timedelta(days=3650)
"""No duration in a configuration is longer: past it, dates overflow (a year 10000)."""


def _seconds_of(value: Any) -> float:
    if isinstance(value, bool):
        raise _problem("duration", got=repr(value))
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):  # .nan, .inf in YAML
            raise _problem("duration", got=repr(value))
        if value < 0:
            raise _problem("negative_duration")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(int(match.group(1)) * _UNITS[match.group(2)])
    raise _problem("duration", got=repr(value))


def duration_text(value: timedelta) -> str:
    """A duration as the configuration writes it: 7d, 2h, 90s."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_duration(value: Any) -> timedelta:
    """`90s`, `5m`, `2h`, `1d` (or a number of seconds) → timedelta, at most LONGEST_DURATION."""
    if isinstance(value, timedelta):
        return value
    seconds = _seconds_of(value)
    if seconds > LONGEST_DURATION.total_seconds():
        raise _problem("duration_max", limit=duration_text(LONGEST_DURATION))
    return timedelta(seconds=seconds)


def _at_most(limit: timedelta) -> AfterValidator:
    def check(value: timedelta | None) -> timedelta | None:
        if value is not None and value > limit:
            raise _problem("duration_max", limit=duration_text(limit))
        return value

    return AfterValidator(check)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Within7Days = Annotated[timedelta, BeforeValidator(parse_duration), _at_most(timedelta(days=7))]
WithinADay = Annotated[timedelta, BeforeValidator(parse_duration), _at_most(timedelta(days=1))]
WithinAYear = Annotated[timedelta, BeforeValidator(parse_duration), _at_most(timedelta(days=365))]
Within30Days = Annotated[timedelta, BeforeValidator(parse_duration), _at_most(timedelta(days=30))]


def _parse_clock(text: str) -> time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise _problem("clock", got=repr(text))
    return time(int(match.group(1)), int(match.group(2)))


def _parse_quiet_hours(value: Any) -> tuple[time, time] | None:
    if value is None or value == "":
        return None
    if isinstance(value, tuple):
        return value
    if not isinstance(value, str) or "-" not in value:
        raise _problem("quiet_hours", got=repr(value))
    start, _, end = value.partition("-")
    return _parse_clock(start), _parse_clock(end)


def _parse_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise _problem("clock", got=repr(value))
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
            raise _problem("time_zone", got=repr(value)) from err
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


FirstRun = Annotated[str, Field(pattern=r"^(skip|all|latest:[1-9][0-9]*)$")]


class FeedSettings(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    url: str
    every: Within7Days = timedelta(minutes=5)
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
                raise _problem("regex", got=repr(pattern), error=str(err)) from err
        return value

    @field_validator("url")
    @classmethod
    def _an_address(cls, value: str) -> str:
        value = value.strip()
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", value)
        if scheme and len(scheme.group(1)) > 1:
            if scheme.group(1).lower() not in {"http", "https", "file"}:
                raise _problem("bad_scheme", got=repr(value))
            _port_in_range(value)
            return value
        if _HOST_WITHOUT_SCHEME.match(value):
            raise _problem("no_scheme", got=repr(value), fixed=f"https://{value}")
        return value

    @field_validator("every")
    @classmethod
    def _not_too_often(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=30):
            raise _problem("too_often")
        return value

    @property
    def first_run_latest(self) -> int | None:
        """N for `latest:N`, 0 for `skip`, None for `all`."""
        if self.first_run == "all":
            return None
        if self.first_run == "skip":
            return 0
        return int(self.first_run.split(":", 1)[1])


def _port_in_range(url: str) -> None:
    """A problem for an address whose port is not 1-65535, or that does not parse at all."""
    try:
        parts = urlsplit(url)
    except ValueError as err:
        raise _problem("bad_address", got=repr(url)) from err
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        raise _problem("bad_address", got=repr(url))
    port = re.search(r":([^:]*)$", parts.netloc.rpartition("@")[2].rpartition("]")[2])
    if port is None or port.group(1) == "":
        return
    if not port.group(1).isdigit() or not 1 <= int(port.group(1)) <= 65535:
        raise _problem("port", got=port.group(1))


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
    min_gap: WithinADay | None = None
    max_per_day: int | None = Field(default=None, gt=0)
    quiet_hours: QuietHours = None
    max_age: WithinAYear | None = timedelta(days=2)
    teaser_length: int | None = Field(default=None, ge=40, le=4000)
    rescrape: bool = True
    show_title: bool | None = None
    """None: the title is shown, except in a Facebook link post, whose card shows it already."""
    show_date: bool = True
    """Show the publication date on a post that goes out hours after the article."""
    credit: Literal["source", "author", "none"] = "source"
    """"Source : L'Aube" for a reprint; `author` also names the author of the site's own."""
    # The manager's schedule (bot/delivery/plan_settings.py; PRODUCT.md "Planning posts").
    slots: Slots = None
    order: Literal["newest", "oldest"] = "newest"
    roundup: RoundupSettings | None = None
    priority: PrioritySettings | None = None
    approval: Approval = ApprovalRule()
    approval_timeout: ApprovalTimeout = ApprovalTimeout()
    update_window: Within30Days = timedelta(hours=24)

    @field_validator("chat", "page_id", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        """`chat: -1001234567890` unquoted is a number in YAML: it means the same id."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("chat")
    @classmethod
    def _chat_shape(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = str(value).strip()
        if not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,}|-?\d+", value):
            raise _problem("chat", got=repr(value))
        return value

    @model_validator(mode="after")
    def _type_fields(self) -> ChannelSettings:
        problems: list[tuple[str, dict[str, Any]]] = []
        if self.type is ChannelType.TELEGRAM and not self.chat:
            problems.append(("needs_chat", {}))
        if self.type is ChannelType.FACEBOOK:
            if not self.page_id:
                problems.append(("needs_page", {}))
            if self.token is None or not self.token.get_secret_value():
                problems.append(("needs_token", {}))
        if self.template is not None:
            try:
                check_template(self.template, channel_type=self.type)
            except TemplateBudgetError:
                problems.append(("template_budget", {"chars": MAX_CHARS, "steps": MAX_STEPS}))
            except ValueError as err:
                problems.append(("template", {"error": str(err)}))
        for problem in plan_problems(
            channel_type=self.type.value,
            quiet_hours=self.quiet_hours,
            slots=self.slots,
            roundup=self.roundup,
            priority=self.priority,
        ):
            problems.append(("worded", {"text": problem}))  # already in French, with its key
        if problems:
            raise _Problem(*problems)
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
    timeout: Annotated[
        timedelta, BeforeValidator(parse_duration), _at_most(timedelta(minutes=10))
    ] = timedelta(seconds=20)


class FetchSettings(_Frozen):
    """How many feeds are fetched at once, in all and from one host (issue 12)."""

    concurrency: int = Field(default=64, ge=1, le=1024)
    per_host: int = Field(default=8, ge=1, le=256)


class WebSettings(_Frozen):
    """The dashboard, /healthz and /metrics on one port (and the Telegram webhook, if any)."""

    listen: str = "127.0.0.1"
    port: int = Field(default=8080, gt=0, lt=65536)
    base_url: str = Field(default="http://127.0.0.1:8080", pattern=r"^https?://[^\s/]+(/\S*)?$")

    @property
    def secure(self) -> bool:
        """Behind https: session cookies get the Secure flag."""
        return self.base_url.startswith("https://")


class LoggingSettings(_Frozen):
    format: Literal["text", "json"] = "text"


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
            raise _problem("database") from err
        if backend not in {"sqlite", "postgresql"}:
            raise _problem("database_kind", got=repr(backend))
        return value

    feeds: tuple[FeedSettings, ...] = ()
    channels: tuple[ChannelSettings, ...] = ()
    telegram: TelegramSettings = TelegramSettings()
    facebook: FacebookSettings = FacebookSettings()
    fetch: FetchSettings = FetchSettings()
    web: WebSettings | None = None
    logging: LoggingSettings = LoggingSettings()

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


def _cross_references(data: Mapping[str, Any], language: str) -> list[str]:
    """Problems between keys (duplicate ids, unknown feeds), found even when other keys are
    invalid, so that every problem is reported at once."""
    problems: list[str] = []
    feeds = [f for f in data.get("feeds") or [] if isinstance(f, dict)]
    channels = [c for c in data.get("channels") or [] if isinstance(c, dict)]
    feed_ids = [str(f.get("id")) for f in feeds]
    for kind, ids in (("feeds", feed_ids), ("channels", [str(c.get("id")) for c in channels])):
        counts = Counter(ids)  # linear: 10,000 feeds are checked at once
        for dup in sorted(i for i, count in counts.items() if count > 1):
            problems.append(f"{kind}: {_say(language, 'duplicate_id', got=repr(dup))}")
    known_feeds = set(feed_ids)
    for index, channel in enumerate(data.get("channels") or []):
        if not isinstance(channel, dict):
            continue
        refs = channel.get("feeds")
        for ref in refs if isinstance(refs, list) else []:
            if str(ref) not in known_feeds:
                problems.append(
                    f"channels[{index}].feeds: {_say(language, 'unknown_feed', got=repr(ref))}"
                )
    telegram = data.get("telegram") if isinstance(data.get("telegram"), dict) else {}
    if any(c.get("type") == "telegram" for c in channels) and not (telegram or {}).get("token"):
        problems.append(f"telegram.token: {_say(language, 'needs_bot_token')}")
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


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        model = _inner_model(arg)
        if model is not None:
            return model
    return None


def _keys_beside(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model holding the last part of `loc` accepts (for "did you mean")."""
    model: type[BaseModel] | None = Settings
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _inner_model(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


_RANGES = {"greater_than": ("more_than", "gt"), "greater_than_equal": ("min", "ge")}
_RANGES["less_than_equal"] = ("max", "le")
_RANGES["less_than"] = ("less_than", "lt")
_SIMPLE = {
    "missing": "missing",
    "string_type": "text",
    "int_type": "integer",
    "int_parsing": "integer",
    "int_from_float": "integer",
    "float_type": "number",
    "float_parsing": "number",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
    "tuple_type": "list",
    "list_type": "list",
    "model_type": "mapping",
    "model_attributes_type": "mapping",
    "dict_type": "mapping",
}


def _worded(error: ErrorDetails, language: str) -> str:
    """One pydantic error in the manager's words, by a table of error types."""
    kind, loc = error["type"], tuple(error["loc"])
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    got = repr(error.get("input"))
    problem = ctx.get("error")
    if kind == "value_error" and isinstance(problem, _Problem):
        return problem.words(language)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, _keys_beside(loc), n=1, cutoff=0.6)
        suggestion = _say(language, "did_you_mean", suggestion=close[0]) if close else ""
        return _say(language, "unknown_key", key=key) + suggestion
    if kind in ("literal_error", "enum"):
        choices = str(ctx.get("expected", ""))
        if language == "fr":
            choices = choices.replace(" or ", " ou ")
        return _say(language, "choice", got=got, choices=choices)
    if kind == "string_pattern_mismatch":
        field = str(loc[-1]) if loc else ""
        return _say(language, field if field in ("first_run", "id") else "pattern", got=got)
    if kind in _RANGES:
        key, bound = _RANGES[kind]
        return _say(language, key, limit=ctx.get(bound))
    if kind in _SIMPLE:
        return _say(language, _SIMPLE[kind], got=got)
    return str(error["msg"]).removeprefix("Value error, ")


def _language_of(raw: Mapping[str, Any]) -> str:
    """The site's language, read before validation: the manager's messages are in it."""
    site = raw.get("site")
    language = site.get("language") if isinstance(site, dict) else None
    return language if language in _MESSAGES else "fr"


def _plain(value: Any) -> bool:
    """A value `_substitute` leaves as it is: no container, no `$` (most of a large config)."""
    if isinstance(value, str):
        return "$" not in value
    return not isinstance(value, dict | list)


def _substitute(
    value: Any, env: Mapping[str, str], path: str, problems: list[str], language: str
) -> Any:
    # A plain value is kept without working out its key path (10,000 feeds: 40,000 values).
    if isinstance(value, dict):
        return {
            k: v
            if _plain(v)
            else _substitute(v, env, f"{path}.{k}" if path else str(k), problems, language)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            v if _plain(v) else _substitute(v, env, f"{path}[{i}]", problems, language)
            for i, v in enumerate(value)
        ]
    if isinstance(value, str):
        bare = _BARE_ENV_REF.match(value.strip())
        value = f"${{{bare.group(1)}}}" if bare else value

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env or env[name] == "":
                problems.append(f"{path}: {_say(language, 'env_missing', name=name)}")
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


def _refusal(source: str, problems: list[str], language: str) -> ConfigError:
    return ConfigError(source, problems, header=_say(language, "header", count=len(problems)))


def settings_from_mapping(
    raw: Any, *, source: str = "config", env: Mapping[str, str] | None = None
) -> Settings:
    """Validate an already-loaded YAML tree; raise ConfigError listing every problem, worded
    in the site's language (French unless `site.language` says otherwise)."""
    environ = dict(os.environ if env is None else env)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _refusal(source, [f"(top level): {_say('fr', 'not_a_mapping')}"], "fr")
    language = _language_of(raw)
    problems: list[str] = []
    data = _substitute(raw, environ, "", problems, language)
    if environ.get("DATABASE_URL"):
        data["storage"] = environ["DATABASE_URL"]
    if isinstance(data.get("storage"), str):
        data["storage"] = normalise_database_url(data["storage"])
    problems += _cross_references(data, language)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as err:
        for error in err.errors(include_url=False):
            problems.append(f"{_key_path(tuple(error['loc']))}: {_worded(error, language)}")
        if environ.get("DATABASE_URL"):
            renamed = _say(language, "from_database_url") + ":"
            problems = [
                p.replace("storage:", renamed, 1) if p.startswith("storage:") else p
                for p in problems
            ]
        raise _refusal(source, problems, language) from None
    if problems:
        raise _refusal(source, problems, language)
    return settings


def in_memory_database(url: str) -> bool:
    """Whether a database URL names an SQLite database that lives only in memory."""
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return False
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or parsed.query.get("mode") == "memory"
    )


def refuse_in_memory_storage(settings: Settings, source: str) -> None:
    """`relais run` on an in-memory database would forget what it posted at every run and post
    it again (first_run latest:N, all): a ConfigError naming `storage`."""
    if in_memory_database(settings.storage):
        language = settings.site.language
        raise _refusal(source, [f"storage: {_say(language, 'in_memory')}"], language)


def load_settings(path: str | Path, *, env: Mapping[str, str] | None = None) -> Settings:
    """Read the YAML file (and a `.env` beside it) into settings. An empty file is refused:
    it is a mistake, not a configuration."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _refusal(str(path), [_say("fr", "missing_file")], "fr") from None
    except (OSError, UnicodeDecodeError) as err:
        raise _refusal(str(path), [_say("fr", "unreadable", error=err)], "fr") from None
    with collector_paused():
        try:
            raw = _load_yaml(text, str(path))
        except yaml.YAMLError as err:
            raise _refusal(str(path), [_yaml_problem(err)], "fr") from None
        except RecursionError:  # PyYAML composes nested blocks recursively
            raise _refusal(str(path), [_say("fr", "too_deep")], "fr") from None
        if raw is None or raw == {}:
            raise _refusal(str(path), [_say("fr", "empty")], "fr")
        environ: dict[str, str] = {}
        dotenv_path = path.parent / ".env"
        if dotenv_path.is_file():
            environ.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        environ.update(os.environ if env is None else env)
        return settings_from_mapping(raw, source=str(path), env=environ)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector held while start-up builds its large, acyclic data (the YAML
    tree, 10,000 FeedSettings, the poll jobs): each of its passes scans every object alive,
    and at 10,000 feeds they were two thirds of the time spent composing the YAML. Memory is
    still freed as it always is (reference counts); the collector runs again on leaving."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(text: str, source: str) -> Any:
    """The YAML tree, refused (ConfigError) when a key is written twice in a mapping or when
    aliases would expand it past YAML_MAX_VALUES; both are decided on the composed nodes,
    before anything is built. Read by libyaml when PyYAML has it (ten times faster on a config
    of 10,000 feeds); a broken file is read again by the pure-Python loader, whose messages are
    the ones `_yaml_problem` words."""
    try:
        return _compose_and_build(_FAST_LOADER, text, source)
    except yaml.YAMLError:
        return _compose_and_build(yaml.SafeLoader, text, source)


def _compose_and_build(loader_class: Any, text: str, source: str) -> Any:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problems = yaml_node_problems(node)
        if problems:
            language = _node_language(node)
            worded = [
                f"{where}: {_say(language, key, **params)}" for where, key, params in problems
            ]
            raise _refusal(source, worded, language)
        return _build(loader, node, {})
    finally:
        loader.dispose()


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "seq", "map"))


def _build(loader: Any, node: yaml.Node, built: dict[int, Any]) -> Any:
    """The value `loader.construct_document(node)` gives, built here for text, lists and
    mappings whose keys are plain scalars (nearly all of a configuration: 90,000 nodes at
    10,000 feeds, three times faster than PyYAML's generic constructor); every other node
    (numbers, booleans, dates, `<<` merges, complex keys, explicit tags) is built by the
    loader's own constructors. `built` holds each collection built once, for aliases."""
    if isinstance(node, yaml.ScalarNode):
        return _fresh(node.value) if node.tag == _STR else loader.construct_object(node, deep=True)
    if id(node) in built:
        return built[id(node)]
    value: Any
    if node.tag == _SEQ and isinstance(node, yaml.SequenceNode):
        value = built[id(node)] = []
        value.extend(_build(loader, item, built) for item in node.value)
    elif node.tag == _MAP and all(
        isinstance(key, yaml.ScalarNode) and key.tag in _PLAIN_KEY_TAGS for key, _v in node.value
    ):
        value = built[id(node)] = {}
        for key, item in node.value:
            value[_build(loader, key, built)] = _build(loader, item, built)
    else:
        value = built[id(node)] = loader.construct_object(node, deep=True)
    return value


def _fresh(text: str) -> str:
    """A copy of a text the composer made. The composed tree (nodes, their marks: some 25 MB at
    10,000 feeds) is freed once built, but Python returns its memory to the system only by whole
    arenas, and the feed ids and URLs the settings keep were scattered through them: 19 MB held
    for good. A copy is made beside the built tree instead, and the composer's arenas empty."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


# Key tags built like any scalar: not `<<` (merge) nor `=` (value), which PyYAML treats apart.
_PLAIN_KEY_TAGS = frozenset(
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "timestamp")
)


def _node_language(node: yaml.Node) -> str:
    """`site.language` read from the composed nodes (the tree is not built yet)."""
    for key, value in node.value if isinstance(node, yaml.MappingNode) else ():
        if key.value == "site" and isinstance(value, yaml.MappingNode):
            for inner, lang in value.value:
                if inner.value == "language" and lang.value in _MESSAGES:
                    return str(lang.value)
    return "fr"


def yaml_node_problems(root: yaml.Node) -> list[tuple[str, str, dict[str, Any]]]:
    """(key path, catalogue key, values) for each key written twice in one mapping, and one
    problem when aliases expand the document past YAML_MAX_VALUES (or into itself)."""
    problems: list[tuple[str, str, dict[str, Any]]] = []
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    scalar = yaml.ScalarNode

    def size(node: yaml.Node, path: str) -> int:
        # Scalars count 1 without a call of their own, and a key's path is only written out
        # for a collection or a problem: 10,000 feeds are 50,000 values.
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in visiting:  # an alias inside its own anchor: endless
            return YAML_MAX_VALUES + 1
        visiting.add(id(node))
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                total += 1 if isinstance(item, scalar) else size(item, f"{path}[{index}]")
        elif isinstance(node, yaml.MappingNode):
            keys: dict[Any, yaml.Node] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, scalar) else None
                if name is not None and name in keys and name != "<<":
                    params = {
                        "first": keys[name].start_mark.line + 1,
                        "second": key.start_mark.line + 1,
                    }
                    problems.append(
                        (f"{path}.{name}" if path else str(name), "duplicate_key", params)
                    )
                keys.setdefault(name, key)
                if isinstance(value, scalar):
                    total += 1
                else:
                    total += size(value, f"{path}.{name}" if path else str(name))
        visiting.discard(id(node))
        sizes[id(node)] = min(total, YAML_MAX_VALUES + 1)
        return sizes[id(node)]

    if size(root, "") > YAML_MAX_VALUES:
        problems.append(("(top level)", "alias_bomb", {"limit": YAML_MAX_VALUES}))
    return problems


def _yaml_problem(err: yaml.YAMLError) -> str:
    """A YAML error as "ligne 3, colonne 9 : …", without PyYAML's "<unicode string>"."""
    mark = getattr(err, "problem_mark", None)
    what = " ".join(
        str(part) for part in (getattr(err, "context", None), getattr(err, "problem", None)) if part
    ) or str(err).replace('"<unicode string>", ', "")
    if mark is None:
        return _say("fr", "yaml", line="?", column="?", error=what)
    return _say("fr", "yaml", line=mark.line + 1, column=mark.column + 1, error=what)
