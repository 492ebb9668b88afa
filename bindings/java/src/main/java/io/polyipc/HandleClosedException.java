package io.polyipc;

/**
 * Use of a handle after its {@code close()} ({@link Queue}, {@link Lock}, {@link Semaphore} ...; status
 * INVALID_ARG, as the C API answers a released handle). Not to be confused with {@link ClosedException}, the
 * end of a stream.
 */
public class HandleClosedException extends InvalidArgumentException {
  private static final long serialVersionUID = 1L;

  public HandleClosedException(String message) {
    super(message);
  }
}
