package io.polyipc;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the holders of a native handle (its handle object, and what it gave out that may outlive it:
 * tasks, tickets, buffers) and releases the handle at the last unref, so nothing reachable ever uses a
 * released handle.
 */
class RefCount {
  private final AtomicInteger refs = new AtomicInteger(1); // the handle object's own reference
  private final Runnable release;

  /** @param release frees the native handle, run once by the last unref */
  RefCount(Runnable release) {
    this.release = release;
  }

  /** Another holder; only while the caller holds a reference already. */
  final void ref() {
    refs.incrementAndGet();
  }

  final void unref() {
    if (refs.decrementAndGet() == 0) release.run();
  }
}
