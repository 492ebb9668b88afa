"""Child processes for the tests: same interpreter, environment and namespace."""

import selectors
import signal
import subprocess
import sys
import time

import pytest


def python_child(code, **kwargs):
    """Starts `python -c code` (same interpreter, environment and namespace) with pipes."""
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


def read_line(proc, timeout):
    """The child's next stdout line, waiting at most `timeout` seconds (fails the test otherwise)."""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            proc.kill()
            out, err = proc.communicate(timeout=10)
            pytest.fail(f"child printed nothing within {timeout} s; stderr: {err}")
    return proc.stdout.readline().rstrip("\n")


def kill9(proc):
    """Kills the child with SIGKILL (no clean-up of any kind runs) and checks that is how it died."""
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _wait_until_state_s(stat_path, what, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(stat_path) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "S":
                return
        time.sleep(0.005)  # polling /proc, not synchronising with the other side's logic
    pytest.fail(f"{what} never blocked within {timeout} s")


def wait_until_sleeping(pid, timeout):
    """Bounded poll of /proc until the process sleeps (state S): it is then inside the blocking call."""
    _wait_until_state_s(f"/proc/{pid}/stat", f"child {pid}", timeout)


def wait_until_thread_sleeping(tid, timeout):
    """The same for a thread of this process (threading.Thread.native_id)."""
    _wait_until_state_s(f"/proc/self/task/{tid}/stat", f"thread {tid}", timeout)
