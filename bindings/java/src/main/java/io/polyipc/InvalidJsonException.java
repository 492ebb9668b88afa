package io.polyipc;

/** INVALID_JSON: a JSON-format queue was given malformed JSON; the message says where, and the queue is unchanged. */
public class InvalidJsonException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public InvalidJsonException(String message) {
    super(Status.INVALID_JSON, message);
  }
}
