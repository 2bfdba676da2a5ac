#!/usr/bin/python3
"""A test peer: Debian's python3-websockets with permessage-deflate, as an echo client or an
echo server, for test/interop/deflate-python.test.ts. The Node side sends and checks messages;
this peer only echoes them (text as text, binary as binary) and reports what was agreed.

Run with /usr/bin/python3 (the system Python that has the websockets package):

    python_deflate_peer.py client URL [--client-no-context-takeover]
        Connects, prints {"extensions": <the Sec-WebSocket-Extensions answer it received>},
        echoes until the server closes, then prints {"closeCode": ..., "echoed": N} and exits.

    python_deflate_peer.py server [--server-no-context-takeover]
        Listens on 127.0.0.1 (a free port), prints "listening on PORT", then for each
        connection {"extensions": <the answer it sent>} and, when it ends, {"closeCode": ...}.

Compression is websockets' default ("deflate": 12-bit windows on the server side, memLevel 5),
with the no_context_takeover flag added when asked.
"""

import asyncio
import json
import sys

import websockets
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)


def report(value):
    print(json.dumps(value), flush=True)


def extensions_header(headers):
    return headers.get("Sec-WebSocket-Extensions", "")


def response_headers(ws):
    # websockets 10-13 (legacy API) and 14+ (new asyncio API) keep the headers in different places.
    headers = getattr(ws, "response_headers", None)
    return headers if headers is not None else ws.response.headers


async def echo(ws):
    count = 0
    try:
        async for message in ws:
            await ws.send(message)
            count += 1
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    return count


async def client(url, no_context_takeover):
    options = {}
    if no_context_takeover:
        factory = ClientPerMessageDeflateFactory(client_no_context_takeover=True, compress_settings={"memLevel": 5})
        options = {"compression": None, "extensions": [factory]}
    async with websockets.connect(url, max_size=None, ping_interval=None, open_timeout=10, close_timeout=10, **options) as ws:
        report({"extensions": extensions_header(response_headers(ws))})
        count = await echo(ws)
        report({"closeCode": ws.close_code, "echoed": count})


async def server(no_context_takeover):
    options = {}
    if no_context_takeover:
        factory = ServerPerMessageDeflateFactory(
            server_no_context_takeover=True,
            server_max_window_bits=12,
            client_max_window_bits=12,
            compress_settings={"memLevel": 5},
        )
        options = {"compression": None, "extensions": [factory]}

    async def handler(ws, *legacy_path):
        report({"extensions": extensions_header(response_headers(ws))})
        await echo(ws)
        report({"closeCode": ws.close_code})

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, ping_interval=None, **options) as running:
        print("listening on %d" % running.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


def main(argv):
    if len(argv) < 2 or argv[1] not in ("client", "server") or (argv[1] == "client" and len(argv) < 3):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "client":
        asyncio.run(client(argv[2], "--client-no-context-takeover" in argv))
    else:
        try:
            asyncio.run(server("--server-no-context-takeover" in argv))
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
