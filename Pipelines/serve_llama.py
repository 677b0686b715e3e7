#!/usr/bin/env python3
"""Serves a GGUF model over llama.cpp's own OpenAI-compatible HTTP server
(the xllamacpp wheel embeds it) on 127.0.0.1; prints the base URL once
listening and serves until killed."""
import argparse
import signal
import sys
import time

import xllamacpp

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--port", type=int, default=8080)
parser.add_argument("--ctx", type=int, default=2048, help="context size in tokens")
parser.add_argument("--threads", type=int, default=1, help="compute threads (1 is fastest on a busy 2-core machine)")
parser.add_argument("--parallel", type=int, default=1, help="requests decoded at once (slots)")
args = parser.parse_args()

params = xllamacpp.CommonParams()
params.model.path = args.model
params.port = args.port
params.n_ctx = args.ctx * args.parallel
params.n_parallel = args.parallel
params.cpuparams.n_threads = args.threads
params.cpuparams_batch.n_threads = args.threads
server = xllamacpp.Server(params)
print(f"http://127.0.0.1:{args.port}/v1", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
# A parent that blocks SIGTERM (a test runner's thread) passes the mask on.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
while True:
    time.sleep(3600)
