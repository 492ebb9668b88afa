package io.polyipc;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * JSON texts as bytes for the pool's bulk calls: arrays made by joining values, and a cheap structural
 * check. The library validates every text strictly; what is checked here is
 * only what it cannot see in an array: that each part is one value, so that joining parts with commas gives
 * exactly one element per part (a raw value such as {@code 1,2} would otherwise count as two).
 */
final class JsonText {
  private JsonText() {}

  /**
   * Whether {@code b[from, to)} is one JSON value as far as its structure goes: not blank, brackets and braces
   * closed (never below the level it started at), strings closed, and no comma outside brackets. Whether it
   * is valid JSON otherwise (numbers, literals, escapes, UTF-8) is the library's check.
   */
  static boolean isOneValue(byte[] b, int from, int to) {
    int depth = 0;
    boolean blank = true;
    for (int i = from; i < to; ++i) {
      final byte c = b[i];
      switch (c) {
        case '"':
          blank = false;
          for (++i; ; ++i) {
            if (i >= to) return false; // not closed
            if (b[i] == '\\') {
              ++i;
            } else if (b[i] == '"') {
              break;
            }
          }
          break;
        case '[':
        case '{':
          blank = false;
          ++depth;
          break;
        case ']':
        case '}':
          if (--depth < 0) return false;
          break;
        case ',':
          if (depth == 0) return false;
          break;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
          break;
        default:
          blank = false;
      }
    }
    return depth == 0 && !blank;
  }

  /** The JSON array of texts[from .. to-1], each one JSON value. */
  static byte[] array(byte[][] texts, int from, int to) {
    int size = 2 + Math.max(0, to - from - 1);
    for (int i = from; i < to; ++i) size += texts[i].length;
    byte[] out = new byte[size];
    int at = 0;
    out[at++] = '[';
    for (int i = from; i < to; ++i) {
      if (i > from) out[at++] = ',';
      System.arraycopy(texts[i], 0, out, at, texts[i].length);
      at += texts[i].length;
    }
    out[at] = ']';
    return out;
  }

  /** A growable byte array (not synchronized, unlike ByteArrayOutputStream). */
  static final class Bytes {
    private byte[] buf;
    private int len;

    Bytes(int capacity) {
      buf = new byte[Math.max(16, capacity)];
    }

    Bytes add(byte b) {
      if (len == buf.length) buf = Arrays.copyOf(buf, 2 * buf.length);
      buf[len++] = b;
      return this;
    }

    Bytes add(byte[] b) {
      if (len + b.length > buf.length) buf = Arrays.copyOf(buf, Math.max(2 * buf.length, len + b.length));
      System.arraycopy(b, 0, buf, len, b.length);
      len += b.length;
      return this;
    }

    Bytes add(String ascii) {
      for (int i = 0; i < ascii.length(); ++i) add((byte) ascii.charAt(i));
      return this;
    }

    /**
     * s as a JSON string. A lone surrogate becomes '?', as {@code String.getBytes(UTF_8)} writes it (the
     * error texts of {@link PoolTask#fail} go to the library that way).
     */
    Bytes addString(String s) {
      add((byte) '"');
      for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
        if (b == '"' || b == '\\') {
          add((byte) '\\').add(b);
        } else if (b >= 0 && b < 0x20) {
          add(String.format("\\u%04x", b));
        } else {
          add(b);
        }
      }
      return add((byte) '"');
    }

    int length() {
      return len;
    }

    byte[] toArray() {
      return Arrays.copyOf(buf, len);
    }
  }
}
