package io.polyipc;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Objects;

/**
 * The options a {@link Dict} and a {@link List} are opened with, once for both: open mode, permission bits,
 * ephemerality, capacity in bytes, max items and the Jackson mapper. {@code B} is the concrete builder.
 */
abstract class ManagedBuilder<B extends ManagedBuilder<B>> {
  final String name;
  SyncOptions how = SyncOptions.DEFAULT; // open mode, permission bits, ephemeral
  long capacityBytes;
  long maxItems;
  ObjectMapper mapper;

  ManagedBuilder(String name) {
    this.name = Polyipc.requireName(name);
  }

  abstract B self();

  /** Room for the values (and keys) of a created object; 0: the library's default (1 MiB). */
  public B capacityBytes(long capacityBytes) {
    this.capacityBytes = Polyipc.requireNonNegative(capacityBytes, "capacityBytes");
    return self();
  }

  /** At most this many items in a created object; 0: the library's default (4096). */
  public B maxItems(long maxItems) {
    this.maxItems = Polyipc.requireNonNegative(maxItems, "maxItems");
    return self();
  }

  /** Open mode, permission bits and ephemerality at once. */
  public B options(SyncOptions options) {
    this.how = SyncOptions.orDefault(options);
    return self();
  }

  /** Permission bits of a created object, e.g. {@code 0600} (the default) or {@code 0660}. */
  public B mode(int mode) {
    how = how.mode(mode);
    return self();
  }

  /** Ephemeral: the object is unlinked when the last attached process detaches or dies. */
  public B ephemeral(boolean ephemeral) {
    how = how.ephemeral(ephemeral);
    return self();
  }

  /** Fail with {@link AlreadyExistsException} if the name exists. */
  public B createOnly() {
    how = how.createOnly();
    return self();
  }

  /** Fail with {@link NotFoundException} if the name does not exist. */
  public B openOnly() {
    how = how.openOnly();
    return self();
  }

  /** Open the object or create it (the default). */
  public B openOrCreate() {
    how = how.openOrCreate();
    return self();
  }

  /** The Jackson mapper for values; default: the binding's plain one. */
  public B objectMapper(ObjectMapper mapper) {
    this.mapper = Objects.requireNonNull(mapper, "mapper");
    return self();
  }
}
