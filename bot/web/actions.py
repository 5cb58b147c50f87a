"""The queue's actions: publish now, move to the next slot, skip, retry, edit the teaser."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from bot.models import Delivery, DeliveryState
from bot.web.base import Routes
from bot.web.plan import next_slot_after
from bot.web.reasons import ADMIN_SKIP
from bot.web.texts import word

log = logging.getLogger("relais.web")


TEASER_MAX = 2000


class ActionRoutes(Routes):
    """POST /queue/{id}/{action}, CSRF-checked; each action is recorded with its author."""

    async def act(self, request: Request) -> Response:
        """POST /queue/{id}/{action}: publish, skip, retry, move, teaser."""
        user = self.admin(request)
        if user is None:
            return self.refused(request)
        values = await self.form(request)
        if values is None:
            return self.message(request, 403, "csrf_refused")
        action = request.path_params["action"]
        handler = ACTIONS.get(action)
        raw_id = request.path_params["id"]
        delivery = self.ctx.storage.delivery(int(raw_id)) if raw_id.isdigit() else None
        if handler is None or delivery is None:
            return self.message(request, 404, "not_found")
        message = handler(self, delivery, values, user)
        return self.back(request, message, f"/queue?{urlencode({'channel': delivery.channel_id})}")

    def _done(
        self, ok: bool, delivery: Delivery, key: str, user: int, detail: str = "", **kw: Any
    ) -> str:
        ctx = self.ctx
        if not ok:
            state = word(ctx.lang, f"state_{delivery.state.value}")
            return word(ctx.lang, "refused_action", id=delivery.id, state=state)
        action = key.removeprefix("done_")
        ctx.storage.record_action(user, action, f"#{delivery.id}", detail, ctx.clock.now())
        log.info("dashboard: admin %s: %s #%s %s", user, action, delivery.id, detail)
        ctx.wake()
        return word(ctx.lang, key, id=delivery.id, **kw)

    def publish_now(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        now = self.ctx.clock.now()
        return self._done(
            self.ctx.storage.reschedule(delivery.id, now, now), delivery, "done_publish", user
        )

    def move(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        ctx = self.ctx
        channel = ctx.channel(delivery.channel_id)
        now = ctx.clock.now()
        if channel is None:
            return word(ctx.lang, "not_found")
        queued = ctx.storage.queue(channel.id, states=(DeliveryState.QUEUED,))
        planned = self.plan_of(channel, queued).get(delivery.id)
        at = planned.due if planned is not None else delivery.due_at
        due = next_slot_after(channel, at, now, ctx.settings.site.tz)
        ok = ctx.storage.reschedule(delivery.id, due, now)
        return self._done(ok, delivery, "done_move", user, due.isoformat(), when=ctx.when(due))

    def skip(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        now = self.ctx.clock.now()
        ok = self.ctx.storage.mark_skipped(delivery.id, f"{ADMIN_SKIP} {user}", now)
        return self._done(ok, delivery, "done_skip", user)

    def retry(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        now = self.ctx.clock.now()
        ok = self.ctx.storage.mark_queued(delivery.id, now, "retried by admin", now)
        return self._done(ok, delivery, "done_retry", user)

    def teaser(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        text = values.get("teaser", "").replace("\r\n", "\n").strip()[:TEASER_MAX]
        ok = self.ctx.storage.set_teaser(delivery.id, text, user, self.ctx.clock.now())
        return self._done(ok, delivery, "done_teaser", user, text[:200])


# The queue's actions. Extension point: "approve" (a `pending` delivery) joins this table once
# the outbox keeps posts waiting for approval (issue 14's storage half).
ACTIONS: dict[str, Callable[[ActionRoutes, Delivery, dict[str, str], int], str]] = {
    "publish": ActionRoutes.publish_now,
    "move": ActionRoutes.move,
    "skip": ActionRoutes.skip,
    "retry": ActionRoutes.retry,
    "teaser": ActionRoutes.teaser,
}
