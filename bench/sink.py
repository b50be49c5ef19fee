"""A fast buyer stand-in: answers 200 to every POST and stamps when each lead (by its ``seq``) arrived.

GET /stats returns {"count", "first", "last", "latencies_ms": [...]} using each body's ``sent_at``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

arrivals: list[tuple[float, float]] = []  # (sent_at, arrived_at), wall clock shared with the load generator


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            payload = await reader.readexactly(length) if length else b""
            if head.startswith(b"GET /stats"):
                sent = [a - s for s, a in arrivals]
                reply = json.dumps({"count": len(arrivals), "first": min((a for _, a in arrivals), default=0),
                                    "last": max((a for _, a in arrivals), default=0),
                                    "latencies_ms": sorted(round(x * 1000, 2) for x in sent)}).encode()
            elif head.startswith(b"POST /reset"):
                arrivals.clear()
                reply = b"{}"
            else:
                try:
                    sent_at = json.loads(payload).get("sent_at") or json.loads(payload).get("SentAt")
                except ValueError:
                    sent_at = None
                arrivals.append((float(sent_at or time.time()), time.time()))
                reply = b'{"ok":true}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(reply), reply))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
