import json
import os

import pytest

import r1


@pytest.fixture(scope="session")
def shared_dir():
    path = os.environ.get("R1_SHARED_DIR", "")
    if not os.path.isdir(os.path.join(path, "models")):
        pytest.skip("R1_SHARED_DIR does not point at the shared test data")
    return path


@pytest.fixture(scope="session")
def stories_path(shared_dir):
    return os.path.join(shared_dir, "models", "stories260K-q8dequant.gguf")


@pytest.fixture(scope="session")
def stories_ref(shared_dir):
    with open(os.path.join(shared_dir, "models", "stories260K-q8dequant.ref.json")) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def model(stories_path):
    return r1.Model(stories_path, n_threads=2)


@pytest.fixture()
def session(model):
    return r1.Session(model, n_ctx=512, n_threads=2)
