"""The manager's schedule keys of a channel (slots, roundup, priority, approval), validated."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.delivery.schedule import in_quiet_hours

# bot/settings.py imports this module to build ChannelSettings, so the two parsers it owns
# (durations and HH:MM times) are imported back when a value is validated, never at import time.


def _duration(value: Any) -> timedelta:
    from bot.settings import parse_duration

    return parse_duration(value)


def _clock(value: Any) -> time:
    from bot.settings import _parse_time

    return _parse_time(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Clock = Annotated[time, BeforeValidator(_clock)]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

WEEKDAYS: dict[str, int] = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))},
}
_DAY_NAMES = "mon tue wed thu fri sat sun (ou lun mar mer jeu ven sam dim)"


def _days_of(key: str) -> list[int]:
    """`mon-fri` → [0..4]; `sat-sun`, `wed`, `mon,wed,fri`; a range may wrap (`fri-mon`)."""
    days: list[int] = []
    for part in str(key).lower().replace(" ", "").split(","):
        first, sep, last = part.partition("-")
        if first not in WEEKDAYS or (sep and last not in WEEKDAYS):
            raise ValueError(f"jour inconnu {key!r} : utilisez {_DAY_NAMES}, ou une plage mon-fri")
        start, end = WEEKDAYS[first], WEEKDAYS[last] if sep else WEEKDAYS[first]
        days += [(start + i) % 7 for i in range((end - start) % 7 + 1)]
    return days


def _week(value: Any) -> Any:
    if value is None or isinstance(value, WeekSlots):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(
            'attendu des créneaux par jour, par exemple {mon-fri: ["07:30", "12:30"], '
            f'sat-sun: ["09:00"]}}, reçu {value!r}'
        )
    week: list[tuple[time, ...] | None] = [None] * 7
    for key, times in value.items():
        if isinstance(times, str):
            times = [times]
        if not isinstance(times, list | tuple):
            raise ValueError(f"{key}: attendu une liste d'heures HH:MM, reçu {times!r}")
        try:
            parsed = tuple(sorted({_clock(t) for t in times}))
        except ValueError as err:
            raise ValueError(f"{key}: {err}") from None
        for day in _days_of(str(key)):
            if week[day] is not None:
                raise ValueError(f"{key}: le jour {list(WEEKDAYS)[day]} a déjà ses créneaux")
            week[day] = parsed
    if not any(week):
        raise ValueError("aucun créneau : donnez au moins une heure, ou retirez `slots`")
    return WeekSlots(days=tuple(day or () for day in week))


class WeekSlots(BaseModel):
    """The posting times of each weekday, Monday first, in the site's time zone."""

    model_config = _FROZEN
    days: tuple[tuple[time, ...], ...]

    def on(self, weekday: int) -> tuple[time, ...]:
        return self.days[weekday]


Slots = Annotated[WeekSlots | None, BeforeValidator(_week)]


class RoundupSettings(BaseModel):
    """`roundup: {at, after_quiet, min_items, max_items}`: one headline list instead of a flood."""

    model_config = _FROZEN
    at: tuple[Clock, ...]
    after_quiet: bool = True
    min_items: int = Field(default=3, ge=1)
    max_items: int = Field(default=10, ge=2, le=30)

    @model_validator(mode="after")
    def _sizes(self) -> RoundupSettings:
        if not self.at:
            raise ValueError('roundup.at : donnez au moins une heure, par exemple ["07:00"]')
        if self.min_items > self.max_items:
            raise ValueError(f"min_items ({self.min_items}) dépasse max_items ({self.max_items})")
        return self

    @property
    def times(self) -> tuple[time, ...]:
        return tuple(sorted(set(self.at)))


class PrioritySettings(BaseModel):
    """`priority:` what makes an article breaking news on this channel, and its pinning."""

    model_config = _FROZEN
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    pin: bool = False
    pin_for: Duration | None = timedelta(hours=6)

    @model_validator(mode="after")
    def _pin_for(self) -> PrioritySettings:
        if self.pin_for is not None and not timedelta(minutes=1) <= self.pin_for <= timedelta(
            days=7
        ):
            raise ValueError("pin_for doit être entre 1m et 7d (ou null : épinglé sans limite)")
        return self

    @property
    def has_rules(self) -> bool:
        return bool(self.categories or self.keywords or self.tags)


def _approval(value: Any) -> Any:
    if isinstance(value, bool):
        return {"all": value}
    if isinstance(value, Mapping) and "all" in value:
        raise ValueError("écrivez approval: true, ou approval: {categories: [...]}")
    if value is None:
        return {"all": False}
    if not isinstance(value, Mapping):
        raise ValueError(f"attendu true, false ou {{categories: [...]}}, reçu {value!r}")
    return value


class ApprovalRule(BaseModel):
    """`approval: true` (every post) or `{categories: [...]}` (posts of those categories)."""

    model_config = _FROZEN
    all: bool = False
    categories: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.all or bool(self.categories)


Approval = Annotated[ApprovalRule, BeforeValidator(_approval)]


class ApprovalTimeout(BaseModel):
    """`approval_timeout: {after, then}`: what happens to a post no admin answered."""

    model_config = _FROZEN
    after: Duration = timedelta(hours=2)
    then: Literal["publish", "skip"] = "publish"

    @model_validator(mode="after")
    def _bounds(self) -> ApprovalTimeout:
        if not timedelta(minutes=1) <= self.after <= timedelta(days=7):
            raise ValueError("approval_timeout.after doit être entre 1m et 7d")
        return self


def _in_quiet(t: time, quiet: tuple[time, time]) -> bool:
    return in_quiet_hours(datetime.combine(date(2000, 1, 1), t), quiet)


def plan_problems(
    *,
    channel_type: str,
    quiet_hours: tuple[time, time] | None,
    slots: WeekSlots | None,
    roundup: RoundupSettings | None,
    priority: PrioritySettings | None,
) -> list[str]:
    """Problems between the schedule keys of one channel, in French, each naming its key."""
    problems: list[str] = []
    if quiet_hours is not None:
        quiet_text = f"{quiet_hours[0]:%H:%M}-{quiet_hours[1]:%H:%M}"
        if slots is not None:
            inside = sorted({t for day in slots.days for t in day if _in_quiet(t, quiet_hours)})
            if inside:
                listed = ", ".join(f"{t:%H:%M}" for t in inside)
                problems.append(
                    f"slots: {listed} tombe pendant les heures calmes ({quiet_text}) "
                    "et ne servirait jamais"
                )
        if roundup is not None:
            inside = [t for t in roundup.times if _in_quiet(t, quiet_hours)]
            if inside:
                listed = ", ".join(f"{t:%H:%M}" for t in inside)
                problems.append(
                    f"roundup.at: {listed} tombe pendant les heures calmes ({quiet_text})"
                )
    if priority is not None and priority.pin and channel_type != "telegram":
        problems.append("priority.pin: seul Telegram sait épingler un message")
    return problems
