"""/healthz and /metrics: the operator's endpoints, open without login (keep the port private)."""

from __future__ import annotations

from functools import cached_property

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.errors import StorageError
from bot.web.base import Routes
from bot.web.health import health
from bot.web.metrics import RelaisCollector, registry_for


class OperatorRoutes(Routes):
    """Health from the database and the delivery loop; Prometheus figures from the database and
    from the running service's counters."""

    @cached_property
    def registry(self) -> CollectorRegistry:
        ctx = self.ctx
        collector = RelaisCollector(lambda: ctx.settings, lambda: ctx.storage, ctx.clock.now)
        return registry_for(collector, ctx.metrics)

    async def healthz(self, request: Request) -> Response:
        ctx = self.ctx
        try:
            await run_in_threadpool(ctx.storage.ping)  # a hanging database holds no loop
            error = None
        except StorageError as err:
            error = str(err)
        verdict = health(
            database_error=error,
            last_round=ctx.last_round() if ctx.last_round else None,
            worker=ctx.last_round is not None,
            now=ctx.clock.now(),
        )
        body = {"status": "ok" if verdict.ok else "unhealthy", "reasons": list(verdict.reasons)}
        return JSONResponse(body, status_code=verdict.status)

    async def metrics(self, request: Request) -> Response:
        # Off the event loop: a database slow to answer must not hold the service.
        data = await run_in_threadpool(generate_latest, self.registry)
        return Response(data, media_type=CONTENT_TYPE_LATEST)
