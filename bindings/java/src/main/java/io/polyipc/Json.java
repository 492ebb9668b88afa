package io.polyipc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The binding's shared Jackson mapper, made on first use (opening a queue needs no Jackson), and the JSON
 * helpers the dict and the list share. {@code what} in messages names the object, e.g. {@code dict 'x'}.
 */
final class Json {
  private Json() {}

  private static final class Holder {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }

  static ObjectMapper mapper() {
    return Holder.MAPPER;
  }

  /** s as real UTF-8 (never JNI's modified UTF-8), or null when it holds a lone surrogate. */
  static byte[] utf8(String s) {
    try {
      ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .encode(CharBuffer.wrap(s));
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * JSON text as UTF-8. INVALID_JSON for empty text (never JSON, and the native layer's "absent") and for text
   * holding a lone surrogate (no UTF-8 form).
   */
  static byte[] text(String object, String json, String what) {
    byte[] t = utf8(Objects.requireNonNull(json, what));
    if (t == null) throw new InvalidJsonException(object + ": " + what + " is not valid Unicode (a lone surrogate)");
    if (t.length == 0) throw new InvalidJsonException(object + ": " + what + " is empty, not JSON text");
    return t;
  }

  /** value written by the mapper (null: JSON null). */
  static byte[] write(ObjectMapper mapper, String object, Object value) {
    try {
      return mapper.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          object + ": cannot write " + value.getClass().getName() + " as JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** JSON text (UTF-8) read as a tree. */
  static JsonNode readTree(ObjectMapper mapper, String object, byte[] json) {
    try {
      return mapper.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(object + ": a value does not read as JSON", e);
    }
  }
}
