"""The Graph API client: facebook-sdk in a worker thread, its session, timeouts, failures."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any, Final

import facebook
import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from bot import USER_AGENT
from bot.publishers.facebook.errors import (
    FailureKind,
    GraphCallError,
    GraphFailure,
    int_or_none,
)
from bot.secrets import redact_in_logs, scrub
from bot.settings import FacebookSettings

CONNECT_TIMEOUT_CAP: Final = 10.0


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


@dataclass(frozen=True, slots=True)
class GraphAnswer:
    """What a Graph call returned (facebook-sdk's decoded JSON)."""

    value: Any


def _timeouts(fb: FacebookSettings) -> tuple[float, float]:
    read = max(fb.timeout.total_seconds(), 0.05)
    return min(read, CONNECT_TIMEOUT_CAP), read


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


class GraphClient:
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

    async def call(self, method: str, *args: Any, **kwargs: Any) -> GraphAnswer | GraphFailure:
        return await asyncio.to_thread(self._run, method, args, kwargs)

    def close(self) -> None:
        self.transport.close()

    def _run(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> GraphAnswer | GraphFailure:
        """Runs in a worker thread. Never raises: a failure comes back as a GraphFailure."""
        self.transport.forget()
        try:
            return GraphAnswer(getattr(self.api, method)(*args, **kwargs))
        except facebook.GraphAPIError as err:
            return self._graph_failure(err)
        except KeyError as err:  # the SDK reads headers["content-type"] unconditionally
            return self._failure("unreadable", err, "no_content_type")
        except requests.exceptions.JSONDecodeError as err:
            return self._failure("unreadable", err, "bad_json")
        except requests.exceptions.ConnectTimeout as err:
            return self._failure("not_sent", err, "connect_timeout")
        except requests.exceptions.Timeout as err:
            return self._failure("timeout", err, "timeout")
        except requests.exceptions.ConnectionError as err:
            if _never_sent(err):
                return self._failure("not_sent", err, "cannot_connect")
            return self._failure("aborted", err, "connection_broken")
        except _NOTHING_SENT as err:
            return self._failure("not_sent", err, "bad_request")
        except requests.exceptions.RequestException as err:  # a broken answer, too many redirects
            return self._failure("aborted", err, "broken_answer")
        except Exception as err:  # the library boundary: nothing raw gets out
            return self._failure("not_sent", err, "unexpected")

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
            what=what,
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
                what="not_graph",
                cause=self._cause(err),
            )
        transient = error.get("is_transient")
        trace = error.get("fbtrace_id")
        return GraphFailure(
            kind="graph",
            status=status,
            code=int_or_none(error.get("code")),
            subcode=int_or_none(error.get("error_subcode")),
            is_transient=transient if isinstance(transient, bool) else None,
            message=scrub(str(error.get("message", "")), [self.token])[:500],
            fbtrace_id=str(trace) if trace else None,
            headers=headers,
            cause=self._cause(err),
        )
