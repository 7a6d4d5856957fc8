"""The skeleton every Nullboard middleware class shares: Django's documented
protocol for a middleware that runs inline in both modes (``sync_capable``,
``async_capable``, ``markcoroutinefunction``), so under ASGI no layer costs a
thread hop. Apart from ``nullboard.middleware`` so that modules it imports
(``nullboard.metrics``) can build on it too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What Django hands a middleware: the next one, sync or async (see is_async).
GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


class BothModes:
    """Subclasses write ``call`` (sync: the next layer answers directly) and
    ``__acall__`` (async: the next layer is a coroutine function), and reach the
    next layer through ``respond`` and ``arespond``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        return self.call(request)

    def call(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError

    def respond(self, request: HttpRequest) -> HttpResponseBase:
        """The next layer's answer (sync mode only)."""
        return cast(HttpResponseBase, self.get_response(request))

    async def arespond(self, request: HttpRequest) -> HttpResponseBase:
        """The next layer's answer (async mode only)."""
        return await cast(Awaitable[HttpResponseBase], self.get_response(request))
