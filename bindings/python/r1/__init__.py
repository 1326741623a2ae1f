"""Run DeepSeek-R1-family language models from GGUF files.

    import r1

    model = r1.Model("model.gguf")
    session = r1.Session(model)
    with session.chat([{"role": "user", "content": "Why is the sky blue?"}]) as stream:
        for event in stream:
            print(event.text, end="", flush=True)
    print(stream.result.stop_reason)

Errors are raised as r1.Error and its subclasses (r1.InvalidArgument is also a ValueError,
r1.NotFound, for a missing file, a FileNotFoundError, ...) carrying r1's message. Paths may be
str or os.PathLike (pathlib.Path).
"""

from ._r1 import (
    Channel,
    ChatMessage,
    Cancelled,
    Error,
    FailedPrecondition,
    GenerateOptions,
    GenerateResult,
    GpuDevice,
    InvalidArgument,
    IoError,
    Model,
    NoChatTemplate,
    NotFound,
    OutOfMemory,
    OutOfRange,
    SamplerConfig,
    Session,
    StopReason,
    Stream,
    StreamEvent,
    Tokenizer,
    Unsupported,
    __version__,
    gpu_devices,
)

__all__ = [
    "Channel",
    "ChatMessage",
    "Cancelled",
    "Error",
    "FailedPrecondition",
    "GenerateOptions",
    "GenerateResult",
    "GpuDevice",
    "InvalidArgument",
    "IoError",
    "Model",
    "NoChatTemplate",
    "NotFound",
    "OutOfMemory",
    "OutOfRange",
    "SamplerConfig",
    "Session",
    "StopReason",
    "Stream",
    "StreamEvent",
    "Tokenizer",
    "Unsupported",
    "__version__",
    "gpu_devices",
]
