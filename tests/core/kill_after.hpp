// Kill-every-instruction tests: run an operation in a child single-stepped
// with ptrace, and SIGKILL it after k instructions.
#pragma once
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace polyipc {

// In a child: prepare() (untraced: opening a handle is not the operation
// under test), then the operation it returns, traced and killed after k
// instructions. False once the operation finished within k instructions.
inline bool KillAfter(long k, const std::function<std::function<void()>()>& prepare) {
  pid_t child = fork();
  if (child == 0) {
    std::function<void()> op = prepare();
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    raise(SIGSTOP);
    op();
    _exit(0);
  }
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSTOPPED(status));
  long steps = 0;
  for (; steps < k; ++steps) {
    if (ptrace(PTRACE_SINGLESTEP, child, nullptr, nullptr) != 0) break;
    if (waitpid(child, &status, 0) != child || WIFEXITED(status) || WIFSIGNALED(status)) break;
  }
  const bool finished = steps < k;
  kill(child, SIGKILL);
  while (waitpid(child, &status, 0) == child && !WIFEXITED(status) && !WIFSIGNALED(status))
    ptrace(PTRACE_CONT, child, nullptr, nullptr);
  return !finished;
}

}  // namespace polyipc
