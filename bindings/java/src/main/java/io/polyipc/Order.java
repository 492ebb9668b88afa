package io.polyipc;

/** The order in which a queue hands out its messages. */
public enum Order {
  /** First in, first out. */
  FIFO(0),
  /** Last in, first out. */
  LIFO(1),
  /** Lowest priority number first; first in, first out among equal priorities. */
  PRIORITY(2);

  final int code;

  Order(int code) {
    this.code = code;
  }

  static Order fromName(String name) {
    return valueOf(name.toUpperCase(java.util.Locale.ROOT));
  }
}
