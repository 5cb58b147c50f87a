"""Pure correction decisions: is a changed article worth editing its post, and how each
platform edits it."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from typing import Literal

from bot.content.teaser import article_teaser
from bot.models import Article, ChannelType, FacebookPost, Post, TelegramPost

# A typo fix changes a few letters inside a word; it does not add, remove or replace words, and
# never changes a figure. A word counts as the same word corrected when its edit distance to the
# old one is at most 2 characters and at most a third of its length (normalised edit distance
# ≤ 0.34): "enseignats" → "enseignants" (1/11) and "Bamko" → "Bamako" (1/6) are typos, "hier"
# → "lundi" (5/5) or "a" → "n'a pas" are not. Why per word and not one ratio over the whole
# lead: a single-ratio threshold small enough to keep "n'a pas démissionné" → "a démissionné"
# (7 characters of 400, under 2 %) would also call a reworded sentence a typo.
TYPO_CHARS = 2
TYPO_RATIO = 0.34

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "«": '"', "»": '"', "“": '"', "”": '"'})
_NUMBER = re.compile(r"\d+(?:[.,\s\u00a0\u202f]\d+)*")
_IMAGE_SIZE = re.compile(r"-\d{2,5}x\d{2,5}(?=\.\w+$)")


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split())


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _normal(text).casefold())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), two rows at a time."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _typo(old: str, new: str) -> bool:
    distance = edit_distance(old, new)
    return distance <= TYPO_CHARS and distance <= TYPO_RATIO * max(len(old), len(new), 1)


def beyond_typo(old: str, new: str) -> bool:
    """Whether `new` changes `old` beyond a typo (see TYPO_CHARS and TYPO_RATIO)."""
    if _normal(old) == _normal(new):
        return False
    numbers = [re.sub(r"\D", "", n) for n in _NUMBER.findall(_normal(old))]
    if numbers != [re.sub(r"\D", "", n) for n in _NUMBER.findall(_normal(new))]:
        return True
    a, b = _words(old), _words(new)
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            if not all(_typo(x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=True)):
                return True
        elif not _typo("".join(a[i1:i2]), "".join(b[j1:j2])):  # a word split or glued back
            return True
    return False


def same_image(old: str | None, new: str | None) -> bool:
    """WordPress serves one image at several sizes (`photo-300x200.jpg`): the same picture."""

    def key(url: str | None) -> str | None:
        return _IMAGE_SIZE.sub("", url.split("?", 1)[0].split("#", 1)[0]) if url else None

    return key(old) == key(new)


@dataclass(frozen=True, slots=True)
class Version:
    """What a post was made from (or what the feed says now): title, lead, image."""

    title: str
    lead: str
    image: str | None


Change = Literal["title", "lead", "image"]


def changes(posted: Version, now: Version) -> tuple[Change, ...]:
    """What changed enough to edit: a new title (any change beyond spaces and quote styles), a
    lead changed beyond a typo, a new image (an image removed cannot be edited away)."""
    found: list[Change] = []
    if _normal(posted.title) != _normal(now.title):
        found.append("title")
    if beyond_typo(posted.lead, now.lead):
        found.append("lead")
    if now.image and not same_image(posted.image, now.image):
        found.append("image")
    return tuple(found)


EditMethod = Literal[
    "editMessageText",
    "editMessageCaption",
    "editMessageMedia",
    "facebook_message",
    "facebook_rescrape",
]


@dataclass(frozen=True, slots=True)
class EditPlan:
    """The calls that bring a post up to date (in order), and why; `methods` empty: no edit."""

    methods: tuple[EditMethod, ...]
    changes: tuple[Change, ...]
    why: str


def edit_plan(
    posted: Version,
    now: Version,
    *,
    platform: ChannelType,
    photo_post: bool,
    link_post_shows_title: bool = False,
    sent_at: datetime,
    at: datetime,
    window: timedelta,
) -> EditPlan:
    """Whether and how to edit a post whose article changed in the feed.

    Telegram: a photo post changes its picture with `editMessageMedia` (the new caption rides
    along), else its caption with `editMessageCaption`; a text post is edited with
    `editMessageText` (a text message cannot gain a photo: a new image alone is no edit).
    Facebook: `POST /{post-id}` with `message` for the text; a link post's card (title, image)
    is re-read by asking Facebook to scrape the link again; a photo post cannot change its
    picture (Facebook silently ignores it), so a new image alone is no edit there.
    """
    if window <= timedelta(0) or at > sent_at + window:
        return EditPlan((), (), "hors de la fenêtre de correction (update_window)")
    found = changes(posted, now)
    if not found:
        return EditPlan((), (), "rien de plus qu'une coquille : pas de modification")
    text = "title" in found or "lead" in found
    methods: tuple[EditMethod, ...] = ()
    if platform is ChannelType.TELEGRAM:
        if photo_post and "image" in found:
            methods = ("editMessageMedia",)
        elif text:
            methods = ("editMessageCaption",) if photo_post else ("editMessageText",)
    elif platform is ChannelType.FACEBOOK:
        in_message = "lead" in found or ("title" in found and (photo_post or link_post_shows_title))
        card = not photo_post and ("title" in found or "image" in found)
        facebook: list[EditMethod] = []
        if in_message:
            facebook.append("facebook_message")
        if card:
            facebook.append("facebook_rescrape")
        methods = tuple(facebook)
    why = ", ".join(
        {"title": "nouveau titre", "lead": "chapeau modifié", "image": "nouvelle image"}[c]
        for c in found
    )
    if not methods:
        return EditPlan((), found, f"{why} : cette publication ne peut pas le montrer")
    return EditPlan(methods, found, why)


@dataclass(frozen=True, slots=True)
class Posted:
    """A post that is out: its delivery and channel, when it went, the version it shows (as
    posted or last edited), and whether it is a photo post."""

    delivery: int
    channel_id: str
    sent_at: datetime
    shows: Version
    photo: bool


@dataclass(frozen=True, slots=True)
class Edit:
    """One edit to make: the post, what it will show, how (`plan.methods`), and its version key
    (one edit per post and version: the same change never edits twice)."""

    delivery: int
    channel_id: str
    shows: Version
    plan: EditPlan
    key: str


LEAD_CHARS = 1000  # how much of the lead a version compares (the teaser budget is smaller)


def version_of(article: Article, *, strip: Sequence[str] = ()) -> Version:
    """What a post of this article shows: its title, its lead (as the teaser reads it), image."""
    lead = article_teaser(article, LEAD_CHARS, extra_patterns=strip)
    return Version(article.title, lead, article.image)


def is_photo(post: Post) -> bool:
    """Whether a rendered post is a photo post (its caption and picture are edited)."""
    if isinstance(post, TelegramPost):
        return post.method == "sendPhoto"
    return isinstance(post, FacebookPost) and post.endpoint == "photos"


def version_key(version: Version) -> str:
    """A short stable key of what a version shows (title, lead, image), once normalised."""
    text = "\x1f".join((_normal(version.title), _normal(version.lead), version.image or ""))
    return hashlib.blake2s(text.encode("utf-8"), digest_size=8).hexdigest()


def edits_for(
    posted: Sequence[Posted],
    now: Version,
    *,
    platforms: Mapping[str, tuple[ChannelType, timedelta]],
    at: datetime,
) -> list[Edit]:
    """The edits a changed article calls for: for each of its posts on a configured channel
    (`platforms`: channel → its type and `update_window`), `edit_plan` against what the post
    shows now. A typo-level change, a post out of its window, or a change the post cannot
    show: no edit."""
    edits: list[Edit] = []
    for post in posted:
        if post.channel_id not in platforms:
            continue
        platform, window = platforms[post.channel_id]
        plan = edit_plan(
            post.shows,
            now,
            platform=platform,
            photo_post=post.photo,
            sent_at=post.sent_at,
            at=at,
            window=window,
        )
        if plan.methods:
            edits.append(Edit(post.delivery, post.channel_id, now, plan, version_key(now)))
    return edits
