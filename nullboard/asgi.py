"""ASGI entry point: Django for HTTP, Channels for WebSockets."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nullboard.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Set Django up before importing anything that touches models or settings.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import CookieMiddleware, SessionMiddleware  # noqa: E402

from antispam.websocket import ConnectionCapMiddleware  # noqa: E402
from nullboard import live, no_deflate  # noqa: E402
from nullboard.limits import BodyLimitMiddleware, lifespan  # noqa: E402
from nullboard.redis_utils import is_embedded  # noqa: E402
from nullboard.routing import websocket_urlpatterns  # noqa: E402

if is_embedded():
    print(
        "Nullboard: REDIS_URL is unset, so data lives in this process only "
        "(embedded store) and is gone when it stops.",
        file=sys.stderr,
        flush=True,
    )

# SessionMiddlewareStack's two layers, spelled out: its stub types the stack as any
# Channels application (ASGI 2 classes too), which ConnectionCapMiddleware cannot call.
# URLRouter's stub wants a stub-only URLPattern subclass that path() (as django-stubs
# types it) never returns; Channels' documented routes are plain path() ones.
sessions = CookieMiddleware(SessionMiddleware(URLRouter(websocket_urlpatterns)))  # type: ignore[arg-type]
# The server's own send, unwrapped by the session middleware, for the live fan-out.
sockets = live.hub.direct_send(sessions)

# Hypercorn would deflate every frame once per browser socket (nullboard.no_deflate).
no_deflate.decline()

# live.serve: events published while serving are queued on this loop, not awaited.
application = live.serve(
    ProtocolTypeRouter(
        {
            "http": BodyLimitMiddleware(django_asgi_app),
            "websocket": AllowedHostsOriginValidator(ConnectionCapMiddleware(sockets)),
            "lifespan": lifespan,
        }
    )
)
