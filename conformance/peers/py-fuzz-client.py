"""Trusted peer: a python-websockets client speaking the fuzzingserver protocol.

getCaseCount, then runCase 1..N echoing every message back as it came, then updateReports.
    /usr/bin/python3 conformance/peers/py-fuzz-client.py --url ws://127.0.0.1:9001 --agent python
"""
import argparse
import asyncio
from urllib.parse import quote

import websockets


async def session(url, echo):
    first = None
    try:
        async with websockets.connect(url, max_size=64 * 1024 * 1024, ping_interval=None) as ws:
            async for message in ws:
                if first is None:
                    first = message
                if echo:
                    await ws.send(message)
    except (websockets.ConnectionClosed, websockets.InvalidHandshake, OSError):
        pass  # the fuzzing server judges the case
    return first


async def main(base, agent):
    base = base.rstrip("/")
    count = int(await session(base + "/getCaseCount", False))
    print(f"{count} cases", flush=True)
    for i in range(1, count + 1):
        await session(f"{base}/runCase?case={i}&agent={quote(agent)}", True)
    await session(f"{base}/updateReports?agent={quote(agent)}", False)
    print("done", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="ws://127.0.0.1:9001")
    parser.add_argument("--agent", default="python")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.agent))
