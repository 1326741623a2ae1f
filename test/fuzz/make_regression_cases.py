#!/usr/bin/env python3
"""Writes the hand-made hostile inputs of test/data/fuzz/{gguf,model_load,session_state} and the
hostile templates of test/data/fuzz/jinja.

Each is a tiny file that must be refused with an error (fuzz_regression_test replays them).
Standard library only; the output is deterministic, so rerunning it changes nothing:
    python3 test/fuzz/make_regression_cases.py [--state SEED_STATE_FILE]
--state takes a state file saved on models/stories260K-q8dequant.gguf (make_seed_corpus writes
some) and derives corrupted copies of it.
"""
import argparse
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "fuzz")

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
F32_T, F16_T, Q8_0_T = 0, 1, 8


def s(text):
    b = text if isinstance(text, bytes) else text.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, typ, payload):
    return s(key) + struct.pack("<I", typ) + payload


def u32(key, v):
    return kv(key, U32, struct.pack("<I", v))


def f32(key, v):
    return kv(key, F32, struct.pack("<f", v))


def string(key, v):
    return kv(key, STR, s(v))


def tensor_info(name, dims, typ, offset):
    return s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims) + \
        struct.pack("<IQ", typ, offset)


def gguf(kvs, tensors, data=b"", version=3, n_kv=None, n_tensors=None, align=32, magic=b"GGUF"):
    head = magic + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                               len(kvs) if n_kv is None else n_kv)
    head += b"".join(kvs) + b"".join(tensors)
    head += b"\0" * ((-len(head)) % align)
    return head + data


def tiny_model(arch="llama", vocab=16, d=8, heads=2, kv_heads=1, head_dim=4, ff=8, layers=1, extra_kvs=(),
               override=None, drop=(), shape_override=None, type_override=None, hparams=None):
    """A model as make_seed_corpus writes it, with one thing changed."""
    hp = {"context_length": 64, "embedding_length": d, "block_count": layers, "feed_forward_length": ff,
          "attention.head_count": heads, "attention.head_count_kv": kv_heads, "rope.dimension_count": head_dim}
    hp.update(hparams or {})
    kvs = [string("general.architecture", arch)]
    kvs += [u32(f"{arch}.{k}", v) for k, v in hp.items() if v is not None]
    kvs += [f32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6)] + list(extra_kvs)
    q, kvd = heads * head_dim, kv_heads * head_dim
    shapes = [("token_embd.weight", [d, vocab]), ("output_norm.weight", [d]), ("output.weight", [d, vocab])]
    for l in range(layers):
        p = f"blk.{l}."
        shapes += [(p + "attn_norm.weight", [d]), (p + "attn_q.weight", [d, q]), (p + "attn_k.weight", [d, kvd]),
                   (p + "attn_v.weight", [d, kvd]), (p + "attn_output.weight", [q, d]), (p + "ffn_norm.weight", [d]),
                   (p + "ffn_gate.weight", [d, ff]), (p + "ffn_up.weight", [d, ff]), (p + "ffn_down.weight", [ff, d])]
    tensors, data = [], b""
    for name, dims in shapes:
        if name in drop:
            continue
        dims = (shape_override or {}).get(name, dims)
        typ = (type_override or {}).get(name, F32_T)
        n = 1
        for v in dims:
            n *= v
        nbytes = n * 4 if typ == F32_T else (n // 32) * 34 if typ == Q8_0_T else n * 2
        tensors.append(tensor_info(name, dims, typ, len(data)))
        data += struct.pack("<f", 0.01) * (nbytes // 4) + b"\0" * (nbytes % 4)
        data += b"\0" * ((-len(data)) % 32)
    return gguf(kvs, tensors, data)


def write(sub, name, data):
    d = os.path.join(ROOT, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gguf_cases():
    ok_tensor = tensor_info("t", [4], F32_T, 0)
    data16 = b"\0" * 16
    c = {
        "empty": b"",
        "magic-only": b"GGUF",
        "bad-magic": gguf([], [], magic=b"GGUX"),
        "version-1": gguf([], [], version=1),
        "version-4": gguf([], [], version=4),
        "version-max": gguf([], [], version=0xFFFFFFFF),
        "truncated-counts": b"GGUF" + struct.pack("<IQ", 3, 0),
        "kv-count-huge": gguf([], [], n_kv=1 << 62),
        "tensor-count-huge": gguf([], [], n_tensors=(1 << 64) - 1),
        "key-length-huge": b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, (1 << 64) - 1) + b"k",
        "string-length-huge": gguf([s("k") + struct.pack("<IQ", STR, (1 << 64) - 2)], []),
        "array-length-huge": gguf([kv("a", ARR, struct.pack("<IQ", U64, 1 << 61))], []),
        "string-array-length-huge": gguf([kv("a", ARR, struct.pack("<IQ", STR, 1 << 40) + s("x"))], []),
        "arrays-nested-too-deep": gguf([kv("a", ARR, struct.pack("<IQ", ARR, 1) * 40 + struct.pack("<IQ", U8, 1) + b"\1")], []),
        "unknown-value-type": gguf([kv("k", 13, b"\0" * 8)], []),
        "unknown-array-type": gguf([kv("a", ARR, struct.pack("<IQ", 99, 1) + b"\0" * 8)], []),
        "bool-not-0-or-1": gguf([kv("b", BOOL, b"\x07")], []),
        "key-invalid-utf8": gguf([kv(b"k\xc0\xaf", U8, b"\1")], []),
        "value-invalid-utf8": gguf([string("general.name", b"\xed\xa0\x80")], []),
        "key-empty": gguf([kv("", U8, b"\1")], []),
        "duplicate-key": gguf([u32("k", 1), u32("k", 2)], []),
        "alignment-zero": gguf([u32("general.alignment", 0)], [ok_tensor], data16),
        "alignment-not-power-of-2": gguf([u32("general.alignment", 24)], [ok_tensor], data16),
        "alignment-wrong-type": gguf([string("general.alignment", "32")], [ok_tensor], data16),
        "tensor-dims-zero": gguf([], [tensor_info("t", [], F32_T, 0)], data16),
        "tensor-dims-5": gguf([], [tensor_info("t", [1, 1, 1, 1, 1], F32_T, 0)], data16),
        "tensor-dim-zero": gguf([], [tensor_info("t", [4, 0], F32_T, 0)], data16),
        "tensor-elements-overflow": gguf([], [tensor_info("t", [1 << 32, 1 << 32], F32_T, 0)], data16),
        "tensor-bytes-overflow": gguf([], [tensor_info("t", [1 << 62], F32_T, 0)], data16),
        "tensor-offset-huge": gguf([], [tensor_info("t", [4], F32_T, (1 << 64) - 32)], data16),
        "tensor-offset-unaligned": gguf([], [tensor_info("t", [2], F32_T, 4)], data16),
        "tensor-past-end": gguf([], [tensor_info("t", [8], F32_T, 0)], data16),
        "tensor-unknown-type": gguf([], [tensor_info("t", [4], 200, 0)], data16),
        "tensor-type-huge": gguf([], [tensor_info("t", [4], 0xFFFFFFFF, 0)], data16),
        "tensor-partial-block": gguf([], [tensor_info("t", [16], Q8_0_T, 0)], b"\0" * 64),
        "duplicate-tensor": gguf([], [ok_tensor, tensor_info("t", [4], F32_T, 0)], data16),
        "overlapping-tensors": gguf([], [tensor_info("a", [4], F32_T, 0), tensor_info("b", [4], F32_T, 0)], data16),
        "tensor-name-invalid-utf8": gguf([], [tensor_info(b"\xff", [4], F32_T, 0)], data16),
        "truncated-in-tensor-table": gguf([], [ok_tensor], data16)[:24 + 8 + 1 + 4 + 4],
        # A vocabulary whose arrays disagree in length, and one whose ids point outside it.
        "vocab-types-short": gguf([string("tokenizer.ggml.model", "llama"),
                                   kv("tokenizer.ggml.tokens", ARR, struct.pack("<IQ", STR, 2) + s("a") + s("b")),
                                   kv("tokenizer.ggml.token_type", ARR, struct.pack("<IQ", I32, 1) + b"\1\0\0\0")], []),
        "vocab-bos-out-of-range": gguf([string("tokenizer.ggml.model", "llama"),
                                        kv("tokenizer.ggml.tokens", ARR, struct.pack("<IQ", STR, 1) + s("a")),
                                        u32("tokenizer.ggml.bos_token_id", 7)], []),
        "vocab-unknown-model": gguf([string("tokenizer.ggml.model", "wordpiece"),
                                     kv("tokenizer.ggml.tokens", ARR, struct.pack("<IQ", STR, 1) + s("a"))], []),
        "vocab-merge-unknown-token": gguf([string("tokenizer.ggml.model", "gpt2"),
                                           kv("tokenizer.ggml.tokens", ARR, struct.pack("<IQ", STR, 1) + s("a")),
                                           kv("tokenizer.ggml.merges", ARR, struct.pack("<IQ", STR, 1) + s("a zz"))], []),
    }
    # The vocabulary cases are well-formed GGUF: only the vocabulary reader refuses them, and
    # RunGguf reports the GGUF's status, so they belong with the inputs that must not break
    # anything rather than with those that must fail. They are kept in model_load instead.
    vocab = {k: c.pop(k) for k in list(c) if k.startswith("vocab-")}
    for k, v in c.items():
        write("gguf", k, v)
    return vocab


def model_cases(vocab):
    tok = [string("tokenizer.ggml.model", "llama"),
           kv("tokenizer.ggml.tokens", ARR, struct.pack("<IQ", STR, 3) + s("<unk>") + s("<s>") + s("</s>"))]
    c = {
        "arch-unknown": tiny_model(arch="gpt-j"),
        "arch-missing-hparams": tiny_model(hparams={"block_count": None}),
        "head-count-zero": tiny_model(hparams={"attention.head_count": 0}),
        "head-count-kv-zero": tiny_model(hparams={"attention.head_count_kv": 0}),
        "head-count-kv-not-divisor": tiny_model(heads=2, kv_heads=1, hparams={"attention.head_count_kv": 3}),
        "block-count-zero": tiny_model(hparams={"block_count": 0}),
        "block-count-huge": tiny_model(hparams={"block_count": 0xFFFFFFFF}),
        "embedding-length-mismatch": tiny_model(hparams={"embedding_length": 12}),
        "embedding-length-huge": tiny_model(hparams={"embedding_length": 0x80000000}),
        "ff-length-mismatch": tiny_model(hparams={"feed_forward_length": 9}),
        "context-length-zero": tiny_model(hparams={"context_length": 0}),
        "rope-dims-odd": tiny_model(hparams={"rope.dimension_count": 3}),
        "rope-dims-past-head": tiny_model(hparams={"rope.dimension_count": 64}),
        "missing-tensor": tiny_model(drop=("blk.0.attn_k.weight",)),
        "missing-output-norm": tiny_model(drop=("output_norm.weight",)),
        "q-shape-wrong": tiny_model(shape_override={"blk.0.attn_q.weight": [8, 4]}),
        "embd-shape-3d": tiny_model(shape_override={"token_embd.weight": [8, 4, 4]}),
        "output-rows-not-vocab": tiny_model(shape_override={"output.weight": [8, 15]}),
        "vocab-not-embedding": tiny_model(extra_kvs=tok),
        "empty-tensor-table": gguf([string("general.architecture", "llama")], []),
    }
    c.update(vocab)
    for k, v in c.items():
        write("model_load", k, v)


def state_cases(seed_path):
    base = open(seed_path, "rb").read()
    hdr = struct.Struct("<8sII5Q")
    magic, version, reserved, fp, n_layers, n_kv_dim, n_vocab, n_tokens = hdr.unpack_from(base)
    rest = base[hdr.size:]
    def with_header(**kw):
        v = dict(magic=magic, version=version, reserved=reserved, fp=fp, n_layers=n_layers, n_kv_dim=n_kv_dim,
                 n_vocab=n_vocab, n_tokens=n_tokens)
        v.update(kw)
        return hdr.pack(*v.values()) + rest
    tokens_end = hdr.size + 4 * n_tokens
    bad_token = bytearray(base)
    struct.pack_into("<i", bad_token, hdr.size, n_vocab + 5)
    neg_token = bytearray(base)
    struct.pack_into("<i", neg_token, hdr.size, -1)
    bad_logits = bytearray(base)
    struct.pack_into("<Q", bad_logits, tokens_end, 7)
    huge_logits = bytearray(base)
    struct.pack_into("<Q", huge_logits, tokens_end, (1 << 62))
    c = {
        "empty": b"",
        "short-header": base[:20],
        "bad-magic": b"R1STATX\0" + base[8:],
        "version-unknown": with_header(version=99),
        "cache-type-unknown": with_header(version=2, reserved=5),
        # Version 1 rows (f32) labelled as f16: the file's size cannot match.
        "cache-type-size-mismatch": with_header(version=2, reserved=1),
        "other-model": with_header(fp=fp ^ 1),
        "n-layers-huge": with_header(n_layers=1 << 60),
        "n-tokens-huge": with_header(n_tokens=(1 << 64) - 1),
        "n-tokens-past-context": with_header(n_tokens=1 << 20),
        "n-tokens-one-more": with_header(n_tokens=n_tokens + 1),
        "truncated-tokens": base[:hdr.size + 2],
        "truncated-kv": base[:-5],
        "one-byte-more": base + b"\0",
        "token-past-vocab": bytes(bad_token),
        "token-negative": bytes(neg_token),
        "logits-length-wrong": bytes(bad_logits),
        "logits-length-huge": bytes(huge_logits),
    }
    for k, v in c.items():
        write("session_state", k, v)


def text_cases():
    """Inputs of the tokenizer, stream-decoder and chat targets (first byte: options)."""
    tok = {
        "invalid-utf8": b"\x00" + b"\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80 abc \xe4\xbd",
        "specials-parsed": b"\x09" + "<｜begin▁of▁sentence｜><｜User｜>hi<think></think><｜Assistant｜>".encode(),
        "specials-unparsed-spm": b"\x03" + b"<s></s><unk><0x41> \xe2\x96\x81\xe2\x96\x81",
        "long-run": b"\x01" + b"a" * 5000 + b" " * 3000 + b"1" * 2000,
        "nul-bytes": b"\x02" + b"\0" * 64 + b"x\0y",
        "combining-marks": b"\x01" + ("e" + "\u0301" * 200 + "\ufeff\u200d" * 50).encode(),
        "all-bytes": b"\x00" + bytes(range(256)),
    }
    for k, v in tok.items():
        write("tokenizer", k, v)
    def ids(*values):
        return b"".join(struct.pack("<I", v & 0xFFFFFF)[:3] for v in values)
    oor = 0xF00000  # high nibble 0xF: an out-of-range id (see RunStreamDecoder)
    sd = {
        "out-of-range-only": b"\x08\x00" + ids(oor, oor + 1, oor + 2, oor + 3, oor + 4, oor + 5, oor + 6, oor + 7),
        "out-of-range-mid-character": b"\x0b\x00" + ids(0x103 + 0xE4, oor + 1, 0x103 + 0xBD, 0x103 + 0xA0, oor),
        "prime-with-bad-id": b"\x19\x03" + ids(5, oor + 2, 7, 8, 9),
        "byte-tokens-replaced": b"\x23\x00" + ids(*[3 + b for b in (0xF0, 0x9F, 0x98, 0xC0, 0xFF)]),
    }
    for k, v in sd.items():
        write("stream_decoder", k, v)
    nul = b"\0"
    chat = {
        "unknown-role": b"\x08" + b"wizard" + nul + b"hi",
        "empty-messages": b"\x09",
        "markers-in-content": b"\x08\x01" + nul + "<｜Assistant｜></think><｜end▁of▁sentence｜>".encode() + nul + b"\x02" + nul +
                              b"</think></think>",
        "invalid-utf8-content": b"\x0c\x01" + nul + b"\xff\xc0" + nul + b"\x02" + nul + b"\xed\xa0\x80",
        "llama3-whitespace": b"\x0a\x00" + nul + b" \t\n " + nul + b"\x01" + nul + b"\n\n",
        "tokenizer-template": b"\x2d\x01" + nul + b"hi" + nul + b"\x03" + nul + b"tool output",
    }
    for k, v in chat.items():
        write("chat", k, v)


def jinja_cases():
    """Templates for the jinja target (first byte: options; source; NUL-separated messages)
    that must end with an error or a bounded output, never a hang or a crash."""
    nul = b"\0"
    msgs = nul + b"system" + nul + b"Be brief." + nul + b"user" + nul + b"Hi" + nul + b"assistant" + nul + \
        "<think>x</think>Hello ✓".encode()
    loop = b"{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
    cases = {
        "plain-loop": b"\x07" + loop + b"{% if add_generation_prompt %}<assistant>{% endif %}" + msgs,
        "nested-loops-step-bound": b"\x01{% for a in range(1000000) %}{% for b in range(1000000) %}"
                                   b"{% endfor %}{% endfor %}",
        "string-doubling": b"\x01{% set ns = namespace(s='ab') %}{% for i in range(80) %}"
                           b"{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
        "string-repeat": b"\x01{{ 'x' * 9223372036854775807 }}",
        "list-repeat": b"\x01{{ [1, 2] * 9223372036854775807 }}",
        "replace-blowup": b"\x01{{ ('x' * 1000000)|replace('x', 'xxxxxxxxxxxxxxxxxxxxxxxx') }}",
        "range-huge": b"\x01{% for i in range(-9223372036854775807, 9223372036854775807, 4611686018427387904) %}"
                      b"{{ i }}{% endfor %}{{ range(9223372036854775807)|length }}",
        "macro-recursion": b"\x01{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
        "deep-parens": b"\x01{{ " + b"(" * 5000 + b"1" + b")" * 5000 + b" }}",
        "deep-blocks": b"\x01" + b"{% if true %}" * 3000,
        "deep-unary": b"\x01{{ " + b"not -" * 3000 + b"1 }}",
        "long-operator-chain": b"\x01{{ 1" + b" + 1" * 5000 + b" }}{{ 'a'" + b"|upper" * 5000 + b" }}",
        "unterminated-string": b"\x01{{ 'abc }}",
        "unterminated-comment": b"\x01{# no end",
        "unterminated-raw": b"\x01{% raw %}{{ x }}",
        "undefined-attribute": b"\x01{{ messages[0].nope.deeper }}" + msgs,
        "raise-exception": b"\x01{{ raise_exception('refused: ' ~ messages|length) }}" + msgs,
        "int-overflow": b"\x01{{ 9223372036854775807 * 2 }}{{ -9223372036854775807 - 2 }}",
        "int-min-ops": b"\x01{% set m = -9223372036854775807 - 1 %}{{ m // -1 }}{{ -m }}{{ m|abs }}",
        "huge-float-int": b"\x01{{ 1e308|int }}{{ (1e308 * 10)|int }}{{ '1e999'|int }}{{ 1e308|round(-400) }}",
        "slice-extremes": b"\x01{{ 'abc'[-9223372036854775807:9223372036854775807:-9223372036854775807] }}"
                          b"{{ [1,2][::9223372036854775807] }}",
        "invalid-utf8": b"\x01{{ '\xff\xc0'|upper }}{{ '\xed\xa0\x80'[::-1] }}{{ '\xf0\x9f'|tojson(true) }}",
        "tojson-deep": b"\x01{% set ns = namespace(v=[]) %}{% for i in range(400) %}{% set ns.v = [ns.v] %}"
                       b"{% endfor %}{{ ns.v|tojson }}",
        "namespace-self": b"\x01{% set ns = namespace() %}{% set ns.me = ns %}{% set ns.l = [ns, [ns]] %}"
                          b"{{ ns }}{{ ns == ns }}{{ ns.l == ns.l }}{{ ns|tojson }}",
        "namespace-twins": b"\x01{% set a = namespace() %}{% set b = namespace() %}{% set a.x = a %}{% set a.y = a %}"
                           b"{% set b.x = b %}{% set b.y = b %}{{ a == b }}{{ [a] == [b] }}{{ a in [b] }}",
        "deep-list": b"\x01{% set ns = namespace(v=[]) %}{% for i in range(1000000) %}{% set ns.v = [ns.v] %}"
                     b"{% endfor %}{{ ns.v|length }}",
        "namespace-chain": b"\x01{% set ns = namespace(head=namespace(), cur=none) %}{% set ns.cur = ns.head %}"
                           b"{% for i in range(1000000) %}{% set new = namespace() %}{% set cur = ns.cur %}"
                           b"{% set cur.next = new %}{% set ns.cur = new %}{% endfor %}{{ ns.head }}",
        "escapes": b"\x01{{ '\\u12' }}{{ '\\x4' }}",
        "output-bound": b"\x01{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}",
        "strftime": b"\x01{{ strftime_now('%Y' * 200) }}{{ strftime_now('%c') }}",
        "raise-empty-message": b"\x01{{ raise_exception(undefined_name) }}{{ raise_exception('') }}",
    }
    for k, v in cases.items():
        write("jinja", k, v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", help="a state file saved on stories260K-q8dequant.gguf")
    a = ap.parse_args()
    model_cases(gguf_cases())
    text_cases()
    jinja_cases()
    if a.state:
        state_cases(a.state)


if __name__ == "__main__":
    main()
