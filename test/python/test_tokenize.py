import pytest

import r1


def test_tokenize_matches_llama_cpp(model, stories_ref):
    for prompt in stories_ref["variants"]["default"]["prompts"]:
        if not isinstance(prompt["text"], str):
            continue
        flags = prompt["tokenize_flags"]
        ids = model.tokenize(prompt["text"], add_bos=flags["add_special"], parse_special=flags["parse_special"])
        assert ids == prompt["token_ids"], prompt["text"]


def test_detokenize_round_trip(model):
    text = "Once upon a time, there was a little girl named Lily."
    ids = model.tokenize(text, add_bos=False)
    assert all(isinstance(i, int) for i in ids)
    assert model.detokenize(ids) == text


def test_tokenizer_object(model, stories_path):
    tok = model.tokenizer
    assert tok is not None
    assert tok.n_vocab == model.n_vocab == len(tok) == 512
    assert tok.bos_id == 1 and tok.eos_id == 2
    assert tok.model == "llama"
    assert tok.is_end_of_generation(2)
    alone = r1.Tokenizer.load(stories_path)
    assert alone.encode("Lily", add_bos=False) == tok.encode("Lily", add_bos=False)
    assert tok.decode_bytes(tok.encode(b"a b", add_bos=False)) == b"a b"
    assert tok.token_text(1) == "<s>"


def test_tokenizer_outlives_model(stories_path):
    tok = r1.Model(stories_path).tokenizer
    import gc

    gc.collect()
    assert tok.decode(tok.encode("upon", add_bos=False)) == "upon"


def test_bad_token_id_raises(model):
    with pytest.raises(r1.InvalidArgument):
        model.detokenize([model.n_vocab + 10])
    with pytest.raises(ValueError):
        model.tokenizer.token_text(-1)
