"""A copy of a GGUF file with one more string in its metadata, for models the tests need
but the shared data lacks (a chat template r1 does not know)."""
import struct

_FIXED_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY, _UINT32 = 8, 9, 4


def _skip_string(data, at):
    (n,) = struct.unpack_from("<Q", data, at)
    return at + 8 + n


def _skip_value(data, at, kind):
    if kind == _STRING:
        return _skip_string(data, at)
    if kind == _ARRAY:
        item_kind, count = struct.unpack_from("<IQ", data, at)
        at += 12
        for _ in range(count):
            at = _skip_value(data, at, item_kind)
        return at
    return at + _FIXED_SIZES[kind]


def _string(text):
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def add_string(src, dst, key, value):
    data = open(src, "rb").read()
    if data[:4] != b"GGUF":
        raise ValueError(f"{src} is not a GGUF file")
    version, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    at = 24
    alignment = 32
    for _ in range(n_kv):
        key_end = _skip_string(data, at)
        name = data[at + 8:key_end].decode()
        (kind,) = struct.unpack_from("<I", data, key_end)
        if name == "general.alignment" and kind == _UINT32:
            (alignment,) = struct.unpack_from("<I", data, key_end + 4)
        at = _skip_value(data, key_end + 4, kind)
    kv_end = at
    for _ in range(n_tensors):
        at = _skip_string(data, at)
        (n_dims,) = struct.unpack_from("<I", data, at)
        at += 4 + 8 * n_dims + 4 + 8  # dims, type, offset
    infos_end = at
    data_start = -(-infos_end // alignment) * alignment

    head = bytearray(data[:4]) + struct.pack("<IQQ", version, n_tensors, n_kv + 1)
    head += data[24:kv_end] + _string(key) + struct.pack("<I", _STRING) + _string(value)
    head += data[kv_end:infos_end]
    head += b"\0" * (-len(head) % alignment)
    with open(dst, "wb") as out:
        out.write(head)
        out.write(data[data_start:])
