package io.polyipc;

import java.nio.charset.StandardCharsets;

/**
 * A failed polyipc call: the {@link Status} and the library's message, which names the object and the
 * cause. Unchecked; each status has its own subclass (for example {@link ClosedException}, {@link
 * InvalidJsonException}), so callers catch what they can handle.
 */
public class PolyipcException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final Status status;

  public PolyipcException(Status status, String message) {
    this(status, message, true);
  }

  /**
   * For the statuses the binding uses as answers rather than failures (TIMEOUT, EMPTY, FULL while it waits
   * in slices), which are made without a stack trace so waiting stays cheap.
   */
  protected PolyipcException(Status status, String message, boolean withStackTrace) {
    super(message, null, true, withStackTrace);
    this.status = status;
  }

  /** What went wrong, as the C API's status. */
  public Status status() {
    return status;
  }

  /** Called by the JNI glue (java.i) for a failed call: the code and the UTF-8 message. */
  static PolyipcException fromNative(int code, byte[] utf8Message) {
    String message = new String(utf8Message, StandardCharsets.UTF_8);
    Status status = Status.fromCode(code);
    boolean answer = status == Status.TIMEOUT || status == Status.EMPTY || status == Status.FULL;
    return of(status, status == Status.UNKNOWN ? message + " (status " + code + ")" : message, !answer);
  }

  static PolyipcException of(Status status, String message, boolean withStackTrace) {
    switch (status) {
      case TIMEOUT: return new PolyipcTimeoutException(message, withStackTrace);
      case EMPTY: return new EmptyException(message, withStackTrace);
      case FULL: return new FullException(message, withStackTrace);
      case CLOSED: return new ClosedException(message);
      case NOT_FOUND: return new NotFoundException(message);
      case EXISTS: return new AlreadyExistsException(message);
      case INVALID_ARG: return new InvalidArgumentException(message);
      case INVALID_JSON: return new InvalidJsonException(message);
      case TOO_LARGE: return new TooLargeException(message);
      case PERMISSION: return new PermissionDeniedException(message);
      case OWNER_DEAD: return new OwnerDeadException(message);
      case INCOMPATIBLE: return new IncompatibleException(message);
      case NO_MEMORY: return new NoMemoryException(message);
      case NOT_OWNER: return new NotOwnerException(message);
      case BROKEN: return new BrokenException(message);
      case SYSTEM: return new SystemException(message);
      case OUT_OF_RANGE: return new OutOfRangeException(message);
      default: return new PolyipcException(status, message);
    }
  }
}
