// py_status.cc — r1's exceptions and the single place that turns absl::Status into them.
#include <Python.h>

#include <sys/stat.h>

#include <string>

#include "py_r1.h"

namespace r1py {
namespace {

struct Exceptions {
  PyObject* error = nullptr;
  PyObject* invalid_argument = nullptr;
  PyObject* not_found = nullptr;
  PyObject* out_of_range = nullptr;
  PyObject* unsupported = nullptr;
  PyObject* io = nullptr;
  PyObject* cancelled = nullptr;
  PyObject* out_of_memory = nullptr;
  PyObject* failed_precondition = nullptr;
  PyObject* no_chat_template = nullptr;
};

// Owned for the life of the interpreter, like the module that exposes them.
Exceptions g_exc;

PyObject* Make(py::module_& m, const char* name, const char* doc, py::tuple bases) {
  const std::string qualified = std::string("r1.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (type == nullptr) throw py::error_already_set();
  m.add_object(name, py::handle(type));
  return type;
}

}  // namespace

void RegisterStatus(py::module_& m) {
  py::handle base_exc(PyExc_Exception);
  g_exc.error = Make(m, "Error", "Base class of the errors r1 raises; the message is r1's own.",
                     py::make_tuple(base_exc));
  py::handle error(g_exc.error);
  g_exc.invalid_argument = Make(m, "InvalidArgument", "A bad argument: an unknown token id, a bad option, ...",
                                py::make_tuple(error, py::handle(PyExc_ValueError)));
  g_exc.not_found = Make(m, "NotFound", "A file that does not exist.",
                         py::make_tuple(error, py::handle(PyExc_FileNotFoundError)));
  g_exc.out_of_range = Make(m, "OutOfRange", "Something does not fit, e.g. a prompt longer than the context.",
                            py::make_tuple(error));
  g_exc.unsupported = Make(m, "Unsupported",
                           "A file r1 cannot run: an architecture or tensor type it lacks, or a file without "
                           "the tensors or metadata a model needs (e.g. a vocabulary-only file).",
                           py::make_tuple(error));
  g_exc.io = Make(m, "IoError", "Reading or writing a file failed, or its data is damaged.",
                  py::make_tuple(error, py::handle(PyExc_OSError)));
  g_exc.cancelled = Make(m, "Cancelled", "An operation was cancelled (e.g. by a load progress callback).",
                         py::make_tuple(error));
  g_exc.out_of_memory = Make(m, "OutOfMemory", "Memory ran out.",
                             py::make_tuple(error, py::handle(PyExc_MemoryError)));
  g_exc.failed_precondition = Make(m, "FailedPrecondition",
                                   "The object is not in a state that allows this (e.g. a state file of another model).",
                                   py::make_tuple(error));
  g_exc.no_chat_template = Make(m, "NoChatTemplate",
                                "The model has no chat template r1 knows: pass chat_template=\"chatml\" (or "
                                "another built-in name), or generate from a plain prompt.",
                                py::make_tuple(py::handle(g_exc.invalid_argument)));
}

namespace {

[[noreturn]] void Raise(PyObject* type, const absl::Status& status) {
  const auto message = status.message();
  const std::string text(message.data(), message.size());
  PyErr_SetString(type, text.c_str());
  throw py::error_already_set();
}

}  // namespace

void ThrowIfError(const absl::Status& status) {
  if (status.ok()) return;
  PyObject* type = g_exc.error;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: type = g_exc.invalid_argument; break;
    case absl::StatusCode::kNotFound: type = g_exc.not_found; break;
    case absl::StatusCode::kOutOfRange: type = g_exc.out_of_range; break;
    case absl::StatusCode::kUnimplemented: type = g_exc.unsupported; break;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kDataLoss: type = g_exc.io; break;
    case absl::StatusCode::kCancelled: type = g_exc.cancelled; break;
    case absl::StatusCode::kResourceExhausted: type = g_exc.out_of_memory; break;
    case absl::StatusCode::kFailedPrecondition: type = g_exc.failed_precondition; break;
    default: break;
  }
  Raise(type, status);
}

void ThrowIfFileError(const absl::Status& status, const std::string& path) {
  struct stat st;
  // The library says NotFound both for a missing file and for a tensor or key missing from a
  // file that is there; only the first is a FileNotFoundError.
  if (status.code() == absl::StatusCode::kNotFound && ::stat(path.c_str(), &st) == 0) {
    Raise(g_exc.unsupported, status);
  }
  ThrowIfError(status);
}

void ThrowIfChatError(const absl::Status& status) {
  // Formatting a conversation looks for nothing but the chat template.
  if (status.code() == absl::StatusCode::kNotFound) Raise(g_exc.no_chat_template, status);
  ThrowIfError(status);
}

py::str Utf8(std::string_view text) {
  PyObject* s = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

}  // namespace r1py
