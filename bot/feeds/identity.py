"""Article identity: canonical URLs, safe links, stable keys and normalised titles (pure)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import idna

from bot.content.text import title_key

__all__ = [
    "TRACKING_PARAMS",
    "article_key",
    "canonical_url",
    "link_problem",
    "normalise_title",
    "redact_url",
    "safe_link",
]

# Query parameters that only say where a click came from, never which article it is.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HEX = "0123456789ABCDEFabcdef"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = _UNRESERVED | frozenset(_SUB_DELIMS + ":@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
# A query value never keeps a raw `&` or `=`: they separate parameters.
_PARAM_SAFE = _QUERY_SAFE - frozenset("&=")
# WHATWG URL parsing drops tabs and newlines anywhere in a URL, and C0 controls and spaces at
# its ends; browsers therefore read "java\nscript:" as "javascript:". So do we.
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_EDGE_JUNK = "".join(chr(c) for c in range(0x21)) + "\u00a0\u200b\ufeff"
_SECRET_PARAM = re.compile(
    r"(?i)^(?:.*token.*|.*secret.*|.*passw.*|.*key|key.*|sig|signature|auth.*|code|session.*|sid)$"
)


def _normalise_escapes(text: str, safe: frozenset[str]) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape what must be."""
    out: list[str] = []
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char == "%":
            pair = text[i + 1 : i + 3]
            if len(pair) == 2 and pair[0] in _HEX and pair[1] in _HEX:
                decoded = chr(int(pair, 16))
                out.append(decoded if decoded in _UNRESERVED else "%" + pair.upper())
                i += 3
                continue
            out.append("%25")
        elif char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: `/a/./b/../c` → `/a/c`."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
            continue
        output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _host(hostname: str) -> str:
    """Lower-case; internationalised names in their ASCII (punycode) form."""
    host = hostname.rstrip(".").lower()
    if host.startswith("[") or host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return host


def _netloc(parts: SplitResult, scheme: str) -> str:
    hostname = parts.hostname or ""
    host = _host(hostname)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    netloc = f"{userinfo}@{host}" if userinfo else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return netloc


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def _query(query: str) -> str:
    kept: list[str] = []
    for param in query.split("&"):
        if not param:
            continue
        name, eq, value = param.partition("=")
        clean_name = _normalise_escapes(name, _PARAM_SAFE)
        if _is_tracking(_percent_decoded(clean_name)):
            continue
        kept.append(clean_name + (eq + _normalise_escapes(value, _PARAM_SAFE) if eq else ""))
    return "&".join(kept)


def _percent_decoded(text: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


def _clean(url: str) -> str:
    return _TAB_NEWLINE.sub("", url).strip(_EDGE_JUNK)


def canonical_url(url: str) -> str:
    """The form of a link used for identity: two links to one article give the same string.

    Lower-case scheme and host (IDN hosts in punycode), no default port, no fragment, no
    tracking parameters (`utm_*`, `fbclid`, `gclid`...), other parameters kept in order,
    dot segments resolved, escapes normalised, and no trailing slash (the root stays `/`).
    """
    text = _clean(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    if not parts.netloc:
        return urlunsplit((scheme, "", parts.path, parts.query, ""))
    netloc = _netloc(parts, scheme)
    path = _remove_dot_segments(_normalise_escapes(parts.path, _PATH_SAFE))
    path = path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, _query(parts.query), ""))


def link_problem(url: str | None, base: str | None) -> str | None:
    """Why a link cannot be used (None when `safe_link` accepts it); for skip reasons."""
    text = _clean(url or "")
    if not text:
        return "no link"
    try:
        relative = not urlsplit(text).scheme and not text.startswith("//")
        if relative and urlsplit(_clean(base or "")).scheme.lower() not in _DEFAULT_PORTS:
            return "relative link and no base URL to resolve it"  # none, or a file:// one
        resolved = _resolve(text, base)
        parts = urlsplit(resolved)
        hostname = parts.hostname
    except ValueError:
        return "link is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        if not scheme:
            return "relative link and no base URL to resolve it"
        return f"link is not http(s): {scheme[:20]}:…"
    if not hostname:
        return "link has no host"
    return None


def _resolve(text: str, base: str | None) -> str:
    if urlsplit(text).scheme:
        return text
    if base:
        return urljoin(_clean(base), text)
    if text.startswith("//"):
        return "https:" + text
    return text


def safe_link(url: str | None, base: str | None) -> str | None:
    """An absolute http(s) URL to show readers, or None (javascript:, data:, mailto:...).

    Whitespace is stripped, a relative link is resolved against `base`, and characters that
    are never valid in a URL (spaces, quotes, angle brackets) are percent-encoded.
    """
    if link_problem(url, base) is not None:
        return None
    resolved = _resolve(_clean(url or ""), base)
    return re.sub(r"[\x00-\x20\"<>\\^`{|}\x7f]", lambda m: f"%{ord(m.group()):02X}", resolved)


def article_key(canonical: str) -> str:
    """A stable short id for an article: 16 hex digits of the SHA-256 of its canonical URL."""
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def normalise_title(title: str) -> str:
    """A title reduced for comparison: case-folded, accents removed, punctuation collapsed.

    `« L’Armée malienne » : bilan…` and `l'armee malienne - bilan` give the same string.
    """
    return title_key(title)


def redact_url(url: str) -> str:
    """A URL fit for logs and error messages: no user:password, no secret-looking values."""
    try:
        parts = urlsplit(_clean(url))
    except ValueError:
        # unparseable: keep what is before the query, without any user:password@
        return re.sub(r"//[^/?#]*@", "//", _clean(url)).split("?", 1)[0].split("#", 1)[0]
    netloc = parts.netloc.rpartition("@")[2]
    params = []
    for param in parts.query.split("&") if parts.query else ():
        name, eq, value = param.partition("=")
        if eq and value and _SECRET_PARAM.match(_percent_decoded(name)):
            value = "***"
        params.append(name + eq + value)
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(params), ""))


def site_host(url: str) -> str:
    """The host of a URL as the site is known by: lower case, no trailing dot, no 'www.'."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    return host.removeprefix("www.")


def allowed_hosts(site_url: str, feed_urls: Sequence[str]) -> set[str]:
    """The hosts an admin's /post and /preview accept: the site's and each configured feed's."""
    return {h for h in (site_host(u) for u in [site_url, *feed_urls] if u) if h}
