package io.polyipc;

/**
 * NO_MEMORY: /dev/shm has no room for the object (or for a pipe's next pages), or a table of
 * handles or waiters is full. The message names the object and the sizes.
 */
public class NoMemoryException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public NoMemoryException(String message) {
    super(Status.NO_MEMORY, message);
  }
}
