// py_session.cc — r1.Session and r1.Stream.
//
// A generation runs on a worker thread that owns no Python state: the stream callback copies
// each piece into a queue, and Stream.__next__ waits on that queue with the GIL released,
// waking regularly to run Python's signal handlers, so Ctrl-C (KeyboardInterrupt) interrupts
// the wait, cancels the generation and leaves the session usable.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "py_r1.h"

namespace r1py {

std::vector<r1::ChatMessage> ToMessages(const py::iterable& messages) {
  std::vector<r1::ChatMessage> out;
  for (py::handle item : messages) {
    if (py::isinstance<r1::ChatMessage>(item)) {
      out.push_back(item.cast<r1::ChatMessage>());
    } else if (py::isinstance<py::dict>(item)) {
      // OpenAI's message shape: an assistant turn may carry tool_calls instead of content.
      py::dict d = py::reinterpret_borrow<py::dict>(item);
      const bool has_content = d.contains("content") && !d["content"].is_none();
      if (!d.contains("role") || (!has_content && !d.contains("tool_calls"))) {
        ThrowIfError(absl::InvalidArgumentError("a chat message needs 'role' and 'content' (or 'tool_calls')"));
      }
      r1::ChatMessage message{d["role"].cast<std::string>(), has_content ? d["content"].cast<std::string>() : ""};
      if (d.contains("tool_calls") && !d["tool_calls"].is_none()) {
        message.tool_calls = ToolCallsFromPython(d["tool_calls"]);
      }
      if (d.contains("tool_call_id") && !d["tool_call_id"].is_none()) {
        message.tool_call_id = d["tool_call_id"].cast<std::string>();
      }
      out.push_back(std::move(message));
    } else if (py::isinstance<py::tuple>(item) && py::len(item) == 2) {
      py::tuple t = py::reinterpret_borrow<py::tuple>(item);
      out.push_back({t[0].cast<std::string>(), t[1].cast<std::string>()});
    } else {
      throw py::type_error("chat messages are r1.ChatMessage, {'role': ..., 'content': ...} or (role, content)");
    }
  }
  return out;
}

namespace {

// A Session used from Python. `busy` is set while a Stream's worker owns the session: every
// other call then raises instead of racing with it.
struct PySession {
  std::shared_ptr<const r1::Model> model;
  std::unique_ptr<r1::Session> session;
  std::atomic<bool> busy{false};

  void CheckIdle() const {
    if (busy.load()) {
      ThrowIfError(absl::FailedPreconditionError(
          "the session is generating: finish, cancel or close its stream first"));
    }
  }
};

using GenerateFn = std::function<absl::StatusOr<r1::GenerateResult>(r1::Session&, const r1::StreamCallback&)>;

class Stream {
 public:
  // `chat`: the generation formats a conversation, so its NotFound is a missing chat template.
  Stream(std::shared_ptr<PySession> session, GenerateFn generate, bool chat)
      : session_(std::move(session)), chat_(chat) {
    worker_ = std::thread([this, generate = std::move(generate)] { Run(generate); });
  }

  ~Stream() {
    // Destruction happens with the GIL held; joining must not hold it.
    py::gil_scoped_release nogil;
    CancelAndJoin();
  }

  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  StreamEvent Next() {
    // A signal that arrived while the caller's loop body ran is handled here, where it can
    // cancel the generation, rather than after the next piece.
    CheckSignals();
    for (;;) {
      std::optional<StreamEvent> event;
      bool finished = false;
      {
        py::gil_scoped_release nogil;
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return !queue_.empty() || done_; });
        if (!queue_.empty()) {
          event = std::move(queue_.front());
          queue_.pop_front();
        } else if (done_) {
          finished = true;
        }
      }
      if (event) return std::move(*event);
      if (finished) {
        Finish();
        // The generation's error ends the iteration once; later calls just stop.
        if (!status_.ok() && !error_raised_) {
          error_raised_ = true;
          RaiseError();
        }
        throw py::stop_iteration();
      }
      CheckSignals();
    }
  }

  // Waits for the end (dropping unread events) and returns the result.
  const r1::GenerateResult& Result() {
    for (;;) {
      bool finished = false;
      {
        py::gil_scoped_release nogil;
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_; });
        queue_.clear();
        finished = done_;
      }
      if (finished) break;
      CheckSignals();
    }
    Finish();
    // A failed generation has no result: every read raises its error.
    if (!status_.ok()) RaiseError();
    return *result_;
  }

  void Cancel() {
    stop_.store(true);
    session_->session->Cancel();
  }

  // Cancels (if still running) and waits for the worker; the session is free afterwards.
  void Close() {
    py::gil_scoped_release nogil;
    CancelAndJoin();
  }

  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

 private:
  void Run(const GenerateFn& generate) {
    r1::StreamCallback on_piece = [this](const r1::StreamPiece& piece) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(StreamEvent{piece.channel, std::string(piece.text), piece.token});
      }
      cv_.notify_one();
      return !stop_.load();
    };
    absl::StatusOr<r1::GenerateResult> result = generate(*session_->session, on_piece);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (result.ok()) {
        result_ = std::move(result).value();
      } else {
        status_ = result.status();
      }
      // Free before anyone can see the end, so that the next call on the session succeeds.
      session_->busy.store(false);
      done_ = true;
    }
    cv_.notify_all();
  }

  void CancelAndJoin() {
    if (!worker_.joinable()) return;
    bool running;
    {
      std::lock_guard<std::mutex> lock(mu_);
      running = !done_;
    }
    if (running) Cancel();
    worker_.join();
  }

  // After the worker is done: joins it.
  void Finish() {
    if (worker_.joinable()) {
      py::gil_scoped_release nogil;
      worker_.join();
    }
  }

  void RaiseError() const {
    if (chat_) ThrowIfChatError(status_);
    ThrowIfError(status_);
  }

  // Runs Python's signal handlers; if one raised (KeyboardInterrupt), stops the generation
  // and raises that exception here.
  void CheckSignals() {
    if (PyErr_CheckSignals() == 0) return;
    py::error_already_set error;
    Close();
    throw error;
  }

  std::shared_ptr<PySession> session_;
  const bool chat_;
  bool error_raised_ = false;  // by __next__, which raises it once
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StreamEvent> queue_;
  bool done_ = false;
  absl::Status status_;  // the generation's error, kept for every read of result
  std::optional<r1::GenerateResult> result_;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

r1::GenerateOptions MakeOptions(const py::object& options, const py::kwargs& overrides) {
  py::object opts = options.is_none() ? py::cast(r1::GenerateOptions{})
                                      : py::cast(options.cast<r1::GenerateOptions>());
  ApplyOverrides(opts, overrides);
  return opts.cast<r1::GenerateOptions>();
}

std::unique_ptr<Stream> StartStream(const std::shared_ptr<PySession>& s, GenerateFn generate, bool chat = false) {
  bool expected = false;
  if (!s->busy.compare_exchange_strong(expected, true)) s->CheckIdle();
  return std::make_unique<Stream>(s, std::move(generate), chat);
}

constexpr const char* kOptionsDoc = R"doc(

options: an r1.GenerateOptions; keyword arguments override its fields or its sampler's
(max_new_tokens=..., temperature=..., seed=..., stop=[...], ...).

Returns an r1.Stream: iterate it for r1.StreamEvent pieces (channel, text, token); its
.result is the r1.GenerateResult (or raises the generation's error). The generation runs on a worker thread; Ctrl-C while
iterating cancels it and raises KeyboardInterrupt. Leaving a `with` block, close() or
cancel() stop it too.)doc";

}  // namespace

void RegisterSession(py::module_& m) {
  py::class_<r1::GpuDevice>(m, "GpuDevice", "A GPU a session's layers may run on (Session(gpu_device=index)).")
      .def_readonly("name", &r1::GpuDevice::name, "as the driver names it")
      .def_readonly("kind", &r1::GpuDevice::kind, "\"discrete\", \"integrated\", \"virtual\", \"cpu\" or \"other\"")
      .def_readonly("memory_bytes", &r1::GpuDevice::memory_bytes, "its largest device-local memory heap")
      .def("__repr__", [](const r1::GpuDevice& d) {
        return py::str("GpuDevice({!r}, {!r}, memory_bytes={})").format(d.name, d.kind, d.memory_bytes);
      });
  m.def("gpu_devices", [] { return ValueOrThrow(r1::ListGpuDevices()); },
        "The GPUs Session(gpu_device=) indexes, in the Vulkan driver's order; empty for a build without "
        "Vulkan or a machine without a driver.");
  py::class_<Stream>(m, "Stream", R"doc(A running generation: an iterator of r1.StreamEvent.

    with session.chat(messages) as stream:
        for event in stream:
            print(event.text, end="")
    print(stream.result.stop_reason))doc")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &Stream::Next)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](Stream& s, py::args) { s.Close(); })
      .def_property_readonly("result", &Stream::Result, py::return_value_policy::copy,
                             "The r1.GenerateResult; waits for the end, dropping events not yet read.\n"
                             "Raises the generation's error if it failed.")
      .def("cancel", &Stream::Cancel, "Asks the generation to stop at the next token; returns at once.")
      .def("close", &Stream::Close, "Stops the generation (if running) and waits until the session is free.")
      .def_property_readonly("done", &Stream::done, "True once the generation has ended.");

  py::class_<PySession, std::shared_ptr<PySession>>(m, "Session", R"doc(One conversation's state on a model.

    session = r1.Session(model, n_ctx=2048)
    for event in session.chat([("user", "Hi!")], max_new_tokens=256):
        print(event.text, end="", flush=True)

Each call continues the context: only the part of a new prompt that differs from what is
cached is computed. Use a session from one thread at a time; cancel() works from any thread.)doc")
      .def(py::init([](const PyModel& model, int64_t n_ctx, int n_threads, int64_t n_batch,
                       const std::string& cache_type, bool batch_invariant, int gpu_layers, int gpu_device) {
             r1::SessionOptions options;
             options.n_ctx = n_ctx;
             options.n_threads = n_threads;
             options.n_batch = n_batch;
             const std::optional<r1::CacheType> type = r1::ParseCacheType(cache_type);
             if (!type) {
               ThrowIfError(absl::InvalidArgumentError("unknown cache_type '" + cache_type +
                                                       "' (f16, q8_0, f32)"));
             }
             options.cache_type = *type;
             options.batch_invariant = batch_invariant;
             options.gpu_layers = gpu_layers;
             options.gpu_device = gpu_device;
             absl::StatusOr<std::unique_ptr<r1::Session>> session;
             {
               py::gil_scoped_release nogil;
               session = r1::Session::Create(model.model, options);
             }
             auto out = std::make_shared<PySession>();
             out->model = model.model;
             out->session = ValueOrThrow(std::move(session));
             return out;
           }),
           py::arg("model"), py::kw_only(), py::arg("n_ctx") = 0, py::arg("n_threads") = 0,
           py::arg("n_batch") = 512, py::arg("cache_type") = "f16", py::arg("batch_invariant") = false,
           py::arg("gpu_layers") = 0, py::arg("gpu_device") = -1,
           R"doc(n_ctx: context length; 0 = the model's training context, capped at 32,768 for a model
with a chat template and at 4,096 for one without (the cache is reserved, not touched: memory
grows with the positions used).
n_threads: 0 = the model's default; at most max(64, 4 x hardware threads) (r1.InvalidArgument
beyond). n_batch: prompt tokens per forward pass.
cache_type: how the KV cache stores keys and values: "f16" (default), "q8_0" (half the memory
of f16; needs head sizes that are multiples of 32) or "f32" (the exactness reference).
batch_invariant: compute prompt batches as decode steps do, so a position's logits are the same
bits however its tokens were batched (slower prompts; decode speed unchanged).
gpu_layers: layers run on a GPU (a build with Vulkan): 0 none, -1 all, n the first n.
gpu_device: which GPU, an index into r1.gpu_devices(); -1 the best one.)doc")
      .def(
          "chat",
          [](const std::shared_ptr<PySession>& s, const py::iterable& messages, const py::object& options,
             const py::kwargs& overrides) {
            std::vector<r1::ChatMessage> chat = ToMessages(messages);
            r1::GenerateOptions opts = MakeOptions(options, overrides);
            return StartStream(s, [chat = std::move(chat), opts = std::move(opts)](
                                      r1::Session& session, const r1::StreamCallback& cb) {
              return session.Chat(chat, opts, cb);
            }, /*chat=*/true);
          },
          py::arg("messages"), py::kw_only(), py::arg("options") = py::none(),
          (std::string("Answers a conversation formatted with the model's chat template.") + kOptionsDoc).c_str())
      .def(
          "generate",
          [](const std::shared_ptr<PySession>& s, const std::string& prompt, const py::object& options,
             const py::kwargs& overrides) {
            r1::GenerateOptions opts = MakeOptions(options, overrides);
            return StartStream(s, [prompt, opts = std::move(opts)](r1::Session& session,
                                                                   const r1::StreamCallback& cb) {
              return session.Generate(prompt, opts, cb);
            });
          },
          py::arg("prompt"), py::kw_only(), py::arg("options") = py::none(),
          (std::string("Continues a raw prompt (special tokens in it are recognised).") + kOptionsDoc).c_str())
      .def(
          "generate_from_tokens",
          [](const std::shared_ptr<PySession>& s, std::vector<int32_t> prompt, const py::object& options,
             const py::kwargs& overrides) {
            r1::GenerateOptions opts = MakeOptions(options, overrides);
            return StartStream(s, [prompt = std::move(prompt), opts = std::move(opts)](
                                      r1::Session& session, const r1::StreamCallback& cb) {
              return session.GenerateFromTokens(prompt, opts, cb);
            });
          },
          py::arg("prompt"), py::kw_only(), py::arg("options") = py::none(),
          (std::string("Continues a prompt given as token ids.") + kOptionsDoc).c_str())
      .def(
          "evaluate",
          [](PySession& s, std::vector<int32_t> tokens, bool all_logits) {
            s.CheckIdle();
            absl::Status status;
            {
              py::gil_scoped_release nogil;
              status = s.session->Evaluate(tokens, all_logits);
            }
            ThrowIfError(status);
          },
          py::arg("tokens"), py::kw_only(), py::arg("all_logits") = false,
          "Appends tokens to the context and computes the last one's logits (every new one's with all_logits).")
      .def(
          "logits",
          [](py::object self, int64_t row, bool copy) -> py::array {
            PySession& s = self.cast<PySession&>();
            s.CheckIdle();
            const int64_t rows = s.session->n_logit_rows();
            if (rows == 0) ThrowIfError(absl::FailedPreconditionError("no logits yet: call evaluate() first"));
            if (row < -rows || row >= rows) {
              ThrowIfError(absl::OutOfRangeError("logit row " + std::to_string(row) + " of " +
                                                 std::to_string(rows)));
            }
            absl::Span<const float> logits = s.session->Logits(row < 0 ? rows + row : row);
            const std::vector<py::ssize_t> shape = {static_cast<py::ssize_t>(logits.size())};
            if (copy) return py::array_t<float>(shape, logits.data());
            // A read-only view of the session's buffer that keeps the session alive; the next
            // evaluate or generation overwrites it.
            py::array view(py::dtype::of<float>(), shape, {static_cast<py::ssize_t>(sizeof(float))},
                           logits.data(), self);
            view.attr("setflags")(py::arg("write") = false);
            return view;
          },
          py::arg("row") = -1, py::kw_only(), py::arg("copy") = false,
          R"doc(Logits of the last evaluate() as a NumPy float32 array of n_vocab values.

Without copy it is a read-only view of the session's buffer: the next call that changes the
session overwrites it. row picks one of the rows evaluate(..., all_logits=True) computed.)doc")
      .def_property_readonly("n_logit_rows", [](const PySession& s) {
        s.CheckIdle();
        return s.session->n_logit_rows();
      })
      .def_property_readonly("n_past", [](const PySession& s) {
        s.CheckIdle();
        return s.session->n_past();
      }, "positions filled in the context")
      .def_property_readonly("n_ctx", [](const PySession& s) { return s.session->n_ctx(); })
      .def_property_readonly("n_threads", [](const PySession& s) { return s.session->n_threads(); })
      .def_property_readonly(
          "cache_type", [](const PySession& s) { return std::string(r1::CacheTypeName(s.session->cache_type())); },
          "how the KV cache stores keys and values: \"f16\", \"q8_0\" or \"f32\"")
      .def_property_readonly("batch_invariant", [](const PySession& s) { return s.session->batch_invariant(); })
      .def_property_readonly("isa", [](const PySession& s) { return std::string(s.session->isa()); },
                             "the kernel instruction set in use (\"avx512\", \"neon\", \"scalar\", ...)")
      .def_property_readonly("tokens", [](const PySession& s) {
        s.CheckIdle();
        absl::Span<const int32_t> t = s.session->tokens();
        return std::vector<int32_t>(t.begin(), t.end());
      }, "the token ids in the context")
      .def("cancel", [](PySession& s) { s.session->Cancel(); },
           "Asks a running generation to stop at the next token; callable from any thread.")
      .def("reset", [](PySession& s) { s.CheckIdle(); s.session->Reset(); }, "Clears the context.")
      .def(
          "set_draft",
          [](PySession& s, const std::shared_ptr<PyModel>& draft, int max_draft_tokens, bool adaptive) {
            s.CheckIdle();
            if (draft == nullptr) {
              s.session->ClearDraft();
              return;
            }
            ThrowIfError(s.session->SetDraft(draft->model, {.max_draft_tokens = max_draft_tokens, .adaptive = adaptive}));
          },
          py::arg("draft"), py::arg("max_draft_tokens") = r1::DraftOptions{}.max_draft_tokens,
          py::arg("adaptive") = r1::DraftOptions{}.adaptive,
          R"doc(Speculative decoding: `draft`, a smaller Model with the same tokenizer, guesses up to
max_draft_tokens (1 to 16) tokens ahead and this session's model checks them in one pass. The
output does not change, token for token. None removes the draft. ValueError for a draft with
another vocabulary.)doc")
      .def(
          "set_nextn_draft",
          [](PySession& s, int max_draft_tokens, bool adaptive) {
            s.CheckIdle();
            ThrowIfError(s.session->SetNextnDraft({.max_draft_tokens = max_draft_tokens, .adaptive = adaptive}));
          },
          py::arg("max_draft_tokens") = r1::DraftOptions{}.max_draft_tokens,
          py::arg("adaptive") = r1::DraftOptions{}.adaptive,
          R"doc(Speculative decoding with the model's own multi-token-prediction (nextn) block as the
draft, for files that carry one (DeepSeek-V3/R1): no second model. The output does not change,
token for token. Raises when the file carries no usable block (the message says why);
set_draft(None) removes it.)doc")
      .def(
          "truncate",
          [](PySession& s, int64_t n) {
            s.CheckIdle();
            ThrowIfError(s.session->Truncate(n));
          },
          py::arg("n"), "Forgets positions from n on.")
      .def(
          "save_state",
          [](PySession& s, const py::object& path_arg) {
            const std::string path = PathArg(path_arg);
            s.CheckIdle();
            absl::Status status;
            {
              py::gil_scoped_release nogil;
              status = s.session->SaveState(path);
            }
            ThrowIfError(status);
          },
          py::arg("path"), "Writes the context (tokens and KV cache) to a file (str or os.PathLike).")
      .def(
          "load_state",
          [](PySession& s, const py::object& path_arg) {
            const std::string path = PathArg(path_arg);
            s.CheckIdle();
            absl::Status status;
            {
              py::gil_scoped_release nogil;
              status = s.session->LoadState(path);
            }
            ThrowIfFileError(status, path);
          },
          py::arg("path"), "Restores a context saved by save_state() on the same model.");
}

}  // namespace r1py
