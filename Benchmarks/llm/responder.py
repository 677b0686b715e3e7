#!/usr/bin/env python3
"""A fast OpenAI-compatible responder on loopback for the client benchmark.

Answers every POST .../chat/completions after --delay seconds with a fixed,
well-formed completion (HTTP/1.1 keep-alive, no parsing beyond the headers),
so the client, not the server, is what is measured. It counts requests
in flight: sampled every 50 ms from the first request to the last, and
reported by `GET /stats` as JSON (max, median and 10th percentile of the
samples taken while any request was in flight, request count).

    python3 responder.py [--port 0] [--delay 0.5]   prints its port
"""
import argparse
import asyncio
import json
import signal
import statistics
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--delay", type=float, default=0.5, help="seconds before each answer (a model's latency)")
args = parser.parse_args()

CONTENT = ("## Extraction\n**Admission [2100-01-01 08:00]**: urgent admission.\n\n## Reasoning\n"
           "The findings point to the listed items.\n\n## Final Results\nnothing")
BODY = json.dumps({"id": "chatcmpl-bench", "object": "chat.completion", "model": "bench",
                   "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": CONTENT}}],
                   "usage": {"prompt_tokens": 500, "completion_tokens": 40, "total_tokens": 540}}).encode()
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(BODY)).encode()
            + b"\r\n\r\n" + BODY)


class State:
    in_flight = 0
    requests = 0
    samples: list[int] = []
    first = None
    last = None


class Connection(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            if head.startswith("GET /stats"):
                self.transport.write(stats_response())
                continue
            State.in_flight += 1
            State.requests += 1
            State.first = State.first or time.monotonic()
            asyncio.get_running_loop().call_later(args.delay, self.answer)

    def answer(self):
        State.in_flight -= 1
        State.last = time.monotonic()
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)


def stats_response():
    busy = [count for count in State.samples if count > 0]
    ordered = sorted(busy)
    stats = {"requests": State.requests, "max_in_flight": max(busy, default=0),
             "median_in_flight": statistics.median(busy) if busy else 0,
             "p10_in_flight": ordered[len(ordered) // 10] if ordered else 0,
             "seconds": round((State.last or 0) - (State.first or 0), 3)}
    body = json.dumps(stats).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\n\r\n" + body)


async def sample():
    while True:
        await asyncio.sleep(0.05)
        if State.first is not None:
            State.samples.append(State.in_flight)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Connection, "127.0.0.1", args.port, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop.add_signal_handler(signal.SIGTERM, server.close)
    asyncio.ensure_future(sample())
    async with server:
        try:
            await server.serve_forever()
        except asyncio.CancelledError:
            pass


signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
asyncio.run(main())
