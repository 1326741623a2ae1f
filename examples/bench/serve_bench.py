#!/usr/bin/env python3
"""Aggregate decode speed of `r1 serve` with N concurrent clients, and time to first token of a
short request while a long prompt is prefilled for another client.

Starts the server itself on a free loopback port and talks plain HTTP (standard library only):

  python3 examples/bench/serve_bench.py build/examples/cli/r1 model.gguf --clients 1,2,4,8 -t 2

Every client streams one /v1/completions request of --tokens tokens (greedy, so lengths are equal).
Two figures: "end to end" is all generated tokens divided by the wall time from the first request
sent to the last stream closed (prompts included); "decoding together" counts the streamed pieces
that arrive while every client is decoding (after the last first token, before the first stream
ends) per second of that window: the batched decode speed alone. A warm-up request runs first.
"""
import argparse
import http.client
import json
import re
import subprocess
import sys
import threading
import time


def start_server(r1, model, args):
    cmd = [r1, "serve", model, "--port", "0", "--parallel", str(args.parallel), "-t", str(args.threads),
           "--ctx-per-slot", str(args.ctx)] + args.server_arg
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    for line in proc.stdout:
        m = re.search(r"https?://[^:]+:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        sys.exit("serve_bench: the server did not start: " + " ".join(cmd))
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    sys.exit("serve_bench: the server never became ready")


def stream_completion(port, prompt, max_tokens, out):
    """Streams one completion; appends (seconds to first token, tokens, seconds, piece arrival
    times, prompt tokens) to out."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    c.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
    first = None
    tokens = prompt = 0
    arrivals = []
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[6:])
        if event.get("choices") and event["choices"][0].get("text"):
            arrivals.append(time.monotonic())
            if first is None:
                first = arrivals[-1] - t0
        if event.get("usage"):
            tokens, prompt = event["usage"]["completion_tokens"], event["usage"]["prompt_tokens"]
    out.append((first, tokens, time.monotonic() - t0, arrivals, prompt))


def aggregate(port, n_clients, max_tokens):
    results = []
    threads = [threading.Thread(target=stream_completion,
                                args=(port, f"Client {i} asks about the weather in city {i}.", max_tokens, results))
               for i in range(n_clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    start = max(r[3][0] for r in results)  # every client has its first piece
    end = min(r[3][-1] for r in results)  # no client has finished yet
    together = sum(1 for r in results for a in r[3] if start < a <= end)
    steady = together / (end - start) if end > start and together else float("nan")
    return sum(r[1] for r in results) / wall, steady


def prompt_tokens(port, prompt):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", "/v1/completions", json.dumps({"prompt": prompt, "max_tokens": 1, "temperature": 0}),
              {"Content-Type": "application/json"})
    return json.loads(c.getresponse().read())["usage"]["prompt_tokens"]


def prompt_of_tokens(port, n_tokens):
    """A prompt of about n_tokens tokens of the server's tokenizer (sized from a probe)."""
    words = lambda n: " ".join(f"word{i % 97}" for i in range(n))
    per_word = prompt_tokens(port, words(200)) / 200
    return words(int(n_tokens / per_word))


def first_token_during_long_prompt(port, long_tokens):
    """Seconds to the first token of a short request alone and while a long prompt is being
    prefilled for another client; the long prompt's tokens and seconds."""
    alone = []
    stream_completion(port, "Hello there.", 4, alone)
    busy, long_one = [], []
    background = threading.Thread(target=stream_completion,
                                  args=(port, prompt_of_tokens(port, long_tokens), 4, long_one))
    background.start()
    time.sleep(1.0)  # the long prompt is being prefilled by now
    stream_completion(port, "Hello there.", 4, busy)
    background.join()
    return alone[0][0], busy[0][0], long_one[0][4], long_one[0][2]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("r1")
    ap.add_argument("model")
    ap.add_argument("--clients", default="1,2,4,8", help="comma-separated client counts")
    ap.add_argument("--tokens", type=int, default=64, help="tokens each client generates")
    ap.add_argument("--rounds", type=int, default=1, help="measurements per client count")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=4608)
    ap.add_argument("--long-prompt", type=int, default=4000, help="tokens (about) of the long prompt; 0 skips")
    ap.add_argument("--server-arg", action="append", default=[], help="extra argument for r1 serve")
    args = ap.parse_args()
    proc, port = start_server(args.r1, args.model, args)
    try:
        aggregate(port, 1, 8)  # warm-up
        base = None
        print("| clients | end to end, tok/s | relative | decoding together, tok/s | relative |")
        print("|---|---|---|---|---|")
        for n in (int(c) for c in args.clients.split(",")):
            runs = [aggregate(port, n, args.tokens) for _ in range(args.rounds)]
            best = (max(r[0] for r in runs), max(r[1] for r in runs))
            base = base or best
            print(f"| {n} | {' / '.join(f'{r[0]:.1f}' for r in runs)} | {best[0] / base[0]:.2f}x | "
                  f"{' / '.join(f'{r[1]:.1f}' for r in runs)} | {best[1] / base[1]:.2f}x |", flush=True)
        if args.long_prompt:
            alone, busy, long_prompt, long_seconds = first_token_during_long_prompt(port, args.long_prompt)
            print(f"time to first token: {alone:.2f} s alone, {busy:.2f} s while another client's "
                  f"{long_prompt}-token prompt is prefilled (that request took {long_seconds:.1f} s)")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
