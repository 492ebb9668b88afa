package io.polyipc;

/**
 * A named reentrant lock shared by processes in any language (Python's {@code multiprocessing.RLock}): a
 * {@link java.util.concurrent.locks.Lock} owned by one thread of one process, which may acquire it again;
 * it is free after as many {@link #unlock()}s as acquisitions ({@link #getHoldCount()}).
 *
 * <p>Everything else is as for {@link Lock}: a holder that dies hands the lock on with {@link
 * #previousOwnerDied()} true (reported at the outermost acquisition), unlock by a non-holder throws {@link
 * NotOwnerException}, waits are in 50 ms slices and interruptible where the JDK's are, and {@link #close()}
 * never releases the lock.
 */
public final class RLock extends LockBase {
  private RLock(String name, NativeLock handle) {
    super("rlock", name, handle);
  }

  /** Opens rlock {@code name}, creating it if needed. */
  public static RLock open(String name) {
    return open(name, SyncOptions.DEFAULT);
  }

  /**
   * Opens or creates rlock {@code name} as the options say.
   *
   * @throws IncompatibleException the name holds something else (a lock, a queue ...)
   */
  public static RLock open(String name, SyncOptions options) {
    return new RLock(name, openNative(name, true, options));
  }

  /** How many times the calling thread holds the lock (0: it does not). */
  public int getHoldCount() {
    long n = call(NativeLock::held);
    return n > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) n;
  }

  @Override
  void noteAcquired(boolean previousHolderDied) {
    // A re-entry never reports a dead holder: only the outermost acquisition sets or clears the flag.
    if (previousHolderDied) {
      setOwnerDied(true);
    } else if (getHoldCount() == 1) {
      setOwnerDied(false);
    }
  }
}
