#!/usr/bin/env python3
"""Renders test conversations with the models' own Jinja chat templates.

Writes data/chat_cases.json: for each template and conversation, the exact prompt Hugging Face
transformers' apply_chat_template produces (jinja2 sandbox, trim_blocks, lstrip_blocks,
loopcontrols). The DeepSeek templates are read from the shared test data; Qwen2.5's from the
qwen2 vocabulary GGUF; Llama 3 Instruct's and plain ChatML's are the published ones below.

    python3 test/tokenize/make_chat_cases.py --shared ../shared
"""
import argparse
import json
import os
import struct
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

LLAMA3_INSTRUCT = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}")

CONVERSATIONS = {
    "single_user": [{"role": "user", "content": "Hello! Who are you?"}],
    "system_and_user": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?"}],
    "multi_turn_thinking": [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>\nTrivial.\n</think>\n\n4"},
        {"role": "user", "content": "And 3+3?"},
        {"role": "assistant", "content": "<think>\nAlso trivial.\n</think>\n\n6"},
        {"role": "user", "content": "Now explain why, in one line."}],
    "two_system_prompts": [
        {"role": "system", "content": "First rule."},
        {"role": "user", "content": "Hi"},
        {"role": "system", "content": "Second rule."},
        {"role": "user", "content": "Again"}],
    "several_think_blocks": [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "<think>a</think>b</think>  final answer "},
        {"role": "user", "content": "Q2"}],
    "assistant_without_think": [
        {"role": "user", "content": "Say hi"},
        {"role": "assistant", "content": "hi"},
        {"role": "user", "content": "Say bye"}],
    "ends_with_assistant": [
        {"role": "user", "content": "Count to three."},
        {"role": "assistant", "content": "<think>easy</think>1, 2, 3."}],
    "whitespace_and_unicode": [
        {"role": "system", "content": "  \n 系统提示 \t"},
        {"role": "user", "content": "\u00a0 Ünïcödé — 🦙 ｜User｜ \n\n"},
        {"role": "assistant", "content": "\n<think>\n思考\n</think>\n\n  答案\n"},
        {"role": "user", "content": ""}],
    "consecutive_users": [
        {"role": "user", "content": "part one"},
        {"role": "user", "content": "part two"}],
    "tool_results": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "tool", "content": "{\"temp\": 21}"},
        {"role": "tool", "content": "{\"sky\": \"clear\"}"},
        {"role": "assistant", "content": "It is 21 and clear."},
        {"role": "user", "content": "Thanks"}],
    "tool_last": [
        {"role": "user", "content": "Look it up"},
        {"role": "tool", "content": "result"}],
    "system_only": [{"role": "system", "content": "Only a system prompt."}],
}

# Conversations each template can render (Llama 3 and ChatML render any role name; the tool
# role goes to the templates that have it).
SKIP = {
    "llama3": {"tool_results", "tool_last"},
    "chatml": {"tool_results", "tool_last"},
}


def read_gguf_string(path, key):
    with open(path, "rb") as f:
        data = f.read()
    pos = 4 + 4 + 8
    n_kv = struct.unpack_from("<Q", data, pos)[0]
    pos += 8
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(t):
        nonlocal pos
        if t == 8:
            n = struct.unpack_from("<Q", data, pos)[0]
            pos += 8 + n
        elif t == 9:
            it, n = struct.unpack_from("<IQ", data, pos)
            pos += 12
            for _ in range(n):
                skip(it)
        else:
            pos += sizes[t]

    for _ in range(n_kv):
        n = struct.unpack_from("<Q", data, pos)[0]
        k = data[pos + 8:pos + 8 + n].decode()
        pos += 8 + n
        t = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        if k == key and t == 8:
            n = struct.unpack_from("<Q", data, pos)[0]
            return data[pos + 8:pos + 8 + n].decode()
        skip(t)
    raise KeyError(key)


def render(source, messages, add_generation_prompt, bos, eos):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False, **kw)
    return env.from_string(source).render(messages=messages, add_generation_prompt=add_generation_prompt,
                                          bos_token=bos, eos_token=eos)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "data", "chat_cases.json"))
    a = ap.parse_args()
    t = os.path.join(a.shared, "templates")
    with open(os.path.join(t, "deepseek-ai-DeepSeek-R1.hf.jinja"), encoding="utf-8", newline="") as f:
        r1 = f.read()
    with open(os.path.join(t, "deepseek-ai-DeepSeek-R1-Distill.hf-original@c7f460ab.jinja"),
              encoding="utf-8", newline="") as f:
        distill = f.read()
    with open(os.path.join(t, "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja"), encoding="utf-8",
              newline="") as f:
        distill_llama = f.read()
    qwen = read_gguf_string(os.path.join(a.shared, "vocab", "qwen2.vocab.gguf"), "tokenizer.chat_template")
    ds_bos, ds_eos = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
    templates = [
        ("deepseek-r1", r1, ds_bos, ds_eos),
        ("deepseek-r1-distill", distill, ds_bos, ds_eos),
        ("deepseek-r1-distill", distill_llama, ds_bos, ds_eos),
        ("llama3", LLAMA3_INSTRUCT, "<|begin_of_text|>", "<|eot_id|>"),
        ("chatml", CHATML, "", "<|im_end|>"),
        ("qwen2", qwen, "", "<|im_end|>"),
    ]
    cases = []
    for name, source, bos, eos in templates:
        for conv, messages in CONVERSATIONS.items():
            if conv in SKIP.get(name, ()):
                continue
            for gen in (True, False):
                cases.append({
                    "template": name,
                    "conversation": conv,
                    "add_generation_prompt": gen,
                    "bos_token": bos,
                    "messages": messages,
                    "prompt": render(source, messages, gen, bos, eos),
                })
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        json.dump({"how_made": "test/tokenize/make_chat_cases.py (jinja2 %s)" % jinja2.__version__,
                   "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("%d cases -> %s" % (len(cases), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
