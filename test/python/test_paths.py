"""Paths are taken as Python's file functions take them: str, bytes or os.PathLike."""
import pathlib

import pytest

import r1


def test_model_and_tokenizer_take_pathlib_paths(stories_path):
    path = pathlib.Path(stories_path)
    model = r1.Model(path, n_threads=2)
    assert model.path == stories_path
    assert r1.Model.load(path, n_threads=2).n_vocab == model.n_vocab
    assert r1.Tokenizer.load(path).n_vocab == model.n_vocab
    assert r1.Model(stories_path.encode(), n_threads=2).n_vocab == model.n_vocab


def test_state_files_take_pathlib_paths(session, tmp_path):
    session.evaluate([1, 5, 9])
    path = tmp_path / "ctx.state"
    session.save_state(path)
    session.reset()
    session.load_state(path)
    assert session.tokens == [1, 5, 9]


def test_missing_pathlib_file_is_not_found(tmp_path):
    with pytest.raises(r1.NotFound) as info:
        r1.Model(tmp_path / "missing.gguf")
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(r1.NotFound):
        r1.Tokenizer.load(tmp_path / "missing.gguf")


@pytest.mark.parametrize("bad", [42, None, ["a.gguf"]])
def test_other_path_types_are_type_errors(bad):
    with pytest.raises(TypeError):
        r1.Model(bad)
