// What every command needs to talk to the C API: the library's memory, its
// error reports turned into Failures, its JSON parsed, and stdout written.
#pragma once
#include <polyipc.h>

#include <memory>
#include <string>

#include "exit_codes.hpp"
#include "format.hpp"

namespace polyipc_cli {

// Memory the library returned, released with polyipc_free.
struct LibFree {
  void operator()(void* p) const { polyipc_free(p); }
};
using LibText = std::unique_ptr<char, LibFree>;

// The library's message for rc, or the status name when it left none.
std::string error_text(int rc, const polyipc_error& err);

// Throws a Failure (exit code by status) unless rc is POLYIPC_OK.
void check(int rc, const polyipc_error& err);

// The library's JSON text parsed; malformed text (a library bug) is a Failure naming `what`.
Json parse_library_json(const char* text, const char* what);

// Writes and flushes stdout; a closed stdout is a Failure.
void write_out(const std::string& text);

}  // namespace polyipc_cli
