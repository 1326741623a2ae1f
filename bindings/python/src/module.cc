// module.cc — the r1._r1 extension; the r1 package re-exports it.
#include "py_r1.h"

#ifndef R1_PY_VERSION
#define R1_PY_VERSION "0.0.0"
#endif

PYBIND11_MODULE(_r1, m) {
  m.doc() = R"doc(Run DeepSeek-R1-family language models from GGUF files.

    import r1
    model = r1.Model("model.gguf")
    session = r1.Session(model)
    for event in session.chat([{"role": "user", "content": "Why is the sky blue?"}]):
        print(event.text, end="", flush=True)
)doc";
  r1py::RegisterStatus(m);
  r1py::RegisterTypes(m);
  r1py::RegisterModel(m);
  r1py::RegisterSession(m);
  m.attr("__version__") = R1_PY_VERSION;
}
