"""Runs the pytest suite of the Python module for `meson test`.

Exits with 77 (Meson's "skipped") and says why when the module, pytest, NumPy or the shared
test data is missing, so that a build without them still passes.
"""
import os
import sys


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(77)


def main():
    test_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    try:
        import r1  # noqa: F401
    except ImportError as e:
        skip(f"the r1 module is not built or not on PYTHONPATH ({e})")
    try:
        import numpy  # noqa: F401
        import pytest
    except ImportError as e:
        skip(f"pytest and NumPy are needed (python3-pytest, python3-numpy): {e}")
    shared = os.environ.get("R1_SHARED_DIR", "")
    if not os.path.isfile(os.path.join(shared, "models", "stories260K-q8dequant.gguf")):
        skip(f"shared test data not found in '{shared}'")
    sys.exit(pytest.main([test_dir, "-q", "-p", "no:cacheprovider"] + sys.argv[2:]))


if __name__ == "__main__":
    main()
