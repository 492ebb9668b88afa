#include "library.hpp"

#include <cstring>
#include <iostream>

namespace polyipc_cli {

std::string error_text(int rc, const polyipc_error& err) {
  if (err.message[0] != '\0') return std::string(err.message, strnlen(err.message, sizeof err.message));
  const char* name = polyipc_status_name(rc);
  return name != nullptr ? name : "error " + std::to_string(rc);
}

void check(int rc, const polyipc_error& err) {
  if (rc != POLYIPC_OK) throw Failure(exit_code_for_status(rc), error_text(rc, err));
}

Json parse_library_json(const char* text, const char* what) {
  Json j = Json::parse(text == nullptr ? "" : text, nullptr, false);
  if (j.is_discarded()) throw Failure(kExitOther, std::string("the library returned malformed JSON for ") + what);
  return j;
}

void write_out(const std::string& text) {
  std::cout << text;
  std::cout.flush();
  if (!std::cout) throw Failure(kExitOther, "could not write to stdout");
}

}  // namespace polyipc_cli
