package io.polyipc;

/** The status codes of the C API ({@code polyipc_status}); the numbers are stable and only ever appended. */
public enum Status {
  OK(0),
  TIMEOUT(1),
  EMPTY(2),
  FULL(3),
  CLOSED(4),
  NOT_FOUND(5),
  EXISTS(6),
  INVALID_ARG(7),
  INVALID_JSON(8),
  TOO_LARGE(9),
  PERMISSION(10),
  OWNER_DEAD(11),
  INCOMPATIBLE(12),
  NO_MEMORY(13),
  NOT_OWNER(14),
  BROKEN(15),
  SYSTEM(16),
  /** An index outside a list or array (since 0.7.0; INVALID_ARG before). */
  OUT_OF_RANGE(17),
  /** A code this binding does not know (a newer library). */
  UNKNOWN(-1);

  private static final Status[] BY_CODE = new Status[18];

  static {
    for (Status s : values()) {
      if (s.code >= 0) BY_CODE[s.code] = s;
    }
  }

  private final int code;

  Status(int code) {
    this.code = code;
  }

  /** The C API's number for this status. */
  public int code() {
    return code;
  }

  /** The status with this number, or {@link #UNKNOWN}. */
  public static Status fromCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNKNOWN;
  }
}
