#!/usr/bin/env python3
"""The reference side of the client benchmark: the official `openai` Python
client (AsyncOpenAI, as an asyncio script would use it) sending the exact
request bodies `thinkgraph reason --dry-run` wrote, CONCURRENCY at a time,
and recording each answer as JSON lines. Prints CPU seconds, wall seconds
and peak resident memory as JSON.

    python openai_client.py BASE_URL REQUESTS.jsonl CONCURRENCY OUT.jsonl
"""
import asyncio
import json
import resource
import sys
import time

from openai import AsyncOpenAI

base_url, requests_path, concurrency, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


async def main():
    client = AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=8, timeout=60)
    gate = asyncio.Semaphore(concurrency)
    out = open(out_path, "w")

    async def ask(line):
        request = json.loads(line)
        body = request["body"]
        async with gate:
            answer = await client.chat.completions.create(**body)
        out.write(json.dumps({"id": request["custom_id"], "completions": [c.message.content for c in answer.choices],
                              "usage": answer.usage.model_dump()}) + "\n")

    with open(requests_path) as lines:
        await asyncio.gather(*(ask(line) for line in lines if line.strip()))
    out.close()


start = time.monotonic()
asyncio.run(main())
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2), "wall_seconds": round(time.monotonic() - start, 2),
                  "max_rss_mb": round(usage.ru_maxrss / 1024, 1)}))
