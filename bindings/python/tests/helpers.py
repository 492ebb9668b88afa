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


def wait_until_sleeping(pid, timeout):
    """Bounded poll of /proc until the process sleeps (state S): it is then inside the blocking call."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "S":
                return
        time.sleep(0.005)  # polling /proc, not synchronising with the child's logic
    pytest.fail(f"child {pid} never blocked within {timeout} s")
