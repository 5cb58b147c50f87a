"""Facebook Pages publisher: facebook-sdk in a thread, Graph errors mapped to Relais errors."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

import facebook
import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from bot import USER_AGENT
from bot.clock import Clock, SystemClock
from bot.errors import (
    AuthError,
    PermanentError,
    PublishError,
    TransientError,
    UnknownOutcomeError,
)
from bot.feeds.identity import canonical_url
from bot.models import (
    FacebookPost,
    Post,
    PublishResult,
    ReconcileOutcome,
    Reconciliation,
)
from bot.secrets import redact_in_logs, scrub
from bot.settings import ChannelSettings, FacebookSettings

log = logging.getLogger(__name__)

REQUIRED_PERMISSIONS: Final = ("pages_manage_posts", "pages_read_engagement")

# published_posts: what reconcile asks for. `link` is deprecated on Page posts since v3.3
# (error #12); the shared link is the attachment's `unshimmed_url` (`url` is the l.facebook.com
# redirect), and a photo post carries the link in its caption (`message`).
RECONCILE_FIELDS: Final = (
    "id,message,created_time,permalink_url,attachments{type,url,unshimmed_url,target{url}}"
)
RECONCILE_PAGE_SIZE: Final = 25
RECONCILE_MAX_POSTS: Final = 100
RECONCILE_MARGIN: Final = timedelta(minutes=5)
DUPLICATE_LOOKBACK: Final = timedelta(days=2)
CONNECT_TIMEOUT_CAP: Final = 10.0

# Graph error codes (https://developers.facebook.com/docs/graph-api/guides/error-handling).
TOKEN_CODES: Final = frozenset({190, 102})
PERMISSION_CODES: Final = frozenset({3, 10, *range(200, 300)})
THROTTLING_CODES: Final = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
TEMPORARY_CODES: Final = frozenset({1, 2})
POLICY_BLOCK: Final = 368
INVALID_PARAMETER: Final = 100
DUPLICATE_POST: Final = 506
LINK_NOT_FETCHED: Final = 1609005
DEPRECATED_VERSION: Final = 2635
OBJECT_NOT_FOUND_SUBCODE: Final = 33

TOKEN_STEPS: Final = (
    "Pour obtenir un jeton de Page qui n'expire pas : "
    "1) dans l'explorateur de l'API Graph (https://developers.facebook.com/tools/explorer/), "
    "choisissez votre application, cochez les autorisations pages_manage_posts et "
    "pages_read_engagement, et générez un jeton d'utilisateur ; "
    "2) échangez-le contre un jeton longue durée : GET /oauth/access_token?"
    "grant_type=fb_exchange_token&client_id=<ID_APP>&client_secret=<SECRET_APP>"
    "&fb_exchange_token=<JETON_COURT> ; "
    "3) avec ce jeton longue durée, appelez GET /me/accounts : le champ access_token de "
    "votre Page est un jeton de Page sans date d'expiration ; "
    "4) mettez-le dans la variable d'environnement du canal (par exemple FACEBOOK_PAGE_TOKEN) "
    "et lancez `relais check --online`."
)


class GraphCallError(Exception):
    """A scrubbed stand-in for what requests or facebook-sdk raised (type and message only).

    Relais errors are chained to it (`__cause__`) instead of the library exception, whose
    message may hold the token in a URL.
    """


class DuplicatePostError(PermanentError):
    """Facebook refused the post as a duplicate (#506) and no matching post could be found."""


# --------------------------------------------------------------------------- HTTP plumbing


class _GraphTransport:
    """What GraphAPI uses as its `session`.

    It sends to this channel's `graph_url` (the SDK builds `FACEBOOK_GRAPH_URL + path`; we swap the
    prefix, so the SDK's process-wide global is never modified) and remembers, per thread, the last
    HTTP response, whose status and headers the SDK would otherwise lose.
    """

    def __init__(self, base_url: str, user_agent: str = USER_AGENT) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"facebook.graph_url must start with https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/") + "/"
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent
        self._local = threading.local()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        prefix = str(facebook.FACEBOOK_GRAPH_URL)
        if url.startswith(prefix):
            url = self.base_url + url[len(prefix) :]
        response = self._session.request(method, url, **kwargs)
        self._local.response = response
        return response

    def forget(self) -> None:
        self._local.response = None

    @property
    def last_response(self) -> requests.Response | None:
        response: requests.Response | None = getattr(self._local, "response", None)
        return response

    def close(self) -> None:
        self._session.close()


FailureKind = Literal["graph", "unreadable", "not_sent", "timeout", "aborted"]


@dataclass(frozen=True, slots=True)
class _Ok:
    value: Any


@dataclass(frozen=True, slots=True)
class GraphFailure:
    """What went wrong with one Graph call, scrubbed, with the HTTP status when one came back.

    kind: `graph` (a Graph error envelope), `unreadable` (an answer that is not Graph JSON),
    `not_sent` (connect failure: nothing reached Facebook), `timeout` (no answer after the request
    was sent), `aborted` (the connection broke after the request may have been sent).
    """

    kind: FailureKind
    status: int | None = None
    code: int | None = None
    subcode: int | None = None
    is_transient: bool | None = None
    message: str = ""
    fbtrace_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    cause: GraphCallError | None = None

    def describe(self) -> str:
        """Short technical summary for logs and error texts (already scrubbed)."""
        bits = []
        if self.code is not None:
            bits.append(f"code {self.code}" + (f"/{self.subcode}" if self.subcode else ""))
        if self.status is not None:
            bits.append(f"HTTP {self.status}")
        if self.fbtrace_id:
            bits.append(f"fbtrace_id {self.fbtrace_id}")
        head = ", ".join(bits)
        return f"[{head}] {self.message}" if head else self.message


def _timeouts(fb: FacebookSettings) -> tuple[float, float]:
    read = max(fb.timeout.total_seconds(), 0.05)
    return min(read, CONNECT_TIMEOUT_CAP), read


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _never_sent(err: requests.exceptions.ConnectionError) -> bool:
    """True when the connection itself failed (refused, DNS, TLS, proxy): no byte was sent."""
    if isinstance(err, requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return True
    reason = err.args[0] if err.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # urllib3's NewConnectionError (refused, unreachable, DNS) subclasses ConnectTimeoutError.
    return isinstance(reason, ConnectTimeoutError)


# requests errors raised before anything is sent (a malformed URL or header).
_NOTHING_SENT: Final = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
)


class _GraphClient:
    """One facebook-sdk GraphAPI for one token, called off the event loop."""

    def __init__(self, token: str, fb: FacebookSettings, user_agent: str = USER_AGENT) -> None:
        self.token = token
        self.version = fb.version
        self.transport = _GraphTransport(fb.graph_url, user_agent)
        # The SDK's constructor refuses current versions ("2.8"..."3.1" only); its paths are
        # `{graph.version}/...`, so the attribute takes the full "v25.0" form from the config.
        self.api: Any = facebook.GraphAPI(
            access_token=token, timeout=_timeouts(fb), session=self.transport
        )
        self.api.version = fb.version
        # urllib3 logs request URLs at DEBUG, and a Graph GET carries its token in the URL.
        redact_in_logs(token, loggers=("urllib3.connectionpool",))

    async def call(self, method: str, *args: Any, **kwargs: Any) -> _Ok | GraphFailure:
        return await asyncio.to_thread(self._run, method, args, kwargs)

    def close(self) -> None:
        self.transport.close()

    def _run(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> _Ok | GraphFailure:
        """Runs in a worker thread. Never raises: a failure comes back as a GraphFailure."""
        self.transport.forget()
        try:
            return _Ok(getattr(self.api, method)(*args, **kwargs))
        except facebook.GraphAPIError as err:
            return self._graph_failure(err)
        except KeyError as err:  # the SDK reads headers["content-type"] unconditionally
            return self._failure("unreadable", err, "réponse sans Content-Type")
        except requests.exceptions.JSONDecodeError as err:
            return self._failure("unreadable", err, "réponse JSON illisible")
        except requests.exceptions.ConnectTimeout as err:
            return self._failure("not_sent", err, "délai de connexion dépassé")
        except requests.exceptions.Timeout as err:
            return self._failure("timeout", err, "pas de réponse dans le délai")
        except requests.exceptions.ConnectionError as err:
            if _never_sent(err):
                return self._failure("not_sent", err, "connexion impossible")
            return self._failure("aborted", err, "connexion coupée")
        except _NOTHING_SENT as err:
            return self._failure("not_sent", err, "requête impossible")
        except requests.exceptions.RequestException as err:  # a broken answer, too many redirects
            return self._failure("aborted", err, "réponse interrompue")
        except Exception as err:  # the library boundary: nothing raw gets out
            return self._failure("not_sent", err, "erreur inattendue")

    def _cause(self, err: BaseException) -> GraphCallError:
        return GraphCallError(f"{type(err).__name__}: {scrub(str(err), [self.token])}")

    def _status(self) -> tuple[int | None, dict[str, str]]:
        response = self.transport.last_response
        if response is None:
            return None, {}
        return response.status_code, dict(response.headers)

    def _failure(self, kind: FailureKind, err: BaseException, what: str) -> GraphFailure:
        status, headers = self._status() if kind == "unreadable" else (None, {})
        return GraphFailure(
            kind=kind,
            status=status,
            headers=headers,
            message=what,
            cause=self._cause(err),
        )

    def _graph_failure(self, err: Any) -> GraphFailure:
        status, headers = self._status()
        result = getattr(err, "result", None)
        error = result.get("error") if isinstance(result, dict) else None
        if not isinstance(error, dict):
            # An HTML error page (a 502 from a proxy...): GraphAPIError with code None.
            return GraphFailure(
                kind="unreadable",
                status=status,
                headers=headers,
                message="réponse qui n'est pas du JSON de l'API Graph",
                cause=self._cause(err),
            )
        transient = error.get("is_transient")
        trace = error.get("fbtrace_id")
        return GraphFailure(
            kind="graph",
            status=status,
            code=_int_or_none(error.get("code")),
            subcode=_int_or_none(error.get("error_subcode")),
            is_transient=transient if isinstance(transient, bool) else None,
            message=scrub(str(error.get("message", "")), [self.token])[:500],
            fbtrace_id=str(trace) if trace else None,
            headers=headers,
            cause=self._cause(err),
        )


# --------------------------------------------------------------------------- error mapping


def retry_after_hint(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from X-Business-Use-Case-Usage (minutes) or Retry-After, else None."""
    lowered = {k.lower(): v for k, v in headers.items()}
    best: float | None = None
    raw = lowered.get("x-business-use-case-usage")
    if raw:
        try:
            usage = json.loads(raw)
        except ValueError:
            usage = None
        if isinstance(usage, dict):
            for entries in usage.values():
                for entry in entries if isinstance(entries, list) else ():
                    minutes = (
                        entry.get("estimated_time_to_regain_access")
                        if isinstance(entry, dict)
                        else None
                    )
                    if isinstance(minutes, int | float) and minutes > 0:
                        best = max(best or 0.0, float(minutes) * 60)
    if best is None:
        value = lowered.get("retry-after", "").strip()
        if value.isdigit() and int(value) > 0:
            best = float(value)
    return best


_TOKEN_PROBLEMS: Final[dict[int | None, str]] = {
    458: "l'application Facebook a été retirée du compte qui a créé le jeton",
    459: "Facebook demande à l'administrateur de se reconnecter sur facebook.com pour "
    "vérifier son compte (contrôle de sécurité)",
    460: "le mot de passe du compte Facebook qui a créé le jeton a changé (ou Facebook a fermé "
    "la session par sécurité) : le jeton n'est plus valable",
    463: "le jeton a expiré",
    464: "le compte Facebook qui a créé le jeton n'est pas confirmé",
    467: "le jeton est invalide (révoqué, déconnecté ou mal copié)",
    492: "le compte qui a créé le jeton n'a plus de rôle d'administration sur la Page",
    None: "le jeton est invalide ou a expiré",
}


def token_problem(code: int | None, subcode: int | None) -> str:
    """What a token error means, in French, for the admins."""
    if code == 102:
        return "la session Facebook du jeton a expiré"
    return _TOKEN_PROBLEMS.get(subcode, _TOKEN_PROBLEMS[None])


def map_failure(
    failure: GraphFailure, *, channel_id: str, page_id: str, version: str, may_have_posted: bool
) -> PublishError:
    """The Relais error for a failed Graph call (pure: no I/O).

    `may_have_posted`: the call was the publishing POST, so an answer lost after the request was
    sent means the post may exist (UnknownOutcomeError) rather than a plain retry.
    """
    detail = failure.describe()
    hint = retry_after_hint(failure.headers)
    status = failure.status
    if failure.kind == "not_sent":
        return TransientError(f"Facebook injoignable ({detail}) : nouvel essai plus tard.")
    if failure.kind in ("timeout", "aborted"):
        if may_have_posted:
            return UnknownOutcomeError(
                f"Pas de réponse de Facebook après l'envoi ({detail}) : la publication a "
                "peut-être eu lieu ; Relais va vérifier sur la Page."
            )
        return TransientError(f"Pas de réponse de Facebook ({detail}).")
    if failure.kind == "unreadable":
        if status is not None and 200 <= status < 300 and may_have_posted:
            return UnknownOutcomeError(
                f"Facebook a accepté la requête mais sa réponse est illisible ({detail}) : la "
                "publication existe peut-être ; Relais va vérifier sur la Page."
            )
        if status is None or status >= 500 or status in (408, 429) or 200 <= status < 300:
            return TransientError(f"Réponse invalide de Facebook ({detail}).", retry_after=hint)
        return PermanentError(f"Réponse inattendue de Facebook ({detail}).")

    code, subcode = failure.code, failure.subcode
    if code in TOKEN_CODES:
        return AuthError(
            f"Canal {channel_id} en pause : {token_problem(code, subcode)}. Les publications "
            "attendent. Générez un nouveau jeton de Page (étapes : `relais check --online`), "
            f"mettez-le dans la configuration puis reprenez le canal. ({detail})"
        )
    if code in PERMISSION_CODES:
        return AuthError(
            f"Canal {channel_id} en pause : le jeton n'a pas une autorisation nécessaire. Il faut "
            "un jeton de Page avec pages_manage_posts et pages_read_engagement, donné par une "
            "personne qui peut créer du contenu sur la Page. Générez un nouveau jeton (étapes : "
            f"`relais check --online`). ({detail})"
        )
    if code == DEPRECATED_VERSION:
        return AuthError(
            f"Canal {channel_id} en pause : Facebook n'accepte plus la version {version} de "
            f"l'API Graph. Mettez à jour `facebook.version` dans la configuration. ({detail})"
        )
    if code == INVALID_PARAMETER and subcode == OBJECT_NOT_FOUND_SUBCODE:
        return AuthError(
            f"Canal {channel_id} en pause : la Page {page_id} est introuvable ou ce jeton n'y a "
            f"pas accès. Vérifiez `page_id` et le jeton. ({detail})"
        )
    if code in THROTTLING_CODES:
        return TransientError(
            f"Facebook limite le nombre d'appels : nouvel essai plus tard. ({detail})",
            retry_after=hint,
        )
    if code in TEMPORARY_CODES:
        return TransientError(f"Erreur temporaire de Facebook. ({detail})", retry_after=hint)
    if code == DUPLICATE_POST:
        return DuplicatePostError(
            f"Facebook refuse cette publication comme doublon d'une publication récente. ({detail})"
        )
    if code == POLICY_BLOCK:
        return PermanentError(
            "Facebook bloque cette publication (règles de la plateforme). Vérifiez le contenu "
            f"et l'état de la Page dans la Meta Business Suite. ({detail})"
        )
    if code == LINK_NOT_FETCHED or subcode == LINK_NOT_FETCHED:
        return PermanentError(
            "Facebook n'a pas pu lire le lien de l'article (page inaccessible ou bloquée pour "
            f"son robot). Vérifiez l'adresse, puis relancez avec /retry. ({detail})"
        )
    if code == INVALID_PARAMETER:
        return PermanentError(f"Facebook refuse un paramètre de la publication. ({detail})")
    if failure.is_transient or (status is not None and status >= 500):
        return TransientError(f"Erreur temporaire de Facebook. ({detail})", retry_after=hint)
    return PermanentError(f"Facebook a refusé la publication. ({detail})")


def _chained(error: PublishError, failure: GraphFailure) -> PublishError:
    """Chain the Relais error to the scrubbed stand-in, never to the library exception."""
    error.__cause__ = failure.cause
    error.__suppress_context__ = True
    return error


# --------------------------------------------------------------------------- links


_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'«»]+", re.IGNORECASE)


def link_key(url: str) -> str:
    """A comparison key for an article link: the project's canonical URL, scheme-less and
    without a leading `www.` (Facebook may report the page's og:url rather than what was sent).
    """
    parts = urlsplit(canonical_url(url))
    host = parts.netloc.removeprefix("www.")
    return urlunsplit(("", host, parts.path, parts.query, ""))


def _unshim(url: str) -> str:
    """`https://l.facebook.com/l.php?u=<link>&h=...` → `<link>`."""
    parts = urlsplit(url)
    if (parts.hostname or "").endswith("facebook.com") and parts.path == "/l.php":
        target = parse_qs(parts.query).get("u")
        if target:
            return target[0]
    return url


def _entry_links(entry: Mapping[str, Any]) -> list[str]:
    links: list[str] = []
    attachments = entry.get("attachments")
    rows = attachments.get("data") if isinstance(attachments, dict) else None
    for row in rows if isinstance(rows, list) else ():
        if not isinstance(row, dict):
            continue
        for key in ("unshimmed_url", "url"):
            if isinstance(row.get(key), str):
                links.append(_unshim(row[key]))
        target = row.get("target")
        if isinstance(target, dict) and isinstance(target.get("url"), str):
            links.append(_unshim(target["url"]))
    message = entry.get("message")
    if isinstance(message, str):
        links.extend(m.rstrip(".,;:!?)]") for m in _URL_IN_TEXT.findall(message))
    return links


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def post_matches(entry: Mapping[str, Any], post: FacebookPost) -> bool:
    """Is this published_posts entry our post? Same link (card, or in the text), or same text."""
    if post.link:
        wanted = link_key(post.link)
        if any(link_key(link) == wanted for link in _entry_links(entry)):
            return True
    message = entry.get("message")
    return bool(post.message) and isinstance(message, str) and _same_text(message, post.message)


def _permalink(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


# --------------------------------------------------------------------------- the publisher


class FacebookPublisher:
    """Publishes to one Facebook Page with its Page access token (Publisher protocol)."""

    def __init__(
        self,
        channel: ChannelSettings,
        fb: FacebookSettings,
        *,
        clock: Clock | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        if not channel.page_id or channel.token is None:
            raise ValueError(f"channel {channel.id!r}: a facebook channel needs page_id and token")
        self.channel_id = channel.id
        self.page_id = channel.page_id
        self.rescrape = channel.rescrape
        self._clock: Clock = clock or SystemClock()
        self._client = _GraphClient(channel.token.get_secret_value(), fb, user_agent)

    async def aclose(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ publish

    async def publish(self, post: Post) -> PublishResult:
        if not isinstance(post, FacebookPost):
            raise PermanentError(
                f"Canal {self.channel_id} : une publication {type(post).__name__} ne peut pas "
                "partir sur Facebook."
            )
        if post.endpoint == "photos":
            if not post.url:
                raise PermanentError("Publication photo sans adresse d'image.")
            outcome = await self._client.call(
                "put_object", self.page_id, "photos", url=post.url, caption=post.message
            )
        else:
            if self.rescrape and post.link:
                await self._rescrape(post.link)
            data = {"message": post.message}
            if post.link:
                data["link"] = post.link
            outcome = await self._client.call("put_object", self.page_id, "feed", **data)
        if isinstance(outcome, GraphFailure):
            error = self._map(outcome, may_have_posted=True)
            if isinstance(error, DuplicatePostError):
                return await self._after_duplicate(post, error)
            raise error
        return self._result(outcome.value, post.endpoint)

    def _map(self, failure: GraphFailure, *, may_have_posted: bool) -> PublishError:
        error = map_failure(
            failure,
            channel_id=self.channel_id,
            page_id=self.page_id,
            version=self._client.version,
            may_have_posted=may_have_posted,
        )
        return _chained(error, failure)

    def _result(self, value: Any, endpoint: str) -> PublishResult:
        post_id: Any = None
        if isinstance(value, dict):
            post_id = value.get("post_id") if endpoint == "photos" else None
            post_id = post_id or value.get("id")
        if not isinstance(post_id, str) or not post_id:
            raise UnknownOutcomeError(
                "Facebook a répondu sans identifiant de publication : la publication existe "
                "peut-être ; Relais va vérifier sur la Page."
            )
        return PublishResult(remote_id=post_id, link=_permalink(post_id))

    async def _rescrape(self, link: str) -> None:
        """Ask Facebook to re-read the article's Open Graph tags; a failure never blocks."""
        outcome = await self._client.call(
            "request", f"{self._client.version}/", post_args={"id": link, "scrape": "true"}
        )
        if isinstance(outcome, GraphFailure):
            log.warning(
                "Canal %s : Facebook n'a pas relu la carte de %s (%s) ; la publication continue.",
                self.channel_id,
                link,
                outcome.describe(),
            )

    async def _after_duplicate(
        self, post: FacebookPost, error: DuplicatePostError
    ) -> PublishResult:
        """#506: the same post is already on the Page, most likely from a lost earlier answer."""
        found = await self.reconcile(post, self._clock.now() - DUPLICATE_LOOKBACK)
        if found.outcome is ReconcileOutcome.FOUND and found.result is not None:
            log.info(
                "Canal %s : doublon refusé par Facebook, publication déjà présente (%s).",
                self.channel_id,
                found.result.remote_id,
            )
            return found.result
        if found.outcome is ReconcileOutcome.CANNOT_TELL:
            unknown = UnknownOutcomeError(
                f"{error} La Page n'a pas pu être relue : Relais vérifiera plus tard."
            )
            unknown.__cause__ = error.__cause__
            unknown.__suppress_context__ = True
            raise unknown
        raise error

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, post: Post, since: datetime) -> Reconciliation:
        if not isinstance(post, FacebookPost):
            return Reconciliation(ReconcileOutcome.CANNOT_TELL)
        args: dict[str, str] = {
            "fields": RECONCILE_FIELDS,
            "since": str(int((since - RECONCILE_MARGIN).timestamp())),
            "limit": str(RECONCILE_PAGE_SIZE),
        }
        seen = 0
        while True:
            outcome = await self._client.call(
                "get_connections", self.page_id, "published_posts", **args
            )
            if isinstance(outcome, GraphFailure):
                log.warning(
                    "Canal %s : lecture des publications de la Page impossible (%s).",
                    self.channel_id,
                    outcome.describe(),
                )
                return Reconciliation(ReconcileOutcome.CANNOT_TELL)
            page = outcome.value
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                log.warning("Canal %s : réponse de published_posts illisible.", self.channel_id)
                return Reconciliation(ReconcileOutcome.CANNOT_TELL)
            for entry in data:
                if not isinstance(entry, dict):
                    continue
                seen += 1
                if post_matches(entry, post) and isinstance(entry.get("id"), str):
                    permalink = entry.get("permalink_url")
                    link = permalink if isinstance(permalink, str) else _permalink(entry["id"])
                    return Reconciliation(
                        ReconcileOutcome.FOUND, PublishResult(remote_id=entry["id"], link=link)
                    )
            paging = page.get("paging")
            next_url = paging.get("next") if isinstance(paging, dict) else None
            if not isinstance(next_url, str) or not next_url:
                return Reconciliation(ReconcileOutcome.ABSENT)
            if seen >= RECONCILE_MAX_POSTS:
                log.warning(
                    "Canal %s : plus de %d publications depuis %s ; impossible de conclure.",
                    self.channel_id,
                    RECONCILE_MAX_POSTS,
                    since.isoformat(),
                )
                return Reconciliation(ReconcileOutcome.CANNOT_TELL)
            args = {
                k: v[-1]
                for k, v in parse_qs(urlsplit(next_url).query).items()
                if k != "access_token"
            }


# --------------------------------------------------------------------------- token health


@dataclass(slots=True)
class TokenReport:
    """What `relais check --online` (and the daily check of a paused channel) says of a token."""

    channel_id: str
    ok: bool
    reachable: bool = True
    is_page_token: bool = False
    page_matches: bool = False
    expires_at: datetime | None = None
    missing_permissions: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    page_name: str | None = None


def _granted(scope: str, page_id: str, scopes: list[Any], granular: list[Any]) -> bool:
    if scope not in scopes:
        return False
    for entry in granular:
        if isinstance(entry, dict) and entry.get("scope") == scope:
            targets = entry.get("target_ids")
            if isinstance(targets, list):
                return page_id in [str(t) for t in targets]
    return True


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_dict(outcome: _Ok | GraphFailure) -> dict[str, Any] | None:
    if isinstance(outcome, _Ok) and isinstance(outcome.value, dict):
        return outcome.value
    return None


async def check_token(
    channel: ChannelSettings, fb: FacebookSettings, *, clock: Clock | None = None
) -> TokenReport:
    """Is this channel's token a valid, non-expiring Page token for its page, with the rights?"""
    if not channel.page_id or channel.token is None:
        raise ValueError(f"channel {channel.id!r}: a facebook channel needs page_id and token")
    now = (clock or SystemClock()).now()
    page_id = channel.page_id
    client = _GraphClient(channel.token.get_secret_value(), fb)
    report = TokenReport(channel_id=channel.id, ok=False)
    try:
        debug = await client.call(
            "request", f"{client.version}/debug_token", {"input_token": client.token}
        )
        if isinstance(debug, GraphFailure):
            _report_failure(report, debug, channel.id, page_id, client.version)
            return report
        body = _as_dict(debug)
        data = body.get("data") if body else None
        if not isinstance(data, dict):
            report.reachable = False
            report.messages.append("Réponse de debug_token illisible : vérification impossible.")
            return report
        if data.get("is_valid") is not True:
            error = _dict(data.get("error"))
            problem = token_problem(
                _int_or_none(error.get("code")), _int_or_none(error.get("subcode"))
            )
            report.messages.append(f"Jeton refusé : {problem}.")
            report.messages.append(TOKEN_STEPS)
            return report

        report.is_page_token = data.get("type") == "PAGE"
        expires = _int_or_none(data.get("expires_at")) or 0
        report.expires_at = datetime.fromtimestamp(expires, UTC) if expires > 0 else None
        scopes = _list(data.get("scopes"))
        granular = _list(data.get("granular_scopes"))
        report.missing_permissions = [
            scope
            for scope in REQUIRED_PERMISSIONS
            if not _granted(scope, page_id, scopes, granular)
        ]

        me = _as_dict(await client.call("get_object", "me", fields="id,name"))
        me_id = str(me.get("id")) if me and me.get("id") is not None else None
        me_name = str(me.get("name")) if me and me.get("name") is not None else None
        if me_id is None and report.is_page_token:
            me_id = str(data.get("profile_id") or "") or None
        report.page_matches = report.is_page_token and me_id == page_id
        if report.page_matches:
            report.page_name = me_name

        if not report.is_page_token:
            who = f" de « {me_name} »" if me_name else ""
            report.messages.append(
                f"C'est un jeton d'utilisateur{who}, pas un jeton de Page : Relais publie au nom "
                "de la Page et a besoin du jeton de la Page elle-même."
            )
        elif not report.page_matches:
            configured = _as_dict(await client.call("get_object", page_id, fields="id,name"))
            target = f"{page_id}" + (
                f" (« {configured['name']} »)" if configured and configured.get("name") else ""
            )
            owner = f"« {me_name} » ({me_id})" if me_name else f"{me_id or 'inconnue'}"
            report.messages.append(
                f"Ce jeton est celui de la Page {owner}, pas de la Page {target}. Vérifiez "
                "`page_id`, ou prenez le jeton de la bonne Page dans /me/accounts."
            )
        if report.missing_permissions:
            report.messages.append(
                "Autorisations manquantes : " + ", ".join(report.missing_permissions) + "."
            )
        if report.expires_at is not None:
            days = max(0, (report.expires_at - now).days)
            report.messages.append(
                f"Ce jeton expire le {report.expires_at:%d/%m/%Y à %H:%M} UTC (dans {days} "
                "jour(s)) : ensuite, plus rien ne sera publié."
            )
        report.ok = report.is_page_token and report.page_matches and not report.missing_permissions
        if report.ok:
            lifetime = "n'expire pas" if report.expires_at is None else "est valable pour l'instant"
            report.messages.insert(
                0, f"Jeton de Page valide pour « {report.page_name} » ({page_id}) ; il {lifetime}."
            )
        if not report.ok or report.expires_at is not None:
            report.messages.append(TOKEN_STEPS)
        return report
    finally:
        client.close()


def _report_failure(
    report: TokenReport, failure: GraphFailure, channel_id: str, page_id: str, version: str
) -> None:
    error = map_failure(
        failure, channel_id=channel_id, page_id=page_id, version=version, may_have_posted=False
    )
    if isinstance(error, AuthError):
        if failure.code in TOKEN_CODES:
            report.messages.append(
                f"Jeton refusé : {token_problem(failure.code, failure.subcode)}. "
                f"({failure.describe()})"
            )
        else:
            report.messages.append(str(error))
        report.messages.append(TOKEN_STEPS)
    else:
        report.reachable = False
        report.messages.append(f"Vérification impossible pour l'instant : {error}")


__all__ = [
    "REQUIRED_PERMISSIONS",
    "TOKEN_STEPS",
    "DuplicatePostError",
    "FacebookPublisher",
    "GraphCallError",
    "GraphFailure",
    "TokenReport",
    "check_token",
    "link_key",
    "map_failure",
    "post_matches",
    "retry_after_hint",
    "token_problem",
]
