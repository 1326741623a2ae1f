import os
import re

import pytest

import r1


def test_cache_type_defaults_to_f16(session):
    assert session.cache_type == "f16"
    with pytest.raises(AttributeError):
        session.cache_type = "f32"


def test_f32_cache_matches_the_f32_reference(model, stories_ref):
    case = stories_ref["variants"]["f32kv"]["prompts"][0]
    want = case["greedy"]["generated_ids"]
    session = r1.Session(model, n_ctx=256, cache_type="f32")
    assert session.cache_type == "f32"
    result = session.generate(case["text"], temperature=0.0, max_new_tokens=len(want), ignore_eos=True).result
    assert list(result.tokens) == want


def test_q8_0_cache_generates(shared_dir):
    # The 260K models' heads (8 values) are too small for Q8_0 blocks of 32.
    path = os.path.join(shared_dir, "reference", "qwen2-dev.Q8_0.gguf")
    if not os.path.isfile(path):
        pytest.skip(f"{path} not found")
    session = r1.Session(r1.Model(path), n_ctx=64, n_threads=2, cache_type="q8_0")
    assert session.cache_type == "q8_0"
    result = session.generate("The cat", temperature=0.0, max_new_tokens=6, ignore_eos=True).result
    assert result.n_generated_tokens == 6


def test_q8_0_cache_needs_head_sizes_of_32(model):
    with pytest.raises(r1.InvalidArgument, match="multiples of 32"):
        r1.Session(model, n_ctx=64, cache_type="q8_0")


@pytest.mark.parametrize("name", ["", "F16", "q8", "bf16", "f16 "])
def test_unknown_cache_type(model, name):
    with pytest.raises(ValueError, match="cache_type") as info:
        r1.Session(model, n_ctx=64, cache_type=name)
    assert isinstance(info.value, r1.InvalidArgument)
    assert "q8_0" in str(info.value)


def test_default_context_and_generation_length(model):
    tokenizer = model.tokenizer
    cap = 32768 if tokenizer is not None and tokenizer.chat_template else 4096
    assert r1.Session(model).n_ctx == min(model.n_ctx_train, cap)
    assert r1.GenerateOptions().max_new_tokens < 0  # until the context is full


@pytest.mark.parametrize("n", [100000, 2**31 - 1])
def test_thread_count_is_bounded_by_the_machine(model, n):
    with pytest.raises(r1.InvalidArgument) as info:
        r1.Session(model, n_ctx=64, n_threads=n)
    message = str(info.value)
    assert str(n) in message
    limit = re.search(r"between 1 and (\d+)", message)
    assert limit and 64 <= int(limit.group(1)) < n


def test_negative_thread_count_is_refused(model):
    with pytest.raises(r1.InvalidArgument, match="-1"):
        r1.Session(model, n_ctx=64, n_threads=-1)


def test_zero_threads_is_the_model_default(model):
    assert r1.Session(model, n_ctx=64, n_threads=0).n_threads == model.default_threads


def test_context_and_batch_are_bounded(model):
    with pytest.raises(r1.InvalidArgument, match="n_ctx"):
        r1.Session(model, n_ctx=2**25)
    with pytest.raises(r1.InvalidArgument, match="n_batch"):
        r1.Session(model, n_ctx=2**20, n_batch=2**20)


def test_batch_invariant_logits_do_not_depend_on_batching(model):
    tokens = [(7 * i + 3) % model.n_vocab for i in range(48)]  # past the prompt engines' 32-token start
    batched = r1.Session(model, n_ctx=64, n_threads=2, batch_invariant=True)
    assert batched.batch_invariant and not r1.Session(model, n_ctx=64).batch_invariant
    batched.evaluate(tokens, all_logits=True)
    stepped = r1.Session(model, n_ctx=64, n_threads=1, batch_invariant=True)
    for i, token in enumerate(tokens):
        stepped.evaluate([token])
        assert stepped.logits(copy=True).tobytes() == batched.logits(i, copy=True).tobytes(), f"position {i}"


def test_gpu_devices_are_listed_with_their_kind():
    # Empty without Vulkan in the build or a driver on the machine; each one named otherwise.
    devices = r1.gpu_devices()
    assert isinstance(devices, list)
    for device in devices:
        assert isinstance(device, r1.GpuDevice)
        assert device.name
        assert device.kind in ("discrete", "integrated", "virtual", "cpu", "other")
        assert device.memory_bytes >= 0
        assert device.name in repr(device)
