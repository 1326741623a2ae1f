import os
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import r1


def greedy_case(stories_ref, index=0):
    return stories_ref["variants"]["default"]["prompts"][index]


def test_model_properties(model, stories_path):
    assert model.architecture == "llama"
    assert model.n_vocab == 512
    assert model.n_layers == 5
    assert model.path == stories_path
    assert "r1.Model" in repr(model)


def test_streaming_greedy_matches_reference(session, stories_ref):
    case = greedy_case(stories_ref)
    want = case["greedy"]["generated_ids"]
    stream = session.generate(case["text"], temperature=0.0, max_new_tokens=len(want), ignore_eos=True)
    events = list(stream)
    result = stream.result
    assert result.stop_reason == r1.StopReason.MAX_TOKENS
    assert result.n_generated_tokens == len(want)
    assert list(result.tokens) == want
    assert events, "no pieces were streamed"
    assert all(isinstance(e, r1.StreamEvent) for e in events)
    assert all(e.channel == r1.Channel.CONTENT for e in events)
    assert "".join(e.text for e in events) == result.content
    it = iter(want)
    assert all(any(e.token == t for t in it) for e in events), "event tokens are not in generation order"
    assert result.content.strip() == case["greedy"]["generated_text"].strip()
    assert stream.done


def test_options_object_and_overrides(session):
    opts = r1.GenerateOptions(max_new_tokens=4, temperature=0.0)
    assert opts.sampler.temperature == 0.0
    opts.stop = ["zzz"]
    assert opts.stop == ["zzz"]
    result = session.generate("Once upon a time", options=opts, max_new_tokens=3, ignore_eos=True).result
    assert result.n_generated_tokens == 3
    with pytest.raises(TypeError):
        session.generate("x", no_such_option=1)
    with pytest.raises(r1.InvalidArgument):
        r1.GenerateOptions(chat_template="no-such-template")


def test_chat_with_template_override(session):
    messages = [r1.ChatMessage("system", "Tell stories."), {"role": "user", "content": "Hi"}, ("assistant", "Hello")]
    messages.append({"role": "user", "content": "Once upon a time"})
    with session.chat(messages, chat_template="chatml", max_new_tokens=8, temperature=0.0) as stream:
        pieces = [e.text for e in stream]
    result = stream.result
    assert result.n_prompt_tokens > 0
    assert "".join(pieces) == result.reasoning + result.content
    assert session.n_past > 0


def test_seeded_sampling_is_reproducible(model):
    runs = []
    for _ in range(2):
        s = r1.Session(model, n_ctx=256)
        runs.append(s.generate("Once upon a time", max_new_tokens=16, temperature=0.8, seed=42).result.tokens)
    assert runs[0] == runs[1]


def test_logits_are_a_zero_copy_view(session, stories_ref, shared_dir):
    case = greedy_case(stories_ref)
    session.evaluate(case["token_ids"])
    logits = session.logits()
    assert isinstance(logits, np.ndarray)
    assert logits.dtype == np.float32 and logits.shape == (512,)
    assert not logits.flags.owndata and not logits.flags.writeable
    want = np.fromfile(os.path.join(shared_dir, "models", case["logits_file"]), dtype="<f4").reshape(-1, 512)[-1]
    assert np.max(np.abs(logits - want)) < 0.05
    assert int(np.argmax(logits)) == case["greedy"]["generated_ids"][0]
    copy = session.logits(copy=True)
    assert copy.flags.owndata
    np.testing.assert_array_equal(copy, logits)


def test_all_logit_rows(session, stories_ref, shared_dir):
    case = greedy_case(stories_ref)
    session.evaluate(case["token_ids"], all_logits=True)
    assert session.n_logit_rows == len(case["token_ids"])
    want = np.fromfile(os.path.join(shared_dir, "models", case["logits_file"]), dtype="<f4").reshape(-1, 512)
    for row in range(session.n_logit_rows):
        assert np.max(np.abs(session.logits(row) - want[row])) < 0.05
    with pytest.raises(r1.OutOfRange):
        session.logits(session.n_logit_rows)


def test_logits_view_keeps_session_alive(model):
    s = r1.Session(model, n_ctx=64)
    s.evaluate([1, 403])
    view = s.logits()
    del s
    import gc

    gc.collect()
    assert np.isfinite(view).all()


def test_save_and_load_state(session, model, tmp_path):
    session.evaluate(model.tokenize("Once upon a time"))
    path = str(tmp_path / "state.r1")
    session.save_state(path)
    other = r1.Session(model, n_ctx=512)
    other.load_state(path)
    assert other.tokens == session.tokens
    assert other.n_past == session.n_past
    np.testing.assert_allclose(other.logits(copy=True), session.logits(copy=True), atol=1e-5)
    prompt = session.tokens
    a = session.generate_from_tokens(prompt, max_new_tokens=8, temperature=0.0, ignore_eos=True).result.tokens
    b = other.generate_from_tokens(prompt, max_new_tokens=8, temperature=0.0, ignore_eos=True).result.tokens
    assert a == b


def test_cancel_from_stream(session):
    stream = session.generate("Once upon a time", max_new_tokens=-1, ignore_eos=True, temperature=0.8)
    first = next(stream)
    assert first.text
    stream.cancel()
    list(stream)
    result = stream.result
    assert result.stop_reason in (r1.StopReason.CANCELLED, r1.StopReason.CONTEXT_FULL)
    # The session is free again.
    assert session.generate("Once", max_new_tokens=2).result.n_generated_tokens <= 2


def test_cancel_from_another_thread(session):
    stream = session.generate("Once upon a time", max_new_tokens=-1, ignore_eos=True, temperature=0.8)
    got = []
    for event in stream:
        got.append(event)
        if len(got) == 3:
            t = threading.Thread(target=session.cancel)
            t.start()
            t.join()
    assert stream.result.stop_reason in (r1.StopReason.CANCELLED, r1.StopReason.CONTEXT_FULL)
    assert len(got) >= 3


def test_busy_session_raises(session):
    stream = session.generate("Once upon a time", max_new_tokens=-1, ignore_eos=True)
    next(stream)
    if not stream.done:
        with pytest.raises(r1.FailedPrecondition):
            session.evaluate([1])
    stream.close()
    assert stream.done
    session.evaluate([1])


def test_ctrl_c_cancels_generation(stories_path):
    # SIGINT while the loop body runs: KeyboardInterrupt comes from the body; closing the
    # stream stops the worker and leaves the session usable.
    code = textwrap.dedent(
        f"""
        import os, signal, threading, time, r1
        model = r1.Model({stories_path!r})
        session = r1.Session(model, n_ctx=512, n_threads=1)
        stream = session.generate("Once upon a time", max_new_tokens=-1, ignore_eos=True, temperature=1.0)
        n = 0
        try:
            for event in stream:
                n += 1
                if n == 2:
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(0.01)
            print("NOT INTERRUPTED")
        except KeyboardInterrupt:
            stream.close()
            print("INTERRUPTED", stream.result.stop_reason)
        print("AFTER", session.generate("Once", max_new_tokens=2).result.n_generated_tokens)
        """
    )
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "INTERRUPTED StopReason.CANCELLED" in out.stdout or "INTERRUPTED StopReason.CONTEXT_FULL" in out.stdout, out.stdout
    assert "AFTER" in out.stdout


def test_ctrl_c_while_waiting_in_next(shared_dir):
    # The random-weight Llama with its 32K vocabulary generates slower than the consumer reads:
    # the signal lands while __next__ waits with the GIL released, and __next__ itself raises
    # KeyboardInterrupt after cancelling the worker.
    path = os.path.join(shared_dir, "models", "llama-2-tiny-random.gguf")
    code = textwrap.dedent(
        f"""
        import threading, time, _thread, r1
        model = r1.Model({path!r})
        session = r1.Session(model, n_ctx=2048, n_threads=1)
        def interrupt():
            time.sleep(0.3)
            _thread.interrupt_main()
        threading.Thread(target=interrupt).start()
        n = 0
        try:
            # `with` also covers a signal that lands in the loop body rather than in __next__.
            with session.generate("Once upon a time", max_new_tokens=-1, ignore_eos=True,
                                  temperature=1.0) as stream:
                for event in stream:
                    n += 1
            print("FINISHED", stream.result.stop_reason)
        except KeyboardInterrupt:
            print("INTERRUPTED", stream.result.stop_reason, stream.done)
        print("AFTER", session.generate("Once", max_new_tokens=2).result.n_generated_tokens)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "INTERRUPTED StopReason.CANCELLED True" in out.stdout, out.stdout
    assert "AFTER 2" in out.stdout


def test_draft_model_keeps_the_output(model, shared_dir):
    prompt = "Once upon a time"
    alone = r1.Session(model, n_ctx=512, n_threads=2).generate(prompt, temperature=0.8, seed=3,
                                                               max_new_tokens=80).result
    session = r1.Session(model, n_ctx=512, n_threads=2)
    session.set_draft(model, max_draft_tokens=5)
    got = session.generate(prompt, temperature=0.8, seed=3, max_new_tokens=80).result
    assert list(got.tokens) == list(alone.tokens)
    assert got.n_drafted_tokens > 0
    assert 0 < got.n_accepted_tokens <= got.n_drafted_tokens
    assert got.acceptance_rate == pytest.approx(got.n_accepted_tokens / got.n_drafted_tokens)
    session.set_draft(None)
    assert session.generate(prompt, temperature=0.0, max_new_tokens=8).result.n_drafted_tokens == 0
    other = r1.Model(os.path.join(shared_dir, "models", "aidreams260K.gguf"), n_threads=2)
    with pytest.raises(ValueError, match="vocabulary"):
        session.set_draft(other)
    with pytest.raises(ValueError):
        session.set_draft(model, max_draft_tokens=0)
    # This model's file carries no multi-token-prediction block to draft with.
    with pytest.raises(r1.FailedPrecondition, match="nextn"):
        session.set_nextn_draft()
