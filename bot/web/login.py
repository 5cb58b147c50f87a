"""Logging in with a one-time link, and out: the only pages an anonymous visitor sees."""

from __future__ import annotations

import ipaddress
import logging
import zlib

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.telegram_bot.command_limit import Verdict
from bot.web import auth
from bot.web.base import Routes
from bot.web.texts import word

log = logging.getLogger("relais.web")


def _client_key(request: Request) -> int:
    host = request.client.host if request.client else "?"
    try:
        return int(ipaddress.ip_address(host))
    except ValueError:
        return zlib.crc32(host.encode())


class LoginRoutes(Routes):
    """/login/{token} (GET shows a button, POST uses the link), /login, /logout."""

    def _check_link(self, request: Request, token: str) -> auth.LoginClaim | auth.LoginRefusal:
        now = self.ctx.clock.now()
        if self.ctx.limiter.check(_client_key(request), now) is not Verdict.ALLOW:
            return auth.LoginRefusal.RATE_LIMITED
        claim = auth.read_token(self.ctx.storage.web_secret(), token, now)
        refusal = auth.decide_login(
            claim, frozenset(self.ctx.settings.telegram.admins), first_use=True
        )
        return refusal if refusal is not None else claim

    async def login_page(self, request: Request) -> Response:
        """GET shows a button: a link preview or a mail scanner fetching the link does not
        use it up. The POST of that button logs in."""
        token = request.path_params["token"]
        found = self._check_link(request, token)
        if isinstance(found, auth.LoginRefusal):
            return self._login_refused(request, found)
        return self.page(request, "login.html", token=token)

    async def login(self, request: Request) -> Response:
        token = request.path_params["token"]
        found = self._check_link(request, token)
        now = self.ctx.clock.now()
        if isinstance(found, auth.LoginClaim) and not self.ctx.storage.use_login_nonce(
            found.nonce, found.user_id, now
        ):
            found = auth.LoginRefusal.USED
        if isinstance(found, auth.LoginRefusal):
            return self._login_refused(request, found)
        request.session.clear()
        request.session.update({"user": found.user_id, "csrf": auth.new_csrf_token()})
        self.ctx.storage.record_action(found.user_id, "login", "", "", now)
        log.info("dashboard: admin %s logged in", found.user_id)
        return RedirectResponse("/", status_code=303)

    def _login_refused(self, request: Request, refusal: auth.LoginRefusal) -> Response:
        log.warning("dashboard: login refused (%s)", refusal.value)
        status = 429 if refusal is auth.LoginRefusal.RATE_LIMITED else 403
        message = word(self.ctx.lang, f"refused_{refusal.value}")
        return self.page(request, "message.html", status, message=message, login_help=True)

    async def logout(self, request: Request) -> Response:
        if request.method == "POST" and await self.form(request) is None:
            return self.message(request, 403, "csrf_refused")
        request.session.clear()
        request.session["flash"] = word(self.ctx.lang, "logged_out")
        return RedirectResponse("/login", status_code=303)

    async def login_help(self, request: Request) -> Response:
        return self.page(request, "message.html", message="", login_help=True)
