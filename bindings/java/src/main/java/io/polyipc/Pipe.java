package io.polyipc;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Objects;

/**
 * A named pipe: two connected {@link Connection}s, end A and end B (Python's {@code multiprocessing.Pipe},
 * with a name so that another process, in any language, can open an end). Duplex by default; in a one-way
 * pipe end A sends and end B receives.
 *
 * <pre>{@code
 * try (Pipe pipe = Pipe.open("rpc")) {              // both ends here ...
 *   pipe.a().send("{\"ping\": 1}");
 *   String m = pipe.b().recv();
 * }
 * try (Connection b = Connection.open("rpc", Connection.End.B)) { ... }   // ... or one end per process
 * }</pre>
 *
 * <p>{@link #close()} closes both ends here (the pipe's name stays until {@link #unlink()}).
 */
public final class Pipe implements AutoCloseable {
  private final Connection a;
  private final Connection b;

  private Pipe(Connection a, Connection b) {
    this.a = a;
    this.b = b;
  }

  /** Opens or creates duplex JSON pipe {@code name} and returns both its ends. */
  public static Pipe open(String name) {
    return builder(name).open();
  }

  /**
   * Opens or creates JSON pipe {@code name}, duplex or one-way (A sends, B receives), and returns both ends.
   *
   * @throws IncompatibleException the pipe exists with other options
   */
  public static Pipe open(String name, boolean duplex) {
    return builder(name).duplex(duplex).open();
  }

  /** Options for opening or creating pipe {@code name}; finish with {@link Builder#open()} or {@link Builder#openEnd}. */
  public static Builder builder(String name) {
    return new Builder(Polyipc.requireName(name));
  }

  /** End A (in a one-way pipe, the sending end). */
  public Connection a() {
    return a;
  }

  /** End B (in a one-way pipe, the receiving end). */
  public Connection b() {
    return b;
  }

  /** The pipe's name. */
  public String name() {
    return a.name();
  }

  /** Closes both ends held here (idempotent); the other processes' ends then see the end of stream. */
  @Override
  public void close() {
    try {
      a.close();
    } finally {
      b.close();
    }
  }

  /** Removes the pipe's name (see {@link Polyipc#unlink}); attached ends keep working. */
  public void unlink() {
    Polyipc.unlink(name());
  }

  @Override
  public String toString() {
    return "Pipe[" + name() + "]";
  }

  /**
   * How to open a pipe. By default it opens the pipe or creates it with these options (duplex, JSON, 4 MiB
   * per direction); an existing pipe with another duplex or format is an {@link IncompatibleException}.
   */
  public static final class Builder {
    private final String name;
    private SyncOptions how = SyncOptions.DEFAULT; // open mode, permission bits, ephemeral
    private boolean duplex = true;
    private Format format = Format.JSON;
    private long capacityBytes;
    private ObjectMapper mapper;

    private Builder(String name) {
      this.name = name;
    }

    /** Duplex (default): both ends send and receive; false: end A sends, end B receives. */
    public Builder duplex(boolean duplex) {
      this.duplex = duplex;
      return this;
    }

    /** JSON (default: sends are validated) or BYTES. */
    public Builder format(Format format) {
      this.format = Objects.requireNonNull(format, "format");
      return this;
    }

    /** Room per direction; 0: the library's default (4 MiB). A message is at most this minus 8 bytes. */
    public Builder capacityBytes(long capacityBytes) {
      this.capacityBytes = Polyipc.requireNonNegative(capacityBytes, "capacityBytes");
      return this;
    }

    /** Permission bits of a created pipe, e.g. {@code 0600} (the default) or {@code 0660}. */
    public Builder mode(int mode) {
      how = how.mode(mode);
      return this;
    }

    /** Ephemeral: the pipe is unlinked when the last attached process detaches or dies. */
    public Builder ephemeral(boolean ephemeral) {
      how = how.ephemeral(ephemeral);
      return this;
    }

    /** Fail with {@link AlreadyExistsException} if the name exists. */
    public Builder createOnly() {
      how = how.createOnly();
      return this;
    }

    /** Fail with {@link NotFoundException} if the name does not exist. */
    public Builder openOnly() {
      how = how.openOnly();
      return this;
    }

    /** Open the pipe or create it (the default). */
    public Builder openOrCreate() {
      how = how.openOrCreate();
      return this;
    }

    /** The Jackson mapper for sendObject/recvObject; default: a plain one. */
    public Builder objectMapper(ObjectMapper mapper) {
      this.mapper = Objects.requireNonNull(mapper, "mapper");
      return this;
    }

    private Connection openNative(Connection.End end, int openMode) {
      NativeLoader.load();
      NativePipe h = NativePipe.open(name, openMode, end.code, duplex ? 1 : 0, format.code, capacityBytes, how.mode,
          how.ephemeral ? 1 : 0);
      return new Connection(name, end, h, mapper);
    }

    /** Opens (or creates) the pipe and returns both ends. */
    public Pipe open() {
      Connection a = openNative(Connection.End.A, how.openMode);
      try {
        // The pipe exists now: the second end only opens it (createOnly must not fail on our own pipe).
        return new Pipe(a, openNative(Connection.End.B, SyncOptions.OPEN_ONLY));
      } catch (RuntimeException e) {
        a.close();
        throw e;
      }
    }

    /** Opens (or creates) the pipe and returns one end of it. */
    public Connection openEnd(Connection.End end) {
      return openNative(Objects.requireNonNull(end, "end"), how.openMode);
    }
  }
}
