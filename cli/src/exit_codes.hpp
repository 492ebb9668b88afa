// Exit codes of the `polyipc` command: one per class of failure, so scripts
// can tell "nothing there" from "you asked wrongly" from "broken".
#pragma once
#include <stdexcept>
#include <string>

namespace polyipc_cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,     // bad command line (unknown option, missing argument, bad timeout)
  kExitNotFound = 2,  // POLYIPC_ERR_NOT_FOUND
  kExitNoRoom = 3,    // POLYIPC_ERR_EMPTY / FULL / TIMEOUT: nothing to get, no room to put
  kExitInvalid = 4,   // POLYIPC_ERR_INVALID_JSON / INVALID_ARG / OUT_OF_RANGE / TOO_LARGE: bad input, nothing changed
  kExitOther = 5,     // every other status (CLOSED, PERMISSION, INCOMPATIBLE, SYSTEM ...)
  kExitTaskFailed = 6,  // submit: the task failed in its worker (or was cancelled)
};

// The exit code of a polyipc_status.
int exit_code_for_status(int status);

// The table printed in `polyipc --help` and cli/README.md.
extern const char* const kExitCodeHelp;

// A failure a command reports: printed as "polyipc: <message>" on stderr.
class Failure : public std::runtime_error {
 public:
  Failure(int exit_code, const std::string& message) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

}  // namespace polyipc_cli
