"""Post templates: the sandboxed Jinja2 environment, the variables a template gets, its checks."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment, safe_range

from bot.content.telegram_html import validate_telegram_html
from bot.models import ChannelType

__all__ = [
    "SAMPLE",
    "TemplateBudgetError",
    "TemplateContext",
    "check_template",
    "compile_template",
    "render_template",
    "render_text",
]

# A template's budget for one render: a post is at most 4096 characters, so a template that
# writes more, loops more or builds bigger values than this is a mistake (or an attack).
MAX_CHARS = 20_000
MAX_STEPS = 100_000
"""Loop turns, calls, filters and operators of one render (steps, not seconds: the same
template is refused on any machine, and the pure core reads no clock)."""


class TemplateBudgetError(ValueError):
    """A template that renders too much text, or for too long."""

    def __init__(self) -> None:
        super().__init__(
            f"the template renders more than {MAX_CHARS} characters or takes more than "
            f"{MAX_STEPS} steps"
        )


@dataclass
class _Budget:
    steps: int = 0

    def spend(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateBudgetError


_BUDGET: ContextVar[_Budget | None] = ContextVar("relais_template_budget", default=None)


def _spend(*values: Any) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend()
    for value in values:  # a width, a count or a repeat that would build a huge value
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_CHARS:
            raise TemplateBudgetError


def _budgeted(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps Jinja's pass_context/pass_environment marks
    def call(*args: Any, **kwargs: Any) -> Any:
        _spend(*args, *kwargs.values())
        return function(*args, **kwargs)

    return call


def _counted_range(*args: int) -> Iterator[int]:
    for number in safe_range(*args):
        _spend()
        yield number


class _BudgetedEnvironment(SandboxedEnvironment):
    """The sandbox, and every loop turn, call, filter and `*`/`**` counted against a budget."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _spend()
        if operator == "**" and isinstance(right, int) and right > 64:
            raise TemplateBudgetError
        if operator == "*":
            sized, count = (left, right) if isinstance(right, int) else (right, left)
            sizable = isinstance(sized, str | list | tuple) and isinstance(count, int)
            if sizable and len(sized) * count > MAX_CHARS:
                raise TemplateBudgetError
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend(*args, *kwargs.values())
        return super().call(__context, __obj, *args, **kwargs)


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> SandboxedEnvironment:
    environment = _BudgetedEnvironment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters = {name: _budgeted(f) for name, f in environment.filters.items()}
    environment.globals["range"] = _counted_range
    return environment


@lru_cache(maxsize=64)
def compile_template(source: str, autoescape: bool) -> Template:
    try:
        return _environment(autoescape).from_string(source)
    except TemplateError as err:
        line = getattr(err, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ValueError(f"template syntax error{where}: {err.message or err}") from err


# What a user template may raise while rendering: Jinja's own errors (undefined variables, unsafe
# attributes refused by the sandbox), and the ordinary errors of the expressions it evaluates.
_TEMPLATE_FAILURES = (
    TemplateError,
    ArithmeticError,
    LookupError,
    TypeError,
    ValueError,
    RecursionError,
)


def _render_within_budget(template: Template, variables: Mapping[str, Any]) -> str:
    token = _BUDGET.set(_Budget())
    try:
        parts: list[str] = []
        size = 0
        for part in template.generate(variables):
            size += len(part)
            if size > MAX_CHARS:
                raise TemplateBudgetError
            _spend()
            parts.append(part)
        return "".join(parts)
    finally:
        _BUDGET.reset(token)


def render_template(template: Template, variables: Mapping[str, Any]) -> str:
    """The template's text for these variables, within its budget (TemplateBudgetError past
    it); ValueError when it cannot be rendered."""
    try:
        text = _render_within_budget(template, variables).strip()
    except TemplateBudgetError:
        raise
    except _TEMPLATE_FAILURES as err:
        message = getattr(err, "message", None) or str(err)
        raise ValueError(f"the template cannot be rendered: {message}") from err
    return _unescape_quotes(text)


_LONE_VARIABLE = re.compile(r"\{\{ ?([a-z_]+) ?\}\}")


def render_text(source: str, variables: Mapping[str, Any]) -> str:
    """`render_template` of the template `source` (not autoescaped), without Jinja for the two
    shapes every post's button has: plain text (no "{", no carriage return, within
    `MAX_CHARS`), and a lone string variable such as "{{ link }}". Jinja renders both as the
    text itself, or the variable's value, which `render_template` then strips and unescapes.
    """
    if len(source) <= MAX_CHARS and "\r" not in source:
        if "{" not in source:
            return _unescape_quotes(source.strip())
        match = _LONE_VARIABLE.fullmatch(source)
        value = variables.get(match.group(1)) if match else None
        if isinstance(value, str) and len(value) <= MAX_CHARS:
            return _unescape_quotes(value.strip())
    return render_template(compile_template(source, False), variables)


def _unescape_quotes(text: str) -> str:
    # Autoescaping writes ' and " as numeric references; Telegram reads them, people read better.
    return text.replace("&#39;", "'").replace("&#34;", "&quot;")


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """What a post is made of, before any escaping."""

    title: str
    link: str
    cta: str
    hashtags: tuple[str, ...]
    author: str
    categories: tuple[str, ...]
    site_name: str
    site_url: str
    published: datetime | None
    source: str = ""
    """The outlet a reprint credits ("L'Aube", "AMAP"), else ""."""
    published_text: str = ""
    """The publication date as the post shows it ("4 avril 2024 à 10 h 30"), else ""."""

    def variables(self, title: str, teaser: str) -> dict[str, Any]:
        return {
            "title": title,
            "teaser": teaser,
            "link": self.link,
            "cta": self.cta,
            "hashtags": list(self.hashtags),
            "hashtags_text": " ".join(self.hashtags),
            "author": self.author,
            "categories": list(self.categories),
            "site": {"name": self.site_name, "url": self.site_url},
            "published": self.published,
            "published_text": self.published_text,
            "source": self.source,
        }


SAMPLE = TemplateContext(
    title="Titre de l'article",
    link="https://example.org/article?utm_source=relais",
    cta="📲 Suivez-nous",
    hashtags=("#Mali", "#Économie"),
    author="Awa Traoré",
    categories=("Mali", "Économie"),
    site_name="Exemple",
    site_url="https://example.org",
    published=datetime(2026, 11, 2, 8, 30),
    source="AMAP",
    published_text="2 novembre 2026 à 8 h 30",
)


def check_template(source: str, *, channel_type: ChannelType | None = None) -> None:
    """Raise ValueError when `source` is not a usable post template.

    Catches syntax errors, unknown variables and what the sandbox refuses, by rendering it once
    with sample values; for a Telegram channel also checks that the result is Telegram HTML.
    """
    telegram = channel_type is ChannelType.TELEGRAM
    template = compile_template(source, telegram)
    text = render_template(template, SAMPLE.variables(SAMPLE.title, "Le chapeau de l'article."))
    if telegram:
        try:
            validate_telegram_html(text)
        except ValueError as err:
            raise ValueError(f"the template does not produce valid Telegram HTML: {err}") from err
