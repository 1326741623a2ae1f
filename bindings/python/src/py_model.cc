// py_model.cc — r1.Model and r1.Tokenizer.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "py_r1.h"
#include "r1/chat.h"

namespace r1py {
namespace {

std::shared_ptr<PyModel> LoadModel(const py::object& path_arg, bool use_mmap, int n_threads, py::object progress) {
  const std::string path = PathArg(path_arg);
  r1::LoadOptions options;
  options.use_mmap = use_mmap;
  options.n_threads = n_threads;
  // The callback runs on this thread with the GIL released; an exception it raises cancels
  // the load and is raised again here.
  std::optional<py::error_already_set> callback_error;
  if (!progress.is_none()) {
    options.progress = [&progress, &callback_error](float fraction) {
      py::gil_scoped_acquire gil;
      try {
        py::object keep_going = progress(fraction);
        return keep_going.is_none() || keep_going.cast<bool>();
      } catch (py::error_already_set& e) {
        callback_error.emplace(std::move(e));
        return false;
      }
    };
  }
  absl::StatusOr<std::shared_ptr<const r1::Model>> model;
  {
    py::gil_scoped_release nogil;
    model = r1::Model::Load(path, options);
  }
  if (callback_error) throw std::move(*callback_error);
  if (!model.ok()) ThrowIfFileError(model.status(), path);
  return std::make_shared<PyModel>(PyModel{*std::move(model)});
}

const r1::Tokenizer& TokenizerOf(const PyModel& m) {
  const r1::Tokenizer* t = m.model->tokenizer();
  if (t == nullptr) ThrowIfError(absl::FailedPreconditionError("the model has no tokenizer"));
  return *t;
}

std::vector<int32_t> Encode(const r1::Tokenizer& t, const py::object& text, std::optional<bool> add_bos,
                            std::optional<bool> add_eos, bool parse_special) {
  // str is encoded as UTF-8; bytes are taken as they are.
  std::string bytes = py::isinstance<py::bytes>(text) ? std::string(text.cast<py::bytes>())
                                                      : text.cast<std::string>();
  r1::EncodeOptions options;
  options.add_bos = add_bos;
  options.add_eos = add_eos;
  options.parse_special = parse_special;
  absl::StatusOr<std::vector<int32_t>> ids;
  {
    py::gil_scoped_release nogil;
    ids = t.Encode(bytes, options);
  }
  return ValueOrThrow(std::move(ids));
}

std::string DecodeBytes(const r1::Tokenizer& t, const std::vector<int32_t>& ids, bool render_special,
                        bool strip_prefix_space) {
  r1::DecodeOptions options;
  options.render_special = render_special;
  options.strip_prefix_space = strip_prefix_space;
  absl::StatusOr<std::string> text;
  {
    py::gil_scoped_release nogil;
    text = t.Decode(ids, options);
  }
  return ValueOrThrow(std::move(text));
}

constexpr const char* kEncodeDoc = R"doc(Token ids of `text` (str, or bytes taken as they are).

add_bos / add_eos: None = as the vocabulary's metadata says. parse_special: recognise control
tokens written in the text (<｜User｜>, <|im_start|>, ...).

    ids = model.tokenize("Once upon a time", add_bos=True))doc";

constexpr const char* kDecodeDoc = R"doc(The text of token ids; ill-formed UTF-8 becomes U+FFFD
(decode_bytes gives the exact bytes). strip_prefix_space=False for a continuation.)doc";

}  // namespace

void RegisterModel(py::module_& m) {
  py::class_<PyTokenizer, std::shared_ptr<PyTokenizer>>(m, "Tokenizer", R"doc(Text <-> token ids.

A model's tokenizer is model.tokenizer; r1.Tokenizer.load(path) reads only the vocabulary of a
GGUF file. Safe to use from several threads.)doc")
      .def_static(
          "load",
          [](const py::object& path_arg) {
            const std::string path = PathArg(path_arg);
            absl::StatusOr<std::unique_ptr<r1::Tokenizer>> t;
            {
              py::gil_scoped_release nogil;
              t = r1::Tokenizer::Load(path);
            }
            if (!t.ok()) ThrowIfFileError(t.status(), path);
            auto out = std::make_shared<PyTokenizer>();
            out->own = *std::move(t);
            out->tokenizer = out->own.get();
            return out;
          },
          py::arg("path"), "Reads the tokenizer.* metadata of a GGUF file (path: str or os.PathLike).")
      .def(
          "encode",
          [](const PyTokenizer& t, py::object text, std::optional<bool> add_bos, std::optional<bool> add_eos,
             bool parse_special) { return Encode(*t.tokenizer, text, add_bos, add_eos, parse_special); },
          py::arg("text"), py::kw_only(), py::arg("add_bos") = py::none(), py::arg("add_eos") = py::none(),
          py::arg("parse_special") = false, kEncodeDoc)
      .def(
          "decode",
          [](const PyTokenizer& t, const std::vector<int32_t>& ids, bool render_special, bool strip_prefix_space) {
            return Utf8(DecodeBytes(*t.tokenizer, ids, render_special, strip_prefix_space));
          },
          py::arg("ids"), py::kw_only(), py::arg("render_special") = true, py::arg("strip_prefix_space") = true,
          kDecodeDoc)
      .def(
          "decode_bytes",
          [](const PyTokenizer& t, const std::vector<int32_t>& ids, bool render_special, bool strip_prefix_space) {
            return py::bytes(DecodeBytes(*t.tokenizer, ids, render_special, strip_prefix_space));
          },
          py::arg("ids"), py::kw_only(), py::arg("render_special") = true, py::arg("strip_prefix_space") = true,
          "The bytes of token ids, exactly.")
      .def(
          "token_text",
          [](const PyTokenizer& t, int32_t id) {
            absl::StatusOr<std::string_view> text = t.tokenizer->TokenText(id);
            if (!text.ok()) ThrowIfError(text.status());
            return Utf8(*text);
          },
          py::arg("id"), "The token's text as the vocabulary stores it.")
      .def(
          "token_bytes",
          [](const PyTokenizer& t, int32_t id) {
            absl::StatusOr<std::string_view> piece = t.tokenizer->TokenPiece(id);
            if (!piece.ok()) ThrowIfError(piece.status());
            return py::bytes(piece->data(), piece->size());
          },
          py::arg("id"), "The bytes the token decodes to (possibly part of a character).")
      .def(
          "find_token", [](const PyTokenizer& t, const std::string& text) { return t.tokenizer->FindToken(text); },
          py::arg("text"), "The id whose stored text is `text`, or None.")
      .def("is_end_of_generation", [](const PyTokenizer& t, int32_t id) { return t.tokenizer->IsEndOfGeneration(id); },
           py::arg("id"), "True for tokens that end a generated turn (EOS, <|im_end|>, ...).")
      .def_property_readonly("n_vocab", [](const PyTokenizer& t) { return t.tokenizer->n_vocab(); })
      .def_property_readonly("bos_id", [](const PyTokenizer& t) { return t.tokenizer->bos_id(); })
      .def_property_readonly("eos_id", [](const PyTokenizer& t) { return t.tokenizer->eos_id(); })
      .def_property_readonly("add_bos", [](const PyTokenizer& t) { return t.tokenizer->add_bos(); })
      .def_property_readonly("model", [](const PyTokenizer& t) { return std::string(t.tokenizer->model()); },
                             "\"gpt2\" or \"llama\"")
      .def_property_readonly("pre", [](const PyTokenizer& t) { return std::string(t.tokenizer->pre()); })
      .def_property_readonly("chat_template", [](const PyTokenizer& t) { return Utf8(t.tokenizer->chat_template()); },
                             "the Jinja source from the metadata, may be empty")
      .def("__len__", [](const PyTokenizer& t) { return t.tokenizer->n_vocab(); });

  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model", R"doc(A model loaded from a GGUF file.

    model = r1.Model("model.gguf", n_threads=4)

Immutable and safe to share between threads; any number of r1.Session objects run on one model.
path: str or os.PathLike. Loading maps the file (use_mmap=True) and copies no weights.
progress(fraction) may return False to cancel the load (r1.Cancelled). A missing file raises
r1.NotFound (a FileNotFoundError); a file that is not a model r1 can run (a vocabulary-only
file, an unknown architecture) raises r1.Unsupported.)doc")
      .def(py::init(&LoadModel), py::arg("path"), py::kw_only(), py::arg("use_mmap") = true,
           py::arg("n_threads") = 0, py::arg("progress") = py::none())
      .def_static("load", &LoadModel, py::arg("path"), py::kw_only(), py::arg("use_mmap") = true,
                  py::arg("n_threads") = 0, py::arg("progress") = py::none(), "Same as r1.Model(path, ...).")
      .def_property_readonly("architecture", [](const PyModel& p) { return p.model->config().architecture; })
      .def_property_readonly("name", [](const PyModel& p) { return Utf8(p.model->config().name); })
      .def_property_readonly("n_vocab", [](const PyModel& p) { return p.model->config().n_vocab; })
      .def_property_readonly("n_ctx_train", [](const PyModel& p) { return p.model->config().n_ctx_train; })
      .def_property_readonly("d_model", [](const PyModel& p) { return p.model->config().d_model; })
      .def_property_readonly("n_layers", [](const PyModel& p) { return p.model->config().n_layers; })
      .def_property_readonly("n_heads", [](const PyModel& p) { return p.model->config().n_heads; })
      .def_property_readonly("n_kv_heads", [](const PyModel& p) { return p.model->config().n_kv_heads; })
      .def_property_readonly("head_dim", [](const PyModel& p) { return p.model->config().head_dim; })
      .def_property_readonly("d_ff", [](const PyModel& p) { return p.model->config().d_ff; })
      .def_property_readonly("path", [](const PyModel& p) { return p.model->path(); })
      .def_property_readonly("file_bytes", [](const PyModel& p) { return p.model->file_bytes(); })
      .def_property_readonly("weight_bytes", [](const PyModel& p) { return p.model->weight_bytes(); })
      .def_property_readonly("default_threads", [](const PyModel& p) { return p.model->default_threads(); })
      .def_property_readonly(
          "tokenizer",
          [](const std::shared_ptr<PyModel>& p) -> std::shared_ptr<PyTokenizer> {
            if (p->model->tokenizer() == nullptr) return nullptr;
            auto t = std::make_shared<PyTokenizer>();
            t->owner = p->model;
            t->tokenizer = p->model->tokenizer();
            return t;
          },
          "the model's r1.Tokenizer, or None when the file has none")
      .def(
          "tokenize",
          [](const PyModel& p, py::object text, std::optional<bool> add_bos, std::optional<bool> add_eos,
             bool parse_special) { return Encode(TokenizerOf(p), text, add_bos, add_eos, parse_special); },
          py::arg("text"), py::kw_only(), py::arg("add_bos") = py::none(), py::arg("add_eos") = py::none(),
          py::arg("parse_special") = false, kEncodeDoc)
      .def(
          "detokenize",
          [](const PyModel& p, const std::vector<int32_t>& ids, bool render_special, bool strip_prefix_space) {
            return Utf8(DecodeBytes(TokenizerOf(p), ids, render_special, strip_prefix_space));
          },
          py::arg("ids"), py::kw_only(), py::arg("render_special") = true, py::arg("strip_prefix_space") = true,
          kDecodeDoc)
      .def(
          "format_chat",
          [](const PyModel& p, const py::iterable& messages, bool add_generation_prompt, py::object chat_template) {
            std::optional<r1::ChatTemplate> tmpl;
            if (!chat_template.is_none()) {
              const std::string name = chat_template.cast<std::string>();
              tmpl = r1::ChatTemplateFromName(name);
              if (!tmpl) ThrowIfError(absl::InvalidArgumentError("unknown chat template '" + name + "'"));
            }
            const std::vector<r1::ChatMessage> chat = ToMessages(messages);
            absl::StatusOr<std::string> text = r1::FormatChat(TokenizerOf(p), chat, add_generation_prompt, tmpl);
            if (!text.ok()) ThrowIfChatError(text.status());
            return Utf8(*text);
          },
          py::arg("messages"), py::kw_only(), py::arg("add_generation_prompt") = true,
          py::arg("chat_template") = py::none(),
          "The prompt text the model's chat template makes of `messages`; r1.NoChatTemplate when the\n"
          "model has none r1 knows and chat_template is not given.")
      .def("__repr__", [](const PyModel& p) {
        return py::str("<r1.Model {} ({}, {} layers, vocab {})>")
            .format(p.model->path(), p.model->config().architecture, p.model->config().n_layers,
                    p.model->config().n_vocab);
      });
}

}  // namespace r1py
