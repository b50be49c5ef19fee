"""A small, fast HTTP/1.1 load generator (raw asyncio sockets, keep-alive), run as its own process.

    python bench/loadgen.py http://127.0.0.1:8000/webhooks/bench?key=k --n 20000 --concurrency 64
    python bench/loadgen.py URL --n 5000 --rate 500      # open loop at a fixed rate, for latency

Each body is a ~400-byte JSON lead with 8 fields and a unique ``seq``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


def body(seq: int) -> bytes:
    return json.dumps({
        "seq": seq, "first_name": "Benchmark", "last_name": f"Lead{seq:07d}", "email": f"lead{seq}@example.com",
        "phone": "+447911123456", "postcode": "SW1A 1AA", "consent": True,
        "notes": "Interested in a quote for home insurance; call after five on weekdays, please." * 2,
        "sent_at": time.time(),
    }).encode()


async def one_connection(host: str, port: int, path: str, queue: asyncio.Queue, results: list, paced: bool) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    while True:
        seq = await queue.get()
        if seq is None:
            break
        payload = body(seq)
        started = time.perf_counter()
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        results.append((status, time.perf_counter() - started))
    writer.close()


async def main(url: str, n: int, concurrency: int, rate: float | None) -> dict:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    queue: asyncio.Queue = asyncio.Queue()
    results: list = []
    workers = [asyncio.create_task(one_connection(parts.hostname, parts.port or 80, path, queue, results, bool(rate)))
               for _ in range(concurrency)]
    started = time.perf_counter()
    for seq in range(n):
        if rate:
            delay = started + seq / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        queue.put_nowait(seq)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    seconds = time.perf_counter() - started
    latencies = sorted(r[1] * 1000 for r in results)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 2)

    return {"count": len(results), "seconds": round(seconds, 3), "rate": round(len(results) / seconds, 1),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "statuses": statuses}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.url, args.n, args.concurrency, args.rate))))
