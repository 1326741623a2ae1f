import os

import pytest

import r1


def test_missing_file(tmp_path):
    path = str(tmp_path / "missing.gguf")
    with pytest.raises(r1.NotFound) as info:
        r1.Model(path)
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, r1.Error)
    assert "missing.gguf" in str(info.value)


def test_malformed_file(tmp_path):
    path = tmp_path / "bad.gguf"
    path.write_bytes(b"GGUF" + b"\xff" * 60)
    with pytest.raises(r1.Error) as info:
        r1.Model(str(path))
    assert str(info.value)


def test_bad_token_in_evaluate(session, model):
    with pytest.raises(r1.InvalidArgument) as info:
        session.evaluate([model.n_vocab + 1])
    assert isinstance(info.value, ValueError)
    with pytest.raises(r1.InvalidArgument):
        session.evaluate([])


def test_logits_before_evaluate(model):
    with pytest.raises(r1.FailedPrecondition):
        r1.Session(model, n_ctx=32).logits()


def test_prompt_longer_than_context(model):
    s = r1.Session(model, n_ctx=16)
    with pytest.raises(r1.Error):
        s.evaluate([1] + [300] * 40)


def test_state_file_errors(session, tmp_path):
    with pytest.raises(r1.Error):
        session.load_state(str(tmp_path / "nope.state"))
    bad = tmp_path / "bad.state"
    bad.write_bytes(b"not a state file")
    with pytest.raises(r1.Error):
        session.load_state(str(bad))


def test_progress_callback_can_cancel(stories_path):
    with pytest.raises(r1.Cancelled):
        r1.Model(stories_path, progress=lambda f: False)
    seen = []
    r1.Model(stories_path, progress=seen.append)
    assert seen and seen[-1] == pytest.approx(1.0)


def test_progress_callback_exception_propagates(stories_path):
    def boom(fraction):
        raise KeyError("from the callback")

    with pytest.raises(KeyError):
        r1.Model(stories_path, progress=boom)


def test_bad_messages(session):
    with pytest.raises(TypeError):
        session.chat([42])
    with pytest.raises(r1.InvalidArgument):
        session.chat([{"role": "user"}])


def test_version():
    assert r1.__version__.count(".") == 2


def test_missing_chat_template_is_not_a_missing_file(model):
    # The 260K model has no chat template.
    with pytest.raises(r1.NoChatTemplate) as info:
        model.format_chat([("user", "hi")])
    assert isinstance(info.value, r1.InvalidArgument)
    assert isinstance(info.value, ValueError)
    assert not isinstance(info.value, FileNotFoundError)
    assert "chat template" in str(info.value)
    assert "<|im_start|>" in model.format_chat([("user", "hi")], chat_template="chatml")


def test_vocabulary_only_file_is_unsupported_not_missing(shared_dir):
    path = os.path.join(shared_dir, "vocab", "qwen2.vocab.gguf")
    if not os.path.isfile(path):
        pytest.skip(f"{path} not found")
    with pytest.raises(r1.Unsupported) as info:
        r1.Model(path)
    assert not isinstance(info.value, FileNotFoundError)
    assert "qwen2.vocab.gguf" in str(info.value)
    # Its tokenizer alone loads.
    assert r1.Tokenizer.load(path).n_vocab > 0


def test_failed_stream_raises_its_error_from_result(session):
    stream = session.chat([("user", "hi")], max_new_tokens=4)
    with pytest.raises(r1.NoChatTemplate):
        for _ in stream:
            pass
    # The error stays the answer: no result that looks like a cancelled generation.
    for _ in range(2):
        with pytest.raises(r1.NoChatTemplate):
            stream.result
    assert list(stream) == []
    # result alone (without iterating) raises it too, and the session stays usable.
    with pytest.raises(r1.NoChatTemplate):
        session.chat([("user", "hi")], max_new_tokens=4).result
    assert session.generate("Once", max_new_tokens=2).result.n_generated_tokens == 2
