#!/usr/bin/python3
"""A test peer: Debian's python3-websockets as a server, for test/client/interop-python.test.ts.

Run with /usr/bin/python3 (the system Python that has the websockets package):

    python_echo_server.py PORT        (0 picks a free port)

Prints "listening on PORT" once ready, then one JSON line per finished connection:
{"path": ..., "code": ..., "reason": ...} with the close code and reason it saw.

Paths:
    /echo                  echo every message as it came (text as text, binary as binary)
    /fragments             send a fragmented text and a fragmented binary message
    /ping                  ping the client, then send "pong:<payload>" when the pong arrives
    /close?code=C&reason=R close with that code and reason
"""

import asyncio
import json
import sys
from urllib.parse import parse_qs, urlsplit

import websockets


async def handler(ws, *legacy_path):
    url = urlsplit(getattr(ws, "path", None) or (legacy_path[0] if legacy_path else "/"))
    query = parse_qs(url.query)
    try:
        if url.path == "/echo":
            async for message in ws:
                await ws.send(message)
        elif url.path == "/fragments":
            await ws.send(["frag", "men", "ted \u2713"])
            await ws.send([b"\x01\x02", b"", b"\x03"])
            await ws.wait_closed()
        elif url.path == "/ping":
            pong = await ws.ping(b"from python")
            await pong
            await ws.send("pong:from python")
            await ws.wait_closed()
        elif url.path == "/close":
            await ws.close(int(query["code"][0]), query.get("reason", [""])[0])
        else:
            await ws.close(4404, "unknown path")
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    print(json.dumps({"path": url.path + ("?" + url.query if url.query else ""), "code": ws.close_code, "reason": ws.close_reason}), flush=True)


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    async with websockets.serve(handler, "127.0.0.1", port, max_size=None, ping_interval=None, subprotocols=["chat"]) as server:
        print("listening on %d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
