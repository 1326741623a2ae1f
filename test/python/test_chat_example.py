"""examples/python/chat.py on a model without a chat template: a message and plain completion,
never a traceback."""
import os
import subprocess
import sys

CHAT_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python", "chat.py")


def run_chat(*args):
    return subprocess.run([sys.executable, CHAT_PY, *args], capture_output=True, text=True, timeout=120)


def test_model_without_template_falls_back_to_completion(stories_path):
    p = run_chat(stories_path, "-p", "Once upon a time", "--max-tokens", "8", "--color", "never")
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert "no chat template" in p.stderr
    assert "plain text" in p.stderr
    assert p.stdout.strip()
    assert "(8 tokens" in p.stderr


def test_unknown_template_is_a_clear_error(stories_path):
    p = run_chat(stories_path, "-p", "hi", "--template", "no-such-template")
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert "no-such-template" in p.stderr
