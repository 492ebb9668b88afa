package io.polyipc;

/**
 * {@link Connection#recvInto} received a message larger than the room given (Python's
 * {@code multiprocessing.BufferTooShort}; status TOO_LARGE). The message is taken from the pipe all the
 * same: {@link #message()} holds it, whole, and the destination is unchanged.
 */
public class BufferTooShortException extends TooLargeException {
  private static final long serialVersionUID = 1L;

  private final byte[] message;

  public BufferTooShortException(String text, byte[] message) {
    super(text);
    this.message = message;
  }

  /** The message that did not fit (the array itself, not a copy). */
  public byte[] message() {
    return message;
  }
}
