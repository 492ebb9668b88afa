package io.polyipc;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The binding's shared Jackson mapper, made on first use (opening a queue needs no Jackson). */
final class Json {
  private Json() {}

  private static final class Holder {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }

  static ObjectMapper mapper() {
    return Holder.MAPPER;
  }
}
