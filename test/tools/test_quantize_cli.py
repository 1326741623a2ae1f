"""`r1 quantize` as a user runs it: test_quantize_cli.py R1_BINARY.

It must never write over its input, never replace an existing file unless told to (--force),
never requantize without --allow-requantize, and never leave a temporary file behind.
Reads the shared test data from R1_SHARED_DIR and exits with 77 (skipped) when it is absent.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

R1 = ""
F16 = os.path.join(os.environ.get("R1_SHARED_DIR", ""), "reference", "qwen2-dev.F16.gguf")


def r1(*args):
    return subprocess.run([R1, *args], capture_output=True, timeout=300)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tensor_types(path):
    """{type: tensor count} from `r1 info`."""
    p = r1("info", path)
    assert p.returncode == 0, p.stderr
    return {t: int(n) for t, n in re.findall(rb"^  (\w+)\s+(\d+) tensors", p.stdout, re.M)}


class QuantizeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="r1_quantize_cli_")
        self.input = os.path.join(self.dir, "model.F16.gguf")
        shutil.copyfile(F16, self.input)
        self.input_digest = digest(self.input)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def assert_only(self, *names):
        """The directory holds exactly these files: no output where none belongs, no temporary."""
        self.assertEqual(sorted(os.listdir(self.dir)), sorted(names))

    def assert_fails(self, args, *fragments):
        p = r1("quantize", *args)
        self.assertEqual(p.returncode, 1, p.stderr)
        for fragment in fragments:
            self.assertIn(fragment.encode(), p.stderr)
        return p

    def test_refuses_to_write_over_its_input(self):
        os.link(self.input, self.path("hard.gguf"))
        os.symlink("model.F16.gguf", self.path("link.gguf"))
        for out in [self.input, os.path.join(self.dir, ".", "model.F16.gguf"), self.path("hard.gguf"),
                    self.path("link.gguf")]:
            with self.subTest(out=out):
                # --force allows replacing a file, never the input.
                self.assert_fails([self.input, out, "Q8_0", "--force"], "is the input file", out)
                self.assertEqual(digest(self.input), self.input_digest)
        self.assert_only("model.F16.gguf", "hard.gguf", "link.gguf")

    def test_existing_output_needs_force(self):
        out = self.path("out.gguf")
        with open(out, "wb") as f:
            f.write(b"keep me")
        self.assert_fails([self.input, out, "Q8_0"], out, "already exists", "--force")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"keep me")
        p = r1("quantize", self.input, out, "Q8_0", "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(tensor_types(out).get(b"Q8_0"), 16)
        self.assert_only("model.F16.gguf", "out.gguf")

    def test_requantizing_needs_allow_requantize(self):
        q8 = self.path("q8.gguf")
        self.assertEqual(r1("quantize", self.input, q8, "Q8_0").returncode, 0)
        q4 = self.path("q4.gguf")
        self.assert_fails([q8, q4, "Q4_0"], "already quantized", "--allow-requantize")
        self.assert_only("model.F16.gguf", "q8.gguf")

        p = r1("quantize", q8, q4, "Q4_0", "--allow-requantize")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"warning", p.stderr)
        self.assertIn(b"loses quality", p.stderr)
        types = tensor_types(q4)
        self.assertNotIn(b"Q8_0", types)  # nothing copied unchanged under a Q4_0 label
        self.assertGreater(types.get(b"Q4_0", 0), 0)
        run = r1("generate", q4, "-p", "Hello", "-n", "4", "-t", "2")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(len(run.stdout.split(b"\n")[-2].split()), 4)

        # The same type again needs no conversion, so no flag.
        self.assertEqual(r1("quantize", q8, self.path("q8b.gguf"), "Q8_0").returncode, 0)

    def test_failure_leaves_no_temporary_file_and_names_the_output(self):
        missing_dir = self.path("no-such-dir")
        self.assert_fails([self.input, os.path.join(missing_dir, "out.gguf"), "Q8_0"],
                          os.path.join(missing_dir, "out.gguf"))
        self.assert_fails([self.input, self.dir, "Q8_0", "--force"], "is a directory")
        self.assert_only("model.F16.gguf")

    def test_thread_count_is_bounded(self):
        for n in ["100000", "0", "-3"]:
            with self.subTest(n=n):
                self.assert_fails([self.input, self.path("out.gguf"), "Q8_0", "-t", n], n)
        self.assert_only("model.F16.gguf")


if __name__ == "__main__":
    if not os.path.isfile(F16):
        print(f"SKIP: {F16} not found (R1_SHARED_DIR)")
        sys.exit(77)
    R1 = os.path.abspath(sys.argv.pop(1))
    unittest.main()
