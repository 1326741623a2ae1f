"""Runs openai_sdk_test.mjs against `r1 serve`: run_openai_sdk_test.py R1_BINARY TEST.mjs.

Installs OpenAI's Node client (npm package `openai`) into R1_NODE_DIR on first use. Skips (77)
when node or npm is not installed, or the shared test data is absent; a failed install skips
too, except under CI (the CI environment variable set), where it fails.
"""
import os
import shutil
import subprocess
import sys
import tempfile

from serve_util import CHAT_TEMPLATE, MODEL, Server

SKIP = 77
KEY = "sdk-test-key"


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def install_client(node_dir):
    if os.path.isfile(os.path.join(node_dir, "node_modules", "openai", "package.json")):
        return
    os.makedirs(node_dir, exist_ok=True)
    p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", node_dir, "openai"],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        message = "npm install openai failed:\n" + p.stdout + p.stderr
        if os.environ.get("CI"):
            sys.exit(message)
        skip(message)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: run_openai_sdk_test.py R1_BINARY TEST.mjs")
    r1, script = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if shutil.which("node") is None or shutil.which("npm") is None:
        skip("node and npm are needed for the OpenAI client test")
    if not os.path.isfile(MODEL):
        skip(f"the shared test models are not in R1_SHARED_DIR ({os.environ.get('R1_SHARED_DIR') or 'unset'})")
    node_dir = os.environ.get("R1_NODE_DIR") or os.path.join(tempfile.gettempdir(), "r1-openai-node")
    install_client(node_dir)
    with tempfile.TemporaryDirectory() as tmp:
        template = os.path.join(tmp, "chat.jinja")
        with open(template, "w") as f:
            f.write(CHAT_TEMPLATE)
        server = Server(r1, "--api-key", KEY, "-t", "2", "--ctx-per-slot", "2048", "--template-file", template)
        try:
            env = dict(os.environ, R1_BASE_URL=f"http://127.0.0.1:{server.port}/v1", R1_KEY=KEY,
                       R1_NODE_DIR=node_dir)
            p = subprocess.run(["node", script], env=env, timeout=300)
        finally:
            server.stop()
    if p.returncode != 0:
        print("".join(server.log), file=sys.stderr)
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
