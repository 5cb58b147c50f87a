"""Post templates: the sandboxed Jinja2 environment, the variables a template gets, its checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.content.telegram_html import validate_telegram_html
from bot.models import ChannelType

__all__ = ["SAMPLE", "TemplateContext", "check_template", "compile_template", "render_template"]


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


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


def render_template(template: Template, variables: Mapping[str, Any]) -> str:
    try:
        text = template.render(variables).strip()
    except _TEMPLATE_FAILURES as err:
        message = getattr(err, "message", None) or str(err)
        raise ValueError(f"the template cannot be rendered: {message}") from err
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
