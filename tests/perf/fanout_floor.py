"""The fan-out floor: a bare asyncio ``websockets`` broadcast server, nothing else.

    python tests/perf/fanout_floor.py PORT

What the live feed's fan-out is measured against in tests/perf/bench_all.py: the
same subscriber process (tests/perf/fanout_clients.py) holds the same number of
sockets to this server on the same machine, in the same run. It speaks just enough
of the live feed's protocol: a socket that sends ``topic:join`` is answered
``topic:joined`` and subscribed; a socket that sends
``{"event": "bench:broadcast", "payload": FRAME}`` has the text FRAME sent to every
subscriber at once with ``websockets.broadcast`` (no awaiting per socket). No Django,
no channel layer, no Redis, on uvloop like the site's server: the cost of the machine,
the event loop and the WebSocket library alone. Prints ``ready`` once listening.
"""

from __future__ import annotations

import asyncio
import json
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed


async def main(port: int) -> None:
    subscribers: set[ServerConnection] = set()

    async def handler(socket: ServerConnection) -> None:
        try:
            async for message in socket:
                data = json.loads(message)
                if data["event"] == "topic:join":
                    subscribers.add(socket)
                    joined = {"event": "topic:joined", "payload": data["payload"]}
                    await socket.send(json.dumps(joined))
                elif data["event"] == "bench:broadcast":
                    broadcast(subscribers, data["payload"])
        except ConnectionClosed:
            pass  # the subscriber process closes its sockets without a close frame
        finally:
            subscribers.discard(socket)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None):
        print("ready", flush=True)
        await asyncio.get_running_loop().create_future()  # until terminated


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:  # the floor on the stock loop is still a floor
        asyncio.run(main(int(sys.argv[1])))
    else:
        uvloop.run(main(int(sys.argv[1])))
