"""A fake Facebook Graph API on 127.0.0.1 for tests, driven by the real facebook-sdk over HTTP."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from tests.fakes.http_base import FakeHandler, FakeServer

PAGE_ID = "104857600123456"
PAGE_NAME = "Bamada.net"
OTHER_PAGE_ID = "200300400500600"
OTHER_PAGE_NAME = "Autre Page"
USER_ID = "10000123456789"
USER_NAME = "Awa Traoré"
APP_ID = "555000111222333"
PAGE_SCOPES = ("pages_show_list", "pages_manage_posts", "pages_read_engagement")

JSON_TYPE = "application/json; charset=UTF-8"

# Fields of a Page post that Graph API v3.3+ refuses with error #12.
DEPRECATED_POST_FIELDS = {"caption", "description", "link", "name", "object_id", "source", "type"}
KNOWN_POST_FIELDS = {
    "id",
    "message",
    "created_time",
    "updated_time",
    "permalink_url",
    "attachments",
    "full_picture",
    "status_type",
    "is_published",
    "story",
}
DEFAULT_ATTACHMENT_FIELDS = ("description", "media", "target", "title", "type", "url")

Endpoint = Literal[
    "feed", "photos", "scrape", "published_posts", "debug_token", "me", "object", "other"
]


# --------------------------------------------------------------------------- scripted answers


@dataclass(frozen=True)
class GraphError:
    """A Graph error envelope `{"error": {...}}` with its HTTP status and extra headers."""

    code: int
    status: int = 400
    subcode: int | None = None
    type: str = "OAuthException"
    message: str = "An error occurred"
    is_transient: bool | None = None
    fbtrace_id: str = "AbCdEfGhIjK"
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        error["fbtrace_id"] = self.fbtrace_id
        return {"error": error}


@dataclass(frozen=True)
class Raw:
    """Any status and body; `content_type=None` sends no Content-Type header at all.

    `truncated`: announce a longer Content-Length than the body and close: the answer breaks
    after the headers (the request was processed).
    """

    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)
    truncated: bool = False


@dataclass(frozen=True)
class Delay:
    """Answer late. `process_first`: do the work (record the post) before waiting."""

    seconds: float
    process_first: bool = False


@dataclass(frozen=True)
class Reset:
    """Close the connection with a TCP reset instead of answering (after processing, if asked)."""

    process_first: bool = False


Action = GraphError | Raw | Delay | Reset


def throttling_headers(owner_id: str, minutes: int) -> dict[str, str]:
    """The X-Business-Use-Case-Usage header Graph sends with a throttled Page."""
    usage = {
        owner_id: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 34,
                "total_time": 41,
                "estimated_time_to_regain_access": minutes,
            }
        ]
    }
    return {"X-Business-Use-Case-Usage": json.dumps(usage)}


# --------------------------------------------------------------------------- state


@dataclass
class TokenInfo:
    """What debug_token knows about a token. `invalid_subcode` makes a known token unusable."""

    type: Literal["PAGE", "USER"] = "PAGE"
    profile_id: str = PAGE_ID
    name: str = PAGE_NAME
    user_id: str = USER_ID
    scopes: tuple[str, ...] = PAGE_SCOPES
    granular_scopes: list[dict[str, Any]] | None = None
    expires_at: int = 0
    issued_at: int = 1_790_000_000
    data_access_expires_at: int = 1_800_000_000
    app_id: str = APP_ID
    application: str = "Relais"
    invalid_subcode: int | None = None

    @property
    def me(self) -> dict[str, str]:
        if self.type == "PAGE":
            return {"id": self.profile_id, "name": self.name}
        return {"id": self.user_id, "name": self.name}

    def granted(self, scope: str, page_id: str) -> bool:
        if scope not in self.scopes:
            return False
        for entry in self.granular_scopes or ():
            if entry.get("scope") == scope and "target_ids" in entry:
                return page_id in entry["target_ids"]
        return True


INVALID_TOKEN_MESSAGES = {
    458: "Error validating access token: User USERID has not authorized application APPID.",
    459: "Error validating access token: You cannot access the app till you log in to "
    "www.facebook.com and follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user "
    "changed their password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired on Sunday, 01-Nov-26 "
    "10:00:00 PST. The current time is Monday, 02-Nov-26 01:00:00 PST.",
    464: "Error validating access token: Sessions for the user USERID are not allowed "
    "because the user is not a confirmed user.",
    467: "Error validating access token: The user has not authorized application APPID.",
    492: "Error validating access token: The session is invalid because the user lost "
    "their role on the Page.",
}


@dataclass
class FakePost:
    id: str
    page_id: str
    created_time: datetime
    message: str | None = None
    link: str | None = None
    photo_url: str | None = None
    photo_id: str | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    version: str | None
    endpoint: Endpoint
    query: dict[str, str]
    form: dict[str, str]
    token: str | None
    token_in: Literal["query", "body", None]

    @property
    def params(self) -> dict[str, str]:
        return {**self.query, **self.form}

    @property
    def has_token(self) -> bool:
        return self.token is not None


# --------------------------------------------------------------------------- HTTP handler


class _Handler(FakeHandler):
    protocol_version = "HTTP/1.0"

    def serve(self, fake: GraphApiServer) -> None:
        form: dict[str, str] = {}
        if self.command == "POST":
            raw = self.read_body().decode("utf-8")
            form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        endpoint, process = fake.handle_request(self.command, self.path, form)
        action = fake.scripted(endpoint)
        if isinstance(action, Delay):
            if action.process_first:
                answer = process()
                fake.pause(action.seconds)
            else:
                fake.pause(action.seconds)
                answer = process()
            self._send_json(fake, *answer)
        elif isinstance(action, Reset):
            if action.process_first:
                process()
            self.drop(reset=True)
        elif isinstance(action, GraphError):
            self._send_json(fake, *_error(action))
        elif isinstance(action, Raw):
            self._send_graph(
                fake,
                action.status,
                action.body,
                action.content_type,
                dict(action.headers),
                length=len(action.body) + 100 if action.truncated else True,
            )
        else:
            self._send_json(fake, *process())

    def _send_json(
        self, fake: GraphApiServer, status: int, body: Any, headers: dict[str, str]
    ) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self._send_graph(fake, status, payload, JSON_TYPE, headers)

    def _send_graph(
        self,
        fake: GraphApiServer,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str],
        *,
        length: bool | int = True,
    ) -> None:
        graph = {"facebook-api-version": fake.expected_version, "x-fb-trace-id": "FakeTrace1"}
        self.send(status, body, content_type, {**graph, **headers}, length=length)

    def send_response(self, code: int, message: str | None = None) -> None:
        # Without the Server/Date headers that BaseHTTPRequestHandler adds; Graph sends its own.
        self.log_request(code)
        self.send_response_only(code, message)


# --------------------------------------------------------------------------- server


class GraphApiServer(FakeServer[RecordedRequest, Action]):
    """A small Graph API: Page posts, photos, scrape, published_posts, debug_token, /me, /{id}.

    Start it (`with GraphApiServer() as graph:`), give `graph.base_url` to the code under test as
    `facebook.graph_url`, then look at `graph.requests` and `graph.posts`. Script answers with
    `graph.script("feed", GraphError(...), Delay(2))`: each request to that endpoint takes the next
    scripted action, then the normal behaviour resumes.
    """

    handler = _Handler
    thread_name = "fake-graph"

    def __init__(
        self,
        *,
        expected_version: str = "v25.0",
        tokens: Mapping[str, TokenInfo] | None = None,
        pages: Mapping[str, str] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.expected_version = expected_version
        self.tokens: dict[str, TokenInfo] = dict(tokens or {})
        self.pages: dict[str, str] = dict(
            pages or {PAGE_ID: PAGE_NAME, OTHER_PAGE_ID: OTHER_PAGE_NAME}
        )
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.version_mismatches: list[str] = []
        self.posts: list[FakePost] = []
        self.duplicate_detection = True
        self.default_page_size = 25
        self._counter = 9_000_000_000
        super().__init__()

    # ------------------------------------------------------------------ lifecycle: the base

    def handle(self, request: FakeHandler) -> None:
        assert isinstance(request, _Handler)
        request.serve(self)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request that reached the server, in order (a copy)."""
        return self.logged()

    @property
    def base_url(self) -> str:
        """What goes in `facebook.graph_url` (no trailing slash, like the config)."""
        return self.origin

    # ------------------------------------------------------------------ test helpers

    def script(self, endpoint: Endpoint, *actions: Action) -> None:
        """Each next request to `endpoint` takes the next action; then the normal answer."""
        for action in actions:
            self.inject(endpoint, action)

    def requests_to(self, endpoint: Endpoint) -> list[RecordedRequest]:
        return [r for r in self.requests if r.endpoint == endpoint]

    def add_post(
        self,
        *,
        page_id: str = PAGE_ID,
        message: str | None = None,
        link: str | None = None,
        photo_url: str | None = None,
        created_time: datetime | None = None,
    ) -> FakePost:
        """A post already on the Page (made by hand, or by an earlier run)."""
        with self._lock:
            return self._store_post(page_id, message, link, photo_url, created_time)

    def _store_post(
        self,
        page_id: str,
        message: str | None,
        link: str | None,
        photo_url: str | None,
        created_time: datetime | None = None,
    ) -> FakePost:
        self._counter += 1
        photo_id = None
        if photo_url is not None:
            photo_id = str(self._counter + 500_000_000)
        post = FakePost(
            id=f"{page_id}_{self._counter}",
            page_id=page_id,
            created_time=(created_time or self.now()).astimezone(UTC),
            message=message,
            link=link,
            photo_url=photo_url,
            photo_id=photo_id,
        )
        self.posts.append(post)
        return post

    def wait(self, seconds: float) -> None:
        """Sleep, but wake up at once when the server stops."""
        self.pause(seconds)

    # ------------------------------------------------------------------ routing

    def handle_request(
        self, method: str, raw_path: str, form: dict[str, str]
    ) -> tuple[Endpoint, Any]:
        """Record one request; return its endpoint and a callable giving (status, body, headers)."""
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        segments = [s for s in parts.path.split("/") if s]
        version = segments[0] if segments and _looks_like_version(segments[0]) else None
        rest = segments[1:] if version else segments
        params = {**query, **form}
        endpoint = _endpoint(method, rest, params)
        token, token_in = None, None
        if "access_token" in form:
            token, token_in = form["access_token"], "body"
        elif "access_token" in query:
            token, token_in = query["access_token"], "query"
        record = RecordedRequest(
            method=method,
            path=parts.path,
            version=version,
            endpoint=endpoint,
            query=query,
            form=form,
            token=token,
            token_in=token_in,
        )
        with self._lock:
            self.record(record)
            if version != self.expected_version:
                self.version_mismatches.append(raw_path.split("?")[0])

        def process() -> tuple[int, Any, dict[str, str]]:
            return self._process(record, rest, params)

        return endpoint, process

    def _process(
        self, record: RecordedRequest, rest: list[str], params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if record.version != self.expected_version:
            return _error(
                GraphError(
                    code=2635,
                    message=f"(#2635) Relais fake expects {self.expected_version}, "
                    f"got {record.version or 'no version'}.",
                )
            )
        if record.token is None:
            return _error(
                GraphError(
                    code=104, message="An access token is required to request this resource."
                )
            )
        info = self.tokens.get(record.token)
        if info is None:
            return _error(
                GraphError(
                    code=190, message="Invalid OAuth access token - Cannot parse access token"
                )
            )
        if info.invalid_subcode is not None:
            return _error(
                GraphError(
                    code=190,
                    subcode=info.invalid_subcode,
                    message=INVALID_TOKEN_MESSAGES.get(info.invalid_subcode, "Invalid token"),
                )
            )
        method = record.method
        if method == "POST" and record.endpoint == "feed":
            return self._post_feed(rest[0], info, params)
        if method == "POST" and record.endpoint == "photos":
            return self._post_photo(rest[0], info, params)
        if method == "POST" and record.endpoint == "scrape":
            return self._scrape(params)
        if method == "GET" and record.endpoint == "published_posts":
            return self._published_posts(rest[0], info, params, record)
        if method == "GET" and record.endpoint == "debug_token":
            return self._debug_token(params)
        if method == "GET" and record.endpoint == "me":
            return 200, _select(info.me, params.get("fields")), {}
        if method == "GET" and record.endpoint == "object":
            return self._object(rest[0])
        return _error(
            GraphError(code=100, type="GraphMethodException", message="Unknown path components")
        )

    # ------------------------------------------------------------------ endpoints

    def _can_post(self, page_id: str, info: TokenInfo) -> bool:
        return (
            info.type == "PAGE"
            and info.profile_id == page_id
            and info.granted("pages_manage_posts", page_id)
            and info.granted("pages_read_engagement", page_id)
        )

    def _post_feed(
        self, page_id: str, info: TokenInfo, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if not self._can_post(page_id, info):
            return _error(_permission_error())
        message, link = params.get("message"), params.get("link")
        if not message and not link:
            return _error(
                GraphError(
                    code=100,
                    type="OAuthException",
                    message="(#100) Missing message or attachment",
                )
            )
        with self._lock:
            if self.duplicate_detection and message:
                latest = next((p for p in reversed(self.posts) if p.page_id == page_id), None)
                if latest is not None and latest.message == message:
                    return _error(
                        GraphError(
                            code=506,
                            message="(#506) Duplicate status message",
                            type="OAuthException",
                        )
                    )
            post = self._store_post(page_id, message, link, None)
        return 200, {"id": post.id}, {}

    def _post_photo(
        self, page_id: str, info: TokenInfo, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if not self._can_post(page_id, info):
            return _error(_permission_error())
        url = params.get("url")
        if not url:
            return _error(
                GraphError(code=324, message="(#324) Requires upload file", type="OAuthException")
            )
        with self._lock:
            post = self._store_post(page_id, params.get("caption"), None, url)
        return 200, {"id": post.photo_id, "post_id": post.id}, {}

    def _scrape(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        url = params.get("id")
        if not url or params.get("scrape") != "true":
            return _error(GraphError(code=100, message="(#100) Missing id or scrape=true"))
        og = {
            "url": url,
            "type": "article",
            "title": "Article de test",
            "description": "Résumé de l'article.",
            "image": [{"url": "https://bamada.example/image.jpg", "width": 1200, "height": 630}],
            "updated_time": self.now().strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "id": "7700000000001",
        }
        return 200, og, {}

    def _published_posts(
        self, page_id: str, info: TokenInfo, params: dict[str, str], record: RecordedRequest
    ) -> tuple[int, Any, dict[str, str]]:
        if not (
            info.type == "PAGE"
            and info.profile_id == page_id
            and info.granted("pages_read_engagement", page_id)
        ):
            return _error(
                GraphError(
                    code=10,
                    status=403,
                    message="(#10) This endpoint requires the 'pages_read_engagement' permission "
                    "or the 'Page Public Content Access' feature.",
                )
            )
        try:
            wanted = parse_fields(params.get("fields") or "id,message,created_time")
        except ValueError as err:
            return _error(GraphError(code=100, message=f"(#100) Syntax error: {err}"))
        version_number = _version_number(self.expected_version)
        for name in wanted:
            if name in DEPRECATED_POST_FIELDS and version_number >= (3, 3):
                return _error(
                    GraphError(
                        code=12,
                        message=f"(#12) {name} field is deprecated for versions v3.3 and higher",
                    )
                )
            if name not in KNOWN_POST_FIELDS | DEPRECATED_POST_FIELDS:
                return _error(
                    GraphError(
                        code=100,
                        message=f"(#100) Tried accessing nonexisting field ({name}) on node "
                        "type (PagePost)",
                    )
                )
        since = int(params["since"]) if params.get("since", "").isdigit() else None
        limit = (
            int(params["limit"]) if params.get("limit", "").isdigit() else self.default_page_size
        )
        start = _decode_cursor(params.get("after"))
        with self._lock:
            mine = [p for p in self.posts if p.page_id == page_id]
        mine.sort(key=lambda p: p.created_time, reverse=True)
        if since is not None:
            mine = [p for p in mine if p.created_time.timestamp() >= since]
        chunk = mine[start : start + limit]
        data = [self._post_json(p, wanted) for p in chunk]
        body: dict[str, Any] = {"data": data}
        if chunk:
            paging: dict[str, Any] = {
                "cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}
            }
            if start + len(chunk) < len(mine):
                query = {k: v for k, v in record.query.items() if k != "after"}
                query["access_token"] = record.token or ""
                query["limit"] = str(limit)
                query["after"] = _cursor(start + len(chunk))
                paging["next"] = (
                    f"{self.base_url}/{self.expected_version}/{page_id}/published_posts?"
                    + urlencode(query)
                )
            body["paging"] = paging
        return 200, body, {}

    def _post_json(self, post: FakePost, wanted: dict[str, Any]) -> dict[str, Any]:
        full: dict[str, Any] = {
            "id": post.id,
            "created_time": post.created_time.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "updated_time": post.created_time.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "permalink_url": f"https://www.facebook.com/{post.page_id}/posts/{post.id.split('_')[1]}",
            "is_published": True,
            "status_type": "added_photos" if post.photo_url else "shared_story",
        }
        if post.message is not None:
            full["message"] = post.message
        attachment: dict[str, Any] | None = None
        if post.link:
            shim = "https://l.facebook.com/l.php?u=" + quote(post.link, safe="") + "&h=AT0xYz"
            attachment = {
                "type": "share",
                "media_type": "link",
                "title": "Article de test",
                "description": "Résumé de l'article.",
                "url": shim,
                "unshimmed_url": post.link,
                "target": {"url": shim},
                "media": {"image": {"src": "https://external.xx.fbcdn.net/emg1/v/t13/x.jpg"}},
            }
        elif post.photo_url:
            photo_page = f"https://www.facebook.com/photo.php?fbid={post.photo_id}&set=a.1&type=3"
            attachment = {
                "type": "photo",
                "media_type": "photo",
                "url": photo_page,
                "unshimmed_url": photo_page,
                "target": {"id": post.photo_id, "url": photo_page},
                "media": {"image": {"src": "https://scontent.xx.fbcdn.net/v/t39/p.jpg"}},
            }
        if attachment is not None:
            full["attachments"] = {"data": [attachment]}
        out: dict[str, Any] = {}
        for name, sub in wanted.items():
            if name == "attachments":
                if "attachments" in full:
                    keep = sub or dict.fromkeys(DEFAULT_ATTACHMENT_FIELDS)
                    rows = [_select_tree(a, keep) for a in full["attachments"]["data"]]
                    out["attachments"] = {"data": rows}
            elif name in full:
                out[name] = full[name]
        out.setdefault("id", post.id)
        return out

    def _debug_token(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        input_token = params.get("input_token")
        if not input_token:
            return _error(
                GraphError(code=100, message="(#100) The parameter input_token is required")
            )
        info = self.tokens.get(input_token)
        if info is None:
            data: dict[str, Any] = {
                "is_valid": False,
                "error": {"code": 190, "message": "Invalid OAuth access token."},
                "scopes": [],
            }
            return 200, {"data": data}, {}
        data = {
            "app_id": info.app_id,
            "type": info.type,
            "application": info.application,
            "data_access_expires_at": info.data_access_expires_at,
            "expires_at": info.expires_at,
            "is_valid": info.invalid_subcode is None,
            "issued_at": info.issued_at,
            "scopes": list(info.scopes),
            "granular_scopes": info.granular_scopes
            if info.granular_scopes is not None
            else [
                {"scope": s, "target_ids": [info.profile_id]}
                if s.startswith("pages_") and info.type == "PAGE"
                else {"scope": s}
                for s in info.scopes
            ],
            "user_id": info.user_id,
        }
        if info.type == "PAGE":
            data["profile_id"] = info.profile_id
        if info.invalid_subcode is not None:
            data["error"] = {
                "code": 190,
                "message": INVALID_TOKEN_MESSAGES.get(info.invalid_subcode, "Invalid token"),
                "subcode": info.invalid_subcode,
            }
        return 200, {"data": data}, {}

    def _object(self, object_id: str) -> tuple[int, Any, dict[str, str]]:
        name = self.pages.get(object_id)
        if name is None:
            return _error(
                GraphError(
                    code=100,
                    subcode=33,
                    type="GraphMethodException",
                    message=f"Unsupported get request. Object with ID '{object_id}' does not "
                    "exist, cannot be loaded due to missing permissions, or does not support "
                    "this operation.",
                )
            )
        return 200, {"id": object_id, "name": name}, {}


# --------------------------------------------------------------------------- helpers


def _looks_like_version(segment: str) -> bool:
    return len(segment) > 1 and segment[0] == "v" and segment[1:].replace(".", "").isdigit()


def _version_number(version: str) -> tuple[int, int]:
    major, _, minor = version.lstrip("v").partition(".")
    return int(major or 0), int(minor or 0)


def _endpoint(method: str, rest: list[str], params: Mapping[str, str]) -> Endpoint:
    if not rest:
        return "scrape" if method == "POST" and "scrape" in params else "other"
    if len(rest) == 1:
        if rest[0] == "debug_token":
            return "debug_token"
        if rest[0] == "me":
            return "me"
        return "object"
    if len(rest) == 2:
        return {"feed": "feed", "photos": "photos", "published_posts": "published_posts"}.get(
            rest[1], "other"
        )  # type: ignore[return-value]
    return "other"


def _error(error: GraphError) -> tuple[int, Any, dict[str, str]]:
    return error.status, error.body(), dict(error.headers)


def _permission_error() -> GraphError:
    return GraphError(
        code=200,
        status=403,
        message="(#200) If posting to a page, requires both pages_read_engagement and "
        "pages_manage_posts as an admin with sufficient administrative permission",
    )


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"idx:{index}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().split(":")[1])


def parse_fields(spec: str) -> dict[str, Any]:
    """`id,attachments{url,target{url}}` → {"id": None, "attachments": {"url": None, ...}}."""

    def parse(text: str, pos: int) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        name = ""
        while pos < len(text):
            char = text[pos]
            if char == "{":
                sub, pos = parse(text, pos + 1)
                out[name.strip()] = sub
                name = ""
            elif char == "}":
                if name.strip():
                    out[name.strip()] = None
                return out, pos + 1
            elif char == ",":
                if name.strip():
                    out[name.strip()] = None
                name = ""
                pos += 1
            else:
                name += char
                pos += 1
        if name.strip():
            out[name.strip()] = None
        return out, pos

    tree, end = parse(spec, 0)
    if end < len(spec):
        raise ValueError(f"unbalanced braces in {spec!r}")
    return tree


def _select_tree(obj: dict[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, sub in wanted.items():
        if name not in obj:
            continue
        value = obj[name]
        out[name] = _select_tree(value, sub) if sub and isinstance(value, dict) else value
    return out


def _select(obj: dict[str, str], fields: str | None) -> dict[str, str]:
    if not fields:
        return dict(obj)
    names = [f.strip() for f in fields.split(",") if f.strip()]
    return {k: v for k, v in obj.items() if k in names or k == "id"}


@dataclass
class Timer:
    """Wall-clock time of a block, to prove a test did not wait for a slow answer."""

    elapsed: float = 0.0

    def __enter__(self) -> Timer:
        self._start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self._start
