"""The r1 command-line tool, run as a user runs it: test_cli.py R1_BINARY.

Reads the shared test data from R1_SHARED_DIR and exits with 77 (skipped) when it is absent.
"""
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import tempfile
import unittest

import gguf_edit

R1 = ""
SHARED = os.environ.get("R1_SHARED_DIR", "")
STORIES = os.path.join(SHARED, "models", "stories260K-q8dequant.gguf")
# Random weights and a 32K vocabulary: slow enough to interrupt, and it never ends by itself
# with the seed used below.
LLAMA_RANDOM = os.path.join(SHARED, "models", "llama-2-tiny-random.gguf")
# Has <think> and </think> tokens, so a raw prompt ending in <think> makes it reason.
QWEN2 = os.path.join(SHARED, "reference", "qwen2-dev.F32.gguf")
COMMANDS = ["info", "gpus", "run", "chat", "generate", "logits", "tokenize", "detokenize", "template", "bench",
            "quantize", "split", "mkmodel"]
SUMMARY = re.compile(rb"^(\d+) prompt tokens \((\d+) computed\), (\d+) generated .*\| seed (\d+) \| stop: (.+)$",
                     re.M)


def r1(*args, stdin=b"", env=None, timeout=120):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([R1, *args], input=stdin, capture_output=True, env=full_env, timeout=timeout)


def summaries(stderr):
    return SUMMARY.findall(stderr)


class NumberFlags(unittest.TestCase):
    def assert_usage_error(self, args, flag, value):
        p = r1(*args)
        self.assertEqual(p.returncode, 2, f"r1 {' '.join(args)}: {p.stderr!r}")
        self.assertIn(flag.encode(), p.stderr)
        self.assertIn(f"'{value}'".encode(), p.stderr)

    def test_run_and_chat_flags(self):
        for command in ["run", "chat"]:
            prompt = ["-p", "Once"] if command == "run" else []
            for flag, value in [("-n", "nan"), ("-n", "1.5"), ("-n", "-3"), ("-n", "12abc"),
                                ("-n", "99999999999999999999"), ("--temp", "inf"), ("--temp", "nan"),
                                ("--temp", "-1"), ("--top-k", "2.5"), ("--top-p", "1.5"), ("--min-p", "nan"),
                                ("--seed", "-1"), ("--seed", "1e3"), ("--think-budget", "-2"), ("-t", "0"),
                                ("--threads", "2.5"), ("--ctx", "0x10"), ("--ctx", "-1")]:
                with self.subTest(command=command, flag=flag, value=value):
                    self.assert_usage_error([command, STORIES, *prompt, flag, value], flag, value)

    def test_other_commands(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            cases = [
                (["generate", STORIES, "-p", "Once", "-n", "1.5"], "-n", "1.5"),
                (["generate", STORIES, "--tokens", "1,x"], "--tokens", "1,x"),
                (["generate", STORIES, "-p", "Once", "--gpu-layers", "-3"], "--gpu-layers", "-3"),
                (["logits", STORIES, "--tokens", "1", "--out", out, "--gpu-device", "x"], "--gpu-device", "x"),
                (["logits", STORIES, "--tokens", "1,-2", "--out", out], "--tokens", "1,-2"),
                (["logits", STORIES, "--tokens", "1", "--out", out, "-t", "nan"], "-t", "nan"),
                (["bench", STORIES, "-p", "nan"], "-p", "nan"),
                (["bench", STORIES, "-n", "4", "-r", "0"], "-r", "0"),
                (["bench", STORIES, "-n", "4", "-t", "2.5"], "-t", "2.5"),
                (["mkmodel", "--preset", "r1-distill-qwen-1.5b", "--layers", "1.5", out], "--layers", "1.5"),
                (["mkmodel", "--preset", "r1-distill-qwen-1.5b", "--seed", "-1", out], "--seed", "-1"),
                (["mkmodel", "--preset", "r1-distill-qwen-1.5b", "--type", "Q9", out], "--type", "Q9"),
                (["mkmodel", "--preset", "r1-distill-qwen-1.5b", "--vocab", "100", out], "--vocab", "100"),
                (["mkmodel", "--preset", "r1-distill-qwen-1.5b", "--successor", "x", out], "--successor", "x"),
                (["mkmodel", "--preset", "r1-distill-qwen-1.5b", "--successor", "7", "--successor-change", "1.5",
                  out], "--successor-change", "1.5"),
            ]
            for args, flag, value in cases:
                with self.subTest(args=args):
                    self.assert_usage_error(args, flag, value)
            self.assertFalse(os.path.exists(out))

    def test_unknown_option_is_a_usage_error(self):
        p = r1("run", STORIES, "-p", "x", "--bogus")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--bogus", p.stderr)

    def test_gpus_lists_or_says_there_are_none(self):
        p = r1("gpus")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.decode().splitlines()
        for i, line in enumerate(lines):
            index, kind, memory, name = line.split("\t")
            self.assertEqual(index, str(i))
            self.assertIn(kind, ["discrete", "integrated", "virtual", "cpu", "other"])
            self.assertRegex(memory, r"^\d+ MiB$")
            self.assertTrue(name)
        if not lines:
            self.assertIn(b"none", p.stderr)
        self.assertEqual(r1("gpus", "extra").returncode, 2)


class Help(unittest.TestCase):
    def test_every_command_has_help(self):
        for command in COMMANDS:
            for flag in ["--help", "-h"]:
                with self.subTest(command=command, flag=flag):
                    p = r1(command, flag)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertTrue(p.stdout.startswith(f"usage: r1 {command}".encode()), p.stdout)
                    self.assertIn(b"example:", p.stdout)

    def test_help_lists_options_with_defaults(self):
        text = r1("run", "--help").stdout.decode()
        for option in ["-p", "-f", "--json", "-n", "--seed", "--temp", "--top-k", "--top-p", "--min-p",
                       "--think-budget", "--hide-thinking", "--system", "--template", "--no-chat", "--threads",
                       "--ctx", "--cache-type"]:
            self.assertIn(option, text)
        self.assertIn("(default: 0.6)", text)

    def test_main_help_and_version(self):
        p = r1("--help")
        self.assertEqual(p.returncode, 0)
        for command in COMMANDS:
            self.assertIn(command.encode(), p.stdout)
        self.assertIn(b"--cache-type", p.stdout)
        self.assertIn(b"default: f16", p.stdout)
        v = r1("--version")
        self.assertEqual(v.returncode, 0)
        self.assertRegex(v.stdout.decode(), r"^r1 \d+\.\d+\.\d+\n$")

    def test_help_after_a_value_taking_flag_is_the_value(self):
        p = r1("run", STORIES, "--no-chat", "--temp", "0", "-n", "3", "-p", "-h")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(p.stdout.startswith(b"usage:"))

    def test_double_dash_ends_options(self):
        p = r1("tokenize", STORIES, "--", "-h")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout.decode(), r"^[\d ]+\n$")


class Prompts(unittest.TestCase):
    def test_prompt_from_file_and_stdin(self):
        settings = ["--temp", "0", "-n", "12"]
        expected = r1("run", STORIES, "-p", "Once upon a time", *settings).stdout
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("Once upon a time\n")
            f.flush()
            from_file = r1("run", STORIES, "-f", f.name, *settings)
            self.assertEqual(from_file.returncode, 0, from_file.stderr)
            self.assertEqual(from_file.stdout, expected)
            generate_file = r1("generate", STORIES, "-f", f.name, "-n", "4")
            self.assertEqual(generate_file.returncode, 0, generate_file.stderr)
            self.assertEqual(generate_file.stdout, r1("generate", STORIES, "-p", "Once upon a time", "-n", "4").stdout)
        from_stdin = r1("run", STORIES, "-p", "-", *settings, stdin=b"Once upon a time\n")
        self.assertEqual(from_stdin.returncode, 0, from_stdin.stderr)
        self.assertEqual(from_stdin.stdout, expected)
        both = r1("run", STORIES, "-p", "x", "-f", "y")
        self.assertEqual(both.returncode, 2)


class Output(unittest.TestCase):
    def test_summary_never_shares_a_line_with_the_answer(self):
        p = subprocess.run([R1, "run", STORIES, "-p", "Once upon a time", "--temp", "0", "-n", "7"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(p.returncode, 0)
        lines = p.stdout.splitlines()
        self.assertRegex(lines[-1].decode(), r"^\d+ prompt tokens")
        self.assertNotIn(b"prompt tokens", b"\n".join(lines[:-1]))

    def test_piped_reasoning_is_marked(self):
        p = r1("run", QWEN2, "--no-chat", "-p", "<think>", "--temp", "0", "-n", "12")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.decode().split("\n")
        self.assertEqual(lines[0], "<think>")
        self.assertIn("</think>", lines)
        self.assertNotIn("\x1b[", p.stdout.decode())

    def test_json_events(self):
        p = r1("run", QWEN2, "--no-chat", "-p", "<think>", "--temp", "0", "-n", "12", "--seed", "42", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        events = [json.loads(line) for line in p.stdout.decode().splitlines()]
        self.assertEqual(events[0]["type"], "reasoning")
        self.assertTrue(all(e["type"] in ("reasoning", "content") and isinstance(e["text"], str)
                            for e in events[:-1]))
        done = events[-1]
        self.assertEqual(done["type"], "done")
        self.assertEqual(done["seed"], 42)
        self.assertEqual(done["stop_reason"], "max_tokens")
        self.assertEqual(done["usage"]["generated_tokens"], 12)

    def run_on_terminal(self, env):
        """r1 run with stdout on a pseudo-terminal; returns what the terminal received."""
        master, slave = pty.openpty()
        full_env = dict(os.environ)
        full_env.pop("NO_COLOR", None)
        full_env.update(env)
        proc = subprocess.Popen([R1, "run", QWEN2, "--no-chat", "-p", "<think>", "--temp", "0", "-n", "8"],
                                stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.DEVNULL, env=full_env)
        os.close(slave)
        received = b""
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            received += chunk
        os.close(master)
        self.assertEqual(proc.wait(timeout=60), 0)
        return received

    def test_colour_follows_no_color_and_term(self):
        self.assertIn(b"\x1b[2m", self.run_on_terminal({"TERM": "xterm"}))
        self.assertNotIn(b"\x1b[", self.run_on_terminal({"TERM": "xterm", "NO_COLOR": "1"}))
        self.assertNotIn(b"\x1b[", self.run_on_terminal({"TERM": "dumb"}))

    def test_ctrl_c_stops_run_cleanly(self):
        proc = subprocess.Popen([R1, "run", LLAMA_RANDOM, "-p", "Once upon a time", "--seed", "1", "--temp", "1"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = proc.stdout.read(1)  # generation has started
        self.assertTrue(first)
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 130, err)
        self.assertTrue((first + rest).endswith(b"\n"))
        self.assertIn(b"stop: cancelled", err)


class Seeds(unittest.TestCase):
    def test_random_seed_unless_given(self):
        seeds = []
        for _ in range(2):
            p = r1("run", STORIES, "-p", "Once", "-n", "4")
            self.assertEqual(p.returncode, 0, p.stderr)
            seeds.append(summaries(p.stderr)[0][3])
        self.assertNotEqual(seeds[0], seeds[1])
        given = [r1("run", STORIES, "-p", "Once", "-n", "16", "--temp", "1", "--seed", "7") for _ in range(2)]
        self.assertEqual(summaries(given[0].stderr)[0][3], b"7")
        self.assertEqual(given[0].stdout, given[1].stdout)


class Templates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.custom = os.path.join(cls.tmp.name, "custom-template.gguf")
        gguf_edit.add_string(STORIES, cls.custom, "tokenizer.chat_template",
                             "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_a_template_outside_the_built_in_families_is_rendered(self):
        messages = os.path.join(self.tmp.name, "messages.json")
        with open(messages, "w") as f:
            json.dump([{"role": "system", "content": "S"}, {"role": "user", "content": "hello"}], f)
        p = r1("template", self.custom, "--messages", messages)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"[system] S\n[user] hello\n", p.stdout)
        for command, stdin in [("run", b""), ("chat", b"hello\n")]:
            args = [command, self.custom, "-n", "4"] + (["-p", "Once"] if command == "run" else [])
            for choice in [[], ["--no-chat"], ["--template", "chatml"]]:
                with self.subTest(command=command, choice=choice):
                    ok = r1(*args, *choice, stdin=stdin)
                    self.assertEqual(ok.returncode, 0, ok.stderr)
                    self.assertEqual(len(summaries(ok.stderr)), 1)

    def test_template_file_replaces_the_models_template(self):
        messages = os.path.join(self.tmp.name, "messages.json")
        with open(messages, "w") as f:
            json.dump([{"role": "user", "content": "hello"}], f)
        template = os.path.join(self.tmp.name, "mine.jinja")
        with open(template, "w") as f:
            f.write("{{ bos_token }}{% for m in messages %}<{{ m.role }}|{{ m.content|upper }}>{% endfor %}"
                    "{% if add_generation_prompt %}<assistant|{% endif %}\n")
        p = r1("template", STORIES, "--messages", messages, "--template-file", template)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, b"<s><user|HELLO><assistant|")
        p = r1("template", self.custom, "--messages", messages, "--template-file", template, "--no-generation-prompt")
        self.assertEqual(p.stdout, b"<s><user|HELLO>")
        for command, stdin in [("run", b""), ("chat", b"hello\n")]:
            args = [command, STORIES, "-n", "4", "--template-file", template] + (["-p", "Once"] if command == "run" else [])
            with self.subTest(command=command):
                ok = r1(*args, stdin=stdin)
                self.assertEqual(ok.returncode, 0, ok.stderr)
                self.assertEqual(len(summaries(ok.stderr)), 1)
                both = r1(*args, "--template", "chatml", stdin=stdin)
                self.assertEqual(both.returncode, 2)  # a usage error
                self.assertIn(b"exclude each other", both.stderr)
        missing = r1("run", STORIES, "-n", "4", "-p", "Once", "--template-file", template + ".missing")
        self.assertEqual(missing.returncode, 2)
        self.assertIn(b"cannot read", missing.stderr)

    def test_a_broken_template_is_reported(self):
        broken = os.path.join(self.tmp.name, "broken-template.gguf")
        gguf_edit.add_string(STORIES, broken, "tokenizer.chat_template", "{% for m in messages %}never closed")
        p = r1("run", broken, "-n", "4", "-p", "Once")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"chat template line 1", p.stderr)
        self.assertIn(b"endfor", p.stderr)


class Chat(unittest.TestCase):
    def chat(self, stdin, *extra, cwd=None):
        return subprocess.run([R1, "chat", STORIES, "--temp", "0", "-n", "6", *extra], input=stdin,
                              capture_output=True, timeout=120, cwd=cwd)

    def test_commands_never_reach_the_model(self):
        p = self.chat(b"/foo\n/save\n/load\n/help\n")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(summaries(p.stderr), [])
        self.assertIn(b"unknown command /foo", p.stderr)
        self.assertIn(b"/save needs a FILE", p.stderr)
        self.assertIn(b"/load FILE", p.stderr)  # the /help text

    def test_raw_chat_puts_each_input_on_its_own_line(self):
        p = self.chat(b"Once upon a time\nShe\n")
        first, second = summaries(p.stderr)
        answer = p.stdout.split(b"\n")[0]
        expected = b"Once upon a time" + answer + b"\nShe"
        ids = r1("tokenize", STORIES, expected).stdout.split()
        self.assertEqual(int(second[0]), len(ids))

    def test_load_continues_the_conversation(self):
        for extra in [[], ["--template", "chatml"]]:
            with self.subTest(extra=extra), tempfile.TemporaryDirectory() as tmp:
                saved = self.chat(b"Once upon a time\n/save state\n", *extra, cwd=tmp)
                self.assertIn(b"saved state", saved.stderr)
                (first,) = summaries(saved.stderr)
                loaded = self.chat(b"/load state\nShe\n", *extra, cwd=tmp)
                self.assertIn(b"loaded state", loaded.stderr)
                (second,) = summaries(loaded.stderr)
                # The new turn's prompt holds the whole earlier exchange, already in the cache.
                self.assertGreater(int(second[0]), int(first[0]) + int(first[2]))
                self.assertLess(int(second[1]), int(second[0]) - int(first[0]))

    def test_multi_line_messages(self):
        with tempfile.TemporaryDirectory() as tmp:
            stdin = b'"""\nfirst line\nsecond line\n"""\nthird \\\nfourth\n/save state\n'
            p = self.chat(stdin, "--template", "chatml", cwd=tmp)
            self.assertEqual(len(summaries(p.stderr)), 2, p.stderr)
            with open(os.path.join(tmp, "state.chat.json")) as f:
                users = [m["content"] for m in json.load(f)["messages"] if m["role"] == "user"]
            self.assertEqual(users, ["first line\nsecond line", "third \nfourth"])

    def test_save_to_a_missing_folder_names_only_the_path(self):
        p = self.chat(b"/save /nonexistent/state\n")
        self.assertIn(b"/nonexistent/state", p.stderr)
        self.assertNotIn(b".tmp", p.stderr)


class Files(unittest.TestCase):
    def test_logits_checks_its_output_before_computing(self):
        # An id outside the vocabulary would fail the computation: the path is reported first.
        p = r1("logits", STORIES, "--tokens", "999999", "--out", "/nonexistent/x")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"cannot write '/nonexistent/x'", p.stderr)

    def test_mkmodel_reports_the_path_it_was_given(self):
        p = r1("mkmodel", "--preset", "r1-distill-qwen-1.5b", "--layers", "1", "/nonexistent/x.gguf")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"'/nonexistent/x.gguf'", p.stderr)
        self.assertNotIn(b".tmp", p.stderr)

    def test_bench_json_for_any_path(self):
        with tempfile.TemporaryDirectory() as tmp:
            odd = os.path.join(tmp, 'a "quoted\\ name\twith tab.gguf')
            os.symlink(STORIES, odd)
            p = r1("bench", odd, "-p", "4", "-n", "2", "-r", "1", "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            rows = [json.loads(line) for line in p.stdout.decode().splitlines()]
            self.assertEqual([r["test"] for r in rows], ["pp4", "tg2"])
            self.assertTrue(all(r["model_file"] == odd for r in rows))


class Split(unittest.TestCase):
    def test_split_then_run_and_info_from_any_shard(self):
        with tempfile.TemporaryDirectory() as tmp:
            prefix = os.path.join(tmp, "stories")
            p = r1("split", STORIES, prefix, "--max-tensors", "10")
            self.assertEqual(p.returncode, 0, p.stderr)
            shards = p.stdout.decode().split()
            self.assertGreater(len(shards), 2)
            self.assertEqual(shards[0], f"{prefix}-00001-of-{len(shards):05d}.gguf")
            info = r1("info", shards[-1])
            self.assertEqual(info.returncode, 0, info.stderr)
            self.assertIn(f"files: {len(shards)} shards".encode(), info.stdout)
            for shard in shards:
                self.assertIn(shard.encode(), info.stdout)
            want = r1("run", STORIES, "--no-chat", "-p", "Once upon a time", "-n", "12", "--seed", "3")
            got = r1("run", shards[1], "--no-chat", "-p", "Once upon a time", "-n", "12", "--seed", "3")
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout, want.stdout)
            # Existing shards are kept unless --force; a missing shard is named.
            again = r1("split", STORIES, prefix, "--max-tensors", "10")
            self.assertEqual(again.returncode, 1)
            self.assertIn(b"--force", again.stderr)
            os.remove(shards[1])
            missing = r1("run", shards[0], "--no-chat", "-p", "x", "-n", "1")
            self.assertEqual(missing.returncode, 1)
            self.assertIn(shards[1].encode(), missing.stderr)

    def test_split_needs_a_limit(self):
        p = r1("split", STORIES, "/tmp/never")
        self.assertEqual(p.returncode, 2)
        p = r1("split", STORIES, "/tmp/never", "--max-size", "12X")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--max-size", p.stderr)


class SpeculativeDecoding(unittest.TestCase):
    def test_a_draft_keeps_the_output_and_is_counted(self):
        args = ["run", STORIES, "--no-chat", "-p", "Once upon a time", "-n", "40", "--temp", "0.7", "--seed", "4",
                "--json"]
        alone = r1(*args)
        self.assertEqual(alone.returncode, 0, alone.stderr)
        drafted = r1(*args, "--draft", STORIES, "--draft-max", "4")
        self.assertEqual(drafted.returncode, 0, drafted.stderr)
        events = [json.loads(line) for line in drafted.stdout.decode().splitlines()]
        want = [json.loads(line) for line in alone.stdout.decode().splitlines()]
        text = lambda evs: "".join(e.get("text", "") for e in evs)
        self.assertEqual(text(events), text(want))
        usage = events[-1]["usage"]
        self.assertGreater(usage["drafted_tokens"], 0)
        self.assertLessEqual(usage["accepted_draft_tokens"], usage["drafted_tokens"])

    def test_bench_compares_generation_with_and_without_the_draft(self):
        p = r1("bench", STORIES, "-p", "0", "-n", "16", "-r", "1", "-t", "2", "--draft", STORIES, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {row["test"]: row for row in map(json.loads, p.stdout.decode().splitlines())}
        self.assertEqual(set(rows), {"tg16", "g16", "g16+draft"})
        self.assertNotIn("draft_acceptance", rows["g16"])
        self.assertGreater(rows["g16+draft"]["draft_acceptance"], 0.5)  # the model drafting for itself
        p = r1("bench", STORIES, "-n", "4", "--draft-max", "4")
        self.assertEqual(p.returncode, 2)

    def test_bad_drafts_are_refused(self):
        p = r1("run", STORIES, "-p", "Once", "--draft", os.path.join(SHARED, "models", "aidreams260K.gguf"))
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"vocabulary", p.stderr)
        p = r1("run", STORIES, "-p", "Once", "--draft", STORIES, "--draft-max", "17")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"--draft-max", p.stderr)
        p = r1("run", STORIES, "-p", "Once", "--draft", "/nonexistent/draft.gguf")
        self.assertEqual(p.returncode, 1)


class StructuredOutput(unittest.TestCase):
    SCHEMA = '{"type":"object","properties":{"ok":{"type":"boolean"},"n":{"type":"integer"}},"required":["ok","n"]}'

    def test_json_schema_shapes_the_answer_after_the_thought(self):
        for seed in ["1", "2"]:
            p = r1("run", QWEN2, "-p", "Answer in JSON.", "--template", "deepseek-r1-distill", "--think-budget", "5",
                   "--temp", "1", "--seed", seed, "-n", "300", "--json-schema", self.SCHEMA, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            events = [json.loads(line) for line in p.stdout.decode().splitlines()]
            answer = "".join(e["text"] for e in events if e["type"] == "content")
            self.assertEqual(list(json.loads(answer)), ["ok", "n"])
            self.assertEqual(events[-1]["stop_reason"], "end")
            self.assertEqual(events[-1]["usage"]["reasoning_tokens"], 5)

    def test_grammar_from_a_file_and_bad_grammars(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "yes-no.gbnf")
            with open(path, "w") as f:
                f.write('# one word\nroot ::= "yes" | "no"\n')
            p = r1("run", STORIES, "-p", "Once", "--grammar-file", path, "-n", "10")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(p.stdout.decode().strip(), ["yes", "no"])
        p = r1("run", STORIES, "-p", "Once", "--grammar", 'root ::= "a" |\n  (', "-n", "4")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"line 2", p.stderr)
        p = r1("run", STORIES, "-p", "Once", "--grammar", 'root ::= "a"', "--json-schema", "{}")
        self.assertEqual(p.returncode, 2)
        p = r1("run", STORIES, "-p", "Once", "--grammar-file", "/nonexistent.gbnf")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"/nonexistent.gbnf", p.stderr)


class Perplexity(unittest.TestCase):
    TEXT = b"Once upon a time, there was a little girl named Lily. She loved to play outside. " * 12

    def test_perplexity_then_kl_divergence_from_its_own_base(self):
        with tempfile.TemporaryDirectory() as tmp:
            text, base = os.path.join(tmp, "t.txt"), os.path.join(tmp, "base.kld")
            with open(text, "wb") as f:
                f.write(self.TEXT)
            p = r1("perplexity", STORIES, "-f", text, "--ctx", "32", "-t", "2", "--kl-divergence-base", base)
            self.assertEqual(p.returncode, 0, p.stderr)
            ppl = re.search(rb"^PPL = ([0-9.]+) \+/- [0-9.]+ \((\d+) chunks of 32 tokens", p.stdout, re.M)
            self.assertIsNotNone(ppl, p.stdout)
            self.assertGreater(float(ppl.group(1)), 1.0)
            p = r1("perplexity", STORIES, "--kl-divergence-base", base, "--kl-divergence", "-t", "2")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"PPL = " + ppl.group(1), p.stdout)
            self.assertIn(b"same top token = 100.000%", p.stdout)

    def test_imatrix_writes_a_file_quantize_reads_and_keeps_existing_ones(self):
        with tempfile.TemporaryDirectory() as tmp:
            text, out = os.path.join(tmp, "t.txt"), os.path.join(tmp, "imatrix.gguf")
            with open(text, "wb") as f:
                f.write(self.TEXT)
            p = r1("imatrix", STORIES, "-f", text, "-o", out, "--ctx", "32", "-t", "2")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertRegex(p.stdout, rb"wrote .*: 35 matrices, \d+ chunks of 32 tokens")
            with open(out, "rb") as f:
                self.assertEqual(f.read(4), b"GGUF")
            p = r1("imatrix", STORIES, "-f", text, "-o", out, "--ctx", "32")
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"--force", p.stderr)
            self.assertEqual(r1("imatrix", STORIES, "-f", text, "-o", out, "--ctx", "32", "--force").returncode, 0)
            self.assertEqual(r1("imatrix", STORIES, "-f", text).returncode, 2)  # no -o
            self.assertEqual(r1("imatrix", STORIES, "-f", text, "-o", STORIES, "--force").returncode, 1)

    def test_perplexity_usage_errors(self):
        self.assertEqual(r1("perplexity", STORIES).returncode, 2)
        self.assertEqual(r1("perplexity", STORIES, "--kl-divergence").returncode, 2)
        p = r1("perplexity", STORIES, "-f", "/dev/null")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"needs at least 1024", p.stderr)


def main():
    global R1
    if len(sys.argv) < 2:
        sys.exit("usage: test_cli.py R1_BINARY")
    R1 = os.path.abspath(sys.argv.pop(1))
    if not SHARED or not all(os.path.isfile(m) for m in (STORIES, LLAMA_RANDOM, QWEN2)):
        print(f"SKIP: the shared test models are not in R1_SHARED_DIR ({SHARED or 'unset'})")
        sys.exit(77)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
