"""Starting `r1 serve` for the tests and talking to it over plain HTTP."""
import http.client
import json
import os
import re
import subprocess
import threading
import time

SHARED = os.environ.get("R1_SHARED_DIR", "")
# A tiny qwen2 model whose vocabulary has <|im_start|>, <|im_end|>, <think> and </think>, and
# no chat template of its own: the tests give it CHAT_TEMPLATE, which opens a thought, so
# answers have reasoning (cut by a reasoning budget) and then content.
MODEL = os.path.join(SHARED, "reference", "qwen2-dev.F32.gguf")
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}")


class Server:
    """`r1 serve` on a free loopback port; stop() ends it."""

    def __init__(self, r1, *args, model=MODEL, env=None, wait_ready=True):
        full_env = dict(os.environ)
        full_env.pop("R1_API_KEY", None)
        full_env.update(env or {})
        self.proc = subprocess.Popen([r1, "serve", model, "--port", "0", *args], stderr=subprocess.PIPE,
                                     env=full_env)
        self.log = []
        self.port = None
        ready = threading.Event()
        listening = threading.Event()

        def read_log():
            for raw in self.proc.stderr:
                line = raw.decode(errors="replace")
                self.log.append(line)
                m = re.search(r"listening on http://[^:]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    listening.set()
                if "r1 serve: ready" in line:
                    ready.set()
            listening.set()
            ready.set()

        self.reader = threading.Thread(target=read_log, daemon=True)
        self.reader.start()
        if not listening.wait(30) or self.port is None:
            self.stop()
            raise RuntimeError("r1 serve did not start: " + "".join(self.log))
        if wait_ready and (not ready.wait(60) or self.proc.poll() is not None):
            self.stop()
            raise RuntimeError("r1 serve did not load the model: " + "".join(self.log))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(10)
        self.proc.stderr.close()
        return self.proc.returncode

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers, body bytes) of one request on a new connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            all_headers = {"Content-Type": "application/json"}
            all_headers.update(headers or {})
            conn.request(method, path, body=data, headers=all_headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def post(self, path, body, headers=None, timeout=60):
        status, _, data = self.request("POST", path, body, headers, timeout)
        return status, json.loads(data) if data else None

    def stream(self, path, body, headers=None, timeout=60):
        """(status, the JSON of every data event, whether it ended with [DONE])."""
        status, _, data = self.request("POST", path, body, headers, timeout)
        events, done = [], False
        for block in data.decode().split("\n\n"):
            if not block.startswith("data: "):
                continue
            payload = block[len("data: "):]
            if payload == "[DONE]":
                done = True
            else:
                events.append(json.loads(payload))
        return status, events, done

    def metric(self, name, headers=None):
        _, _, data = self.request("GET", "/metrics", headers=headers)
        for line in data.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise KeyError(name)

    def wait_for(self, condition, seconds=10):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if condition():
                return True
            time.sleep(0.05)
        return False
