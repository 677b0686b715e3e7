#!/usr/bin/env python3
"""An OpenAI-compatible chat completions server on loopback that injects
faults, for thinkgraph's client tests (never a stand-in for a real model:
the real-server tests run llama.cpp's server).

Each distinct request (messages + seed + n) meets the faults of --script in
order, one per attempt, then succeeds. Faults: 429 (with Retry-After),
500, stall (sleeps past the client's timeout), reset (closes the
connection without a response), badjson, length (finish_reason length),
filtered (finish_reason content_filter), ok.

A successful answer is a well-formed EHR-R1 completion whose final
results repeat the prompt's expected answer, so the filter can keep it.
Every request is logged as one JSON line to --log.
"""
import argparse
import hashlib
import json
import re
import signal
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--script", default="", help="comma-separated faults per request, in attempt order")
parser.add_argument("--log", required=True)
parser.add_argument("--stall", type=float, default=3.0, help="seconds a stall lasts")
parser.add_argument("--refuse-n", action="store_true", help="answer n > 1 with llama.cpp's 400")
parser.add_argument("--context-chars", type=int, default=0, help="answer prompts longer than this with a context-size 400")
parser.add_argument("--require-key", default="", help="the Bearer key every request must carry")
parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
parser.add_argument("--refuse-grammar", action="store_true", help="answer a request with a grammar with a 400, as a server without GBNF")
parser.add_argument("--invent", type=float, default=0.0,
                    help="share of answers (chosen by the request's hash) that cite an event and quote a value the prompt lacks")
parser.add_argument("--backwards", type=float, default=0.0,
                    help="share of answers (chosen by the request's hash) whose Extraction states the first expected item as a fact")
args = parser.parse_args()

script = [fault for fault in args.script.split(",") if fault]
attempts = {}
lock = threading.Lock()
log = open(args.log, "a", buffering=1)


def expected_answer(messages):
    """The target items the prompt gives: thinkgraph's templates list them
    under "### Expected answer", EHR-R1's as a JSON list under "# Ground Truth #"."""
    text = messages[-1]["content"] if messages else ""
    reference = "# Ground Truth #\n"
    start = text.find(reference)
    if start >= 0:
        line = text[start + len(reference):].split("\n", 1)[0]
        try:
            return [item for item in json.loads(line) if isinstance(item, str)]
        except ValueError:
            return []
    marker = "### Expected answer\n"
    start = text.find(marker)
    if start < 0:
        return []
    rest = text[start + len(marker):]
    end = rest.find("\n\n")
    return [line for line in rest[: end if end >= 0 else len(rest)].split("\n") if line.strip()]


def cited_event(messages):
    """A citation of the prompt's last event ("**Title [time]**"), as a
    faithful chain writes one; none when the prompt shows no event."""
    text = messages[-1]["content"] if messages else ""
    events = re.findall(r"^## (.+) \[(\d{4}-\d\d-\d\d[^\]]*)\]$", text, flags=re.MULTILINE)
    return f"**{events[-1][0]} [{events[-1][1]}]**: noted." if events else "The record was read."


def notes_pairs(messages):
    """For `instruct notes` prompts (a "# Discharge Summary #" section): one
    pair of each kind the filter tells apart, as JSON lines after a line
    that is no pair: faithful (cites the last event), invented (an event
    that never happened), copied (twelve words of the note), uncited, and a
    repeated question."""
    text = messages[-1]["content"] if messages else ""
    note = text.split("# Discharge Summary #\n", 1)[1].split("\n# Task #", 1)[0]
    words = re.findall(r"[A-Za-z0-9]+", note)
    copied = " ".join(words[:12]) if len(words) >= 12 else "no note words"
    citation = cited_event(messages).replace(": noted.", "")
    pairs = [
        {"question": "What was the last event recorded before the note?", "answer": f"The last one was {citation}."},
        {"question": "What did the potassium show?", "answer": "**Laboratory Test Events [1999-01-01 08:00]** showed potassium 9.9 mmol/L."},
        {"question": "How was the stay summarised?", "answer": f"{citation}: {copied}."},
        {"question": "How is the patient?", "answer": "Stable."},
        {"question": "What was the last event recorded before the note?", "answer": f"Again {citation}."},
    ]
    return "Here are the pairs:\n" + "\n".join(json.dumps(pair) for pair in pairs)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def send_json(self, status, payload, headers=()):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if args.require_key and self.headers.get("Authorization") != "Bearer " + args.require_key:
            self.send_json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                           "code": "invalid_api_key"}})
            return
        try:
            request = json.loads(raw)
        except ValueError:
            self.send_json(400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
            return
        n = request.get("n", 1)
        key = hashlib.sha256(json.dumps([request.get("messages"), request.get("seed"), n], sort_keys=True).encode()).hexdigest()[:16]
        prompt_chars = sum(len(m.get("content", "")) for m in request.get("messages", []))
        with lock:
            attempt = attempts.get(key, 0)
            attempts[key] = attempt + 1
        fault = script[attempt] if attempt < len(script) else "ok"
        if args.refuse_grammar and "grammar" in request:
            fault = "refuse_grammar"
        elif args.refuse_n and n > 1:
            fault = "refuse_n"
        elif args.context_chars and prompt_chars > args.context_chars:
            fault = "context"
        entry = {"key": key, "attempt": attempt, "fault": fault, "n": n, "seed": request.get("seed"),
                 "prompt_chars": prompt_chars, "time": time.time()}
        if args.delay:
            time.sleep(args.delay)
        if fault == "429":
            self.send_json(429, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
                           [("Retry-After", "1")])
        elif fault == "500":
            self.send_json(500, {"error": {"message": "The server had an error", "type": "server_error"}})
        elif fault == "stall":
            # Logged before the stall: the client has given up by its end.
            log.write(json.dumps(entry) + "\n")
            time.sleep(args.stall)
            self.close_connection = True
            return
        elif fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif fault == "badjson":
            self.send_json(200, b'{"choices": [{"message": {"content": "trunc')
        elif fault == "refuse_grammar":
            self.send_json(400, {"error": {"code": 400, "message": "Unrecognized request argument supplied: grammar",
                                           "type": "invalid_request_error"}})
        elif fault == "refuse_n":
            self.send_json(400, {"error": {"code": 400, "message": f"Field 'n': Value must be between 1 <= value <= 1, but got {n}",
                                           "type": "invalid_request_error"}})
        elif fault == "context":
            tokens = prompt_chars // 4
            self.send_json(400, {"error": {"code": 400, "message": f"request ({tokens} tokens) exceeds the available context size "
                                           f"({args.context_chars // 4} tokens), try increasing it", "type": "exceed_context_size_error",
                                           "n_prompt_tokens": tokens, "n_ctx": args.context_chars // 4}})
        else:
            answer = expected_answer(request.get("messages", []))
            citation = cited_event(request.get("messages", []))
            if int(key, 16) % 1000 < args.invent * 1000:
                citation = "**Laboratory Test Events [2100-01-01 08:00]**: potassium 9.9 mmol/L, glucose 612 mg/dL."
            if answer and int(key[::-1], 16) % 1000 < args.backwards * 1000:
                citation += "\nThe patient has " + answer[0].lstrip("- ").strip() + "."
            content = ("## Extraction\n" + citation + "\n\n## Reasoning\n"
                       "The findings point to the listed items.\n\n## Final Results\n" + "\n".join(answer))
            last = (request.get("messages") or [{}])[-1].get("content", "")
            if "# Discharge Summary #" in last:
                content = notes_pairs(request.get("messages", []))
            elif last.startswith("Rewrite the question below"):
                # A paraphrase: one in three loses the question's values.
                question = last.rsplit("Question: ", 1)[-1].strip()
                content = "What was measured?" if int(key, 16) % 3 == 0 else "Could you tell me: " + question
            finish = "stop"
            if fault == "length":
                content, finish = content[: len(content) // 2], "length"
            elif fault == "filtered":
                content, finish = "", "content_filter"
            choices = [{"index": i, "finish_reason": finish, "message": {"role": "assistant", "content": content}} for i in range(n)]
            self.send_json(200, {"id": "chatcmpl-" + key, "object": "chat.completion", "model": request.get("model", ""),
                                 "choices": choices,
                                 "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": 20 * n,
                                           "total_tokens": prompt_chars // 4 + 20 * n}})
            entry["success"] = n
        log.write(json.dumps(entry) + "\n")


# A parent that blocks SIGTERM (a test runner's thread) passes the mask on:
# unblock it so terminating this server works.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
# A client with 64 requests in flight: socketserver's backlog of 5 would
# refuse connections and leave the client backing off.
ThreadingHTTPServer.request_queue_size = 256
server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
