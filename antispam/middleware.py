"""Traffic shaping against observers: padded JSON sizes and random write delays."""

from __future__ import annotations

import asyncio
import secrets
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from nullboard.api import is_api_path
from nullboard.middleware_base import BothModes

PAD_BUCKET_BYTES = 1024
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def pad(response: HttpResponse) -> HttpResponse:
    """Pad a JSON body with trailing spaces (still valid JSON) to the next 1 KiB."""
    if response.streaming or not response.get("Content-Type", "").startswith("application/json"):
        return response
    size = len(response.content)
    padded = -(-max(size, 1) // PAD_BUCKET_BYTES) * PAD_BUCKET_BYTES
    if padded != size:
        response.content = response.content + b" " * (padded - size)
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(padded)
    return response


def delay_seconds() -> float:
    """A uniform 0..RANDOM_DELAY_MAX_MS delay, from the system's CSPRNG."""
    return secrets.randbelow(settings.RANDOM_DELAY_MAX_MS + 1) / 1000


class TrafficShapingMiddleware(BothModes):
    """Delays API writes by a random amount (asleep, never holding a worker) and
    pads API JSON bodies to size buckets, so timing and length leak less."""

    def call(self, request: HttpRequest) -> HttpResponseBase:
        if self._delays(request):
            time.sleep(delay_seconds())
        return self._finish(request, self.respond(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if self._delays(request):
            await asyncio.sleep(delay_seconds())
        return self._finish(request, await self.arespond(request))

    @staticmethod
    def _delays(request: HttpRequest) -> bool:
        return (
            settings.ENABLE_RANDOM_DELAYS
            and settings.RANDOM_DELAY_MAX_MS > 0
            and request.method in _WRITE_METHODS
            and is_api_path(request.path)
        )

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            settings.PAD_RESPONSES
            and is_api_path(request.path)
            and isinstance(response, HttpResponse)
        ):
            return pad(response)
        return response
