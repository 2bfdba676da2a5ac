#!/usr/bin/python3
"""A test peer: Debian's python3-websockets client, driven by test/interop/python-client.test.ts.

Run with /usr/bin/python3 (the system Python that has the websockets package):

    python_client.py URL [--no-compression] SCENARIO [ARGS...]

It does one scenario against a hawser echo server (which greets with "hello" and " world!")
and prints one JSON object with what it saw; the Node test makes the assertions. Payloads are
random, so the report carries SHA-256 digests and lengths of what was sent and what came back,
and the result of comparing them byte for byte here. The client offers permessage-deflate
(its default) unless --no-compression is given; the report says what was agreed.

Scenarios:
    messages SIZE...       text and binary messages of each size, one at a time
    fragments              fragmented messages, sent from lists and from async iterators
    pings                  pings with various payloads; each must be answered with its payload
    close CODE REASON      the client closes; report the code the server echoed
    server-close           the server closes (URL names code and reason); report what arrived
"""

import asyncio
import hashlib
import json
import os
import sys

import websockets

# Printable ASCII for random text, with multibyte characters laid over it every 1009 bytes.
ASCII_TABLE = bytes(0x20 + (b % 95) for b in range(256))
MULTIBYTE = "é€😀".encode("utf-8")  # 2 + 3 + 4 bytes


def random_text(size):
    data = bytearray(os.urandom(size).translate(ASCII_TABLE))
    for i in range(0, size - len(MULTIBYTE) + 1, 1009):
        data[i:i + len(MULTIBYTE)] = MULTIBYTE
    text = data.decode("utf-8")
    assert len(text.encode("utf-8")) == size
    return text


def as_bytes(message):
    return message.encode("utf-8") if isinstance(message, str) else bytes(message)


def digest(message):
    return hashlib.sha256(as_bytes(message)).hexdigest()


def kind(message):
    return "text" if isinstance(message, str) else "binary"


COMPRESSION = {}


def connect(url):
    # max_size=None: 16 MiB messages are part of the test. No keepalive pings of our own.
    return websockets.connect(url, max_size=None, ping_interval=None, open_timeout=10, close_timeout=10, **COMPRESSION)


def extensions(ws):
    """The Sec-WebSocket-Extensions the server answered with ("" for none)."""
    # websockets 10-13 (legacy client) and 14+ (new asyncio client) keep the headers in different places.
    headers = getattr(ws, "response_headers", None)
    if headers is None:
        headers = ws.response.headers
    return headers.get("Sec-WebSocket-Extensions", "")


async def greeting(ws):
    return [await ws.recv(), await ws.recv()]


def compare(label, sent, received):
    return {
        "label": label,
        "sentKind": kind(sent),
        "sentLength": len(as_bytes(sent)),
        "sentSha256": digest(sent),
        "receivedKind": kind(received),
        "receivedLength": len(as_bytes(received)),
        "receivedSha256": digest(received),
        "equal": kind(sent) == kind(received) and as_bytes(sent) == as_bytes(received),
    }


async def messages(url, sizes):
    async with connect(url) as ws:
        report = {"greeting": await greeting(ws), "extensions": extensions(ws), "results": []}
        for size in sizes:
            for make in (random_text, os.urandom):
                payload = make(size)
                await ws.send(payload)
                echoed = await asyncio.wait_for(ws.recv(), 60)
                report["results"].append(compare(f"{kind(payload)} {size}", payload, echoed))
        await ws.close(1000, "done")
        report["closeCode"] = ws.close_code
        return report


async def aiter_of(pieces):
    for piece in pieces:
        await asyncio.sleep(0)
        yield piece


async def fragments(url):
    text_pieces = [random_text(n) for n in (1, 125, 126, 0, 70000, 9)]
    binary_pieces = [os.urandom(n) for n in (0, 1, 125, 126, 65536, 3)]
    big_pieces = [os.urandom(1024 * 1024) for _ in range(16)]
    cases = [
        ("text from a list", text_pieces, False),
        ("binary from a list", binary_pieces, False),
        ("text from an async iterator", text_pieces, True),
        ("binary from an async iterator", binary_pieces, True),
        ("16 MiB binary in 16 fragments", big_pieces, False),
        ("single-fragment text", ["only one"], False),
    ]
    async with connect(url) as ws:
        report = {"greeting": await greeting(ws), "results": []}
        for label, pieces, use_async in cases:
            await ws.send(aiter_of(pieces) if use_async else list(pieces))
            whole = "".join(pieces) if isinstance(pieces[0], str) else b"".join(pieces)
            echoed = await asyncio.wait_for(ws.recv(), 60)
            report["results"].append(compare(label, whole, echoed))
        await ws.close(1000, "done")
        report["closeCode"] = ws.close_code
        return report


async def pings(url):
    payloads = [b"", b"x", b"ping \xc3\xa9", os.urandom(125), b"\x00" * 16]
    async with connect(url) as ws:
        report = {"greeting": await greeting(ws), "results": []}
        for payload in payloads:
            # websockets resolves the waiter only when a pong with this exact payload arrives.
            waiter = await ws.ping(payload)
            try:
                await asyncio.wait_for(waiter, 5)
                answered = True
            except asyncio.TimeoutError:
                answered = False
            report["results"].append({"length": len(payload), "sha256": hashlib.sha256(payload).hexdigest(), "answered": answered})
        # A ping between messages must not disturb them.
        await ws.send("before")
        waiter = await ws.ping(b"between")
        await ws.send("after")
        report["around"] = [await ws.recv(), await ws.recv()]
        await asyncio.wait_for(waiter, 5)
        await ws.close(1000, "done")
        return report


async def close(url, code, reason):
    async with connect(url) as ws:
        report = {"greeting": await greeting(ws)}
        await ws.send("last words")
        report["echo"] = await ws.recv()
        await ws.close(code, reason)
        report["closeCode"] = ws.close_code
        report["closeReason"] = ws.close_reason
        return report


async def server_close(url):
    async with connect(url) as ws:
        report = {}
        try:
            message = await asyncio.wait_for(ws.recv(), 5)
            report["unexpectedMessage"] = message if isinstance(message, str) else message.hex()
        except websockets.ConnectionClosed as closed:
            report["exception"] = type(closed).__name__
        await ws.wait_closed()
        report["closeCode"] = ws.close_code
        report["closeReason"] = ws.close_reason
        return report


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    if "--no-compression" in argv:
        argv = [a for a in argv if a != "--no-compression"]
        COMPRESSION["compression"] = None
    url, scenario, args = argv[1], argv[2], argv[3:]
    if scenario == "messages":
        report = asyncio.run(messages(url, [int(a) for a in args]))
    elif scenario == "fragments":
        report = asyncio.run(fragments(url))
    elif scenario == "pings":
        report = asyncio.run(pings(url))
    elif scenario == "close":
        report = asyncio.run(close(url, int(args[0]), args[1] if len(args) > 1 else ""))
    elif scenario == "server-close":
        report = asyncio.run(server_close(url))
    else:
        print(f"unknown scenario {scenario!r}", file=sys.stderr)
        return 2
    report["websocketsVersion"] = websockets.__version__
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
