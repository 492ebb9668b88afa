package io.polyipc;

/**
 * How to open a synchronisation object ({@link Lock}, {@link RLock}, {@link Semaphore}, {@link Event},
 * {@link Condition}, {@link Barrier}): open or create (the default), create only, or open only; and, for
 * a created object, its permission bits and whether it is ephemeral. Immutable: each method returns a
 * new value.
 *
 * <pre>{@code
 * Lock lock = Lock.open("orders.lock", SyncOptions.DEFAULT.mode(0660).ephemeral(true));
 * }</pre>
 */
public final class SyncOptions {
  // The C API's open modes (POLYIPC_OPEN_OR_CREATE ...).
  static final int OPEN_OR_CREATE = 0;
  static final int CREATE_ONLY = 1;
  static final int OPEN_ONLY = 2;

  /** Open or create, mode 0600, not ephemeral. */
  public static final SyncOptions DEFAULT = new SyncOptions(OPEN_OR_CREATE, 0, false);

  final int openMode;
  final int mode;
  final boolean ephemeral;

  private SyncOptions(int openMode, int mode, boolean ephemeral) {
    this.openMode = openMode;
    this.mode = mode;
    this.ephemeral = ephemeral;
  }

  /** Permission bits of a created object, e.g. {@code 0600} (the default) or {@code 0660}. */
  public SyncOptions mode(int mode) {
    if ((mode & ~0777) != 0) throw new IllegalArgumentException("mode must be permission bits (0..0777)");
    return new SyncOptions(openMode, mode, ephemeral);
  }

  /** Ephemeral: the object is unlinked when the last attached process detaches or dies. */
  public SyncOptions ephemeral(boolean ephemeral) {
    return new SyncOptions(openMode, mode, ephemeral);
  }

  /** Fail with {@link AlreadyExistsException} if the name exists. */
  public SyncOptions createOnly() {
    return new SyncOptions(CREATE_ONLY, mode, ephemeral);
  }

  /** Fail with {@link NotFoundException} if the name does not exist. */
  public SyncOptions openOnly() {
    return new SyncOptions(OPEN_ONLY, mode, ephemeral);
  }

  /** Open the object or create it (the default). */
  public SyncOptions openOrCreate() {
    return new SyncOptions(OPEN_OR_CREATE, mode, ephemeral);
  }

  static SyncOptions orDefault(SyncOptions options) {
    return options == null ? DEFAULT : options;
  }

  @Override
  public String toString() {
    String how = openMode == CREATE_ONLY ? "createOnly" : openMode == OPEN_ONLY ? "openOnly" : "openOrCreate";
    return "SyncOptions[" + how + ", mode 0" + Integer.toOctalString(mode == 0 ? 0600 : mode)
        + (ephemeral ? ", ephemeral]" : "]");
  }
}
