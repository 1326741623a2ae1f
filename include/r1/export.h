// r1/export.h — symbol visibility for r1's public API.
#pragma once

#if defined(_WIN32)
#if defined(R1_BUILDING)
#define R1_API __declspec(dllexport)
#else
#define R1_API
#endif
#else
#define R1_API __attribute__((visibility("default")))
#endif
