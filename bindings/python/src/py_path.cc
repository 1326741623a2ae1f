// py_path.cc — path arguments as Python's own file functions take them.
#include <Python.h>

#include <string>

#include "py_r1.h"

namespace r1py {

std::string PathArg(const py::object& path) {
  // os.fspath(): str, bytes, or what __fspath__ returns; TypeError otherwise.
  py::object fs = py::reinterpret_steal<py::object>(PyOS_FSPath(path.ptr()));
  if (!fs) throw py::error_already_set();
  if (PyBytes_Check(fs.ptr())) return std::string(fs.cast<py::bytes>());
  // The file system encoding, with surrogateescape, as open() does: names that are not valid
  // UTF-8 round-trip.
  py::object encoded = py::reinterpret_steal<py::object>(PyUnicode_EncodeFSDefault(fs.ptr()));
  if (!encoded) throw py::error_already_set();
  return std::string(encoded.cast<py::bytes>());
}

}  // namespace r1py
