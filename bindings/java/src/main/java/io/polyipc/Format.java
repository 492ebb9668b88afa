package io.polyipc;

/** What a queue's messages are. */
public enum Format {
  /** JSON text (the default): every put is validated, malformed JSON is an {@link InvalidJsonException}. */
  JSON(0),
  /** Any bytes; {@link Queue#put(String)} sends the string's UTF-8 bytes. */
  BYTES(1);

  final int code;

  Format(int code) {
    this.code = code;
  }

  static Format fromName(String name) {
    return valueOf(name.toUpperCase(java.util.Locale.ROOT));
  }
}
