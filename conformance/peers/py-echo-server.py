"""Trusted peer: python-websockets (Debian python3-websockets) echo server.

Echoes every message as it came (text as text, binary as binary) on any path, with
permessage-deflate on (the library default). Run with the system Python:
    /usr/bin/python3 conformance/peers/py-echo-server.py --port 9001
"""
import argparse
import asyncio

import websockets


async def echo(ws, path=None):  # websockets 10.x still passes the path
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main(port):
    # max_size: the 16 MiB cases of category 9; no keepalive pings to disturb the cases.
    async with websockets.serve(echo, "127.0.0.1", port, max_size=64 * 1024 * 1024, ping_interval=None):
        print(f"python-websockets {websockets.__version__} echo server on ws://127.0.0.1:{port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9001)
    asyncio.run(main(parser.parse_args().port))
