//! Options of `Queue::open` and of the synchronisation primitives, with
//! builder methods and library defaults.
use polyipc_sys as sys;
use std::mem::MaybeUninit;
use std::time::Duration;

/// A timeout as the C API's nanoseconds: `None` waits forever,
/// `Some(Duration::ZERO)` never blocks, longer than `i64::MAX` ns is forever
/// in practice (292 years).
#[inline]
pub(crate) fn timeout_ns(timeout: Option<Duration>) -> i64 {
    match timeout {
        None => sys::POLYIPC_FOREVER,
        Some(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
    }
}

/// The builder methods of an options struct, one per field, each with its
/// rustdoc: `name: T` sets field `name` to the argument, `name: T as Some`
/// to `Some(argument)` (a field left `None` keeps the library's default).
macro_rules! builder_methods {
    (@value $value:ident) => { $value };
    (@value $value:ident $wrap:ident) => { $wrap($value) };
    ($($(#[$attr:meta])* $name:ident: $ty:ty $(as $wrap:ident)?;)*) => {$(
        $(#[$attr])*
        pub fn $name(mut self, $name: $ty) -> Self {
            self.$name = builder_methods!(@value $name $($wrap)?);
            self
        }
    )*};
}

/// A C options struct as its `polyipc_*_options_init` fills it: the
/// library's defaults.
///
/// # Safety
/// `init` fills the whole struct (struct_size included), as the
/// `polyipc_*_options_init` functions do.
unsafe fn c_defaults<T>(init: unsafe extern "C" fn(*mut T)) -> T {
    let mut c = MaybeUninit::<T>::zeroed();
    // SAFETY: per the contract above.
    unsafe {
        init(c.as_mut_ptr());
        c.assume_init()
    }
}

/// The fields every options struct has (`mode`, `ephemeral`) written over
/// the C struct's defaults; a macro, as each C struct is its own type.
macro_rules! set_common_c_fields {
    ($opts:expr, $c:ident) => {
        if let Some(mode) = $opts.mode {
            $c.mode = mode;
        }
        $c.ephemeral = $opts.ephemeral as u32;
    };
}

/// In which order a queue hands out its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// First in, first out (default).
    #[default]
    Fifo,
    /// Last in, first out.
    Lifo,
    /// Lowest priority first, FIFO among equals (see `Queue::put_priority`).
    Priority,
}

/// What a queue's messages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// JSON text (default): every put is validated, malformed JSON is
    /// rejected with `Status::InvalidJson` and leaves the queue as it was.
    #[default]
    Json,
    /// Opaque bytes.
    Bytes,
}

impl Format {
    pub(crate) fn to_c(self) -> sys::polyipc_format {
        match self {
            Format::Json => sys::polyipc_format_POLYIPC_FORMAT_JSON,
            Format::Bytes => sys::polyipc_format_POLYIPC_FORMAT_BYTES,
        }
    }
}

/// Whether `Queue::open` may create, must create, or must find the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OpenMode {
    /// Race-free: concurrent openers all get the same queue (default).
    #[default]
    OpenOrCreate,
    /// Fails with `Status::Exists` when the name exists.
    CreateOnly,
    /// Fails with `Status::NotFound` when the name does not exist.
    OpenOnly,
}

impl OpenMode {
    pub(crate) fn to_c(self) -> sys::polyipc_open_mode {
        match self {
            OpenMode::OpenOrCreate => sys::polyipc_open_mode_POLYIPC_OPEN_OR_CREATE,
            OpenMode::CreateOnly => sys::polyipc_open_mode_POLYIPC_CREATE_ONLY,
            OpenMode::OpenOnly => sys::polyipc_open_mode_POLYIPC_OPEN_ONLY,
        }
    }
}

/// How to open or create a synchronisation primitive (`Lock`, `RLock`,
/// `Semaphore`, `Event`, `Condition`, `Barrier`): opened or created, mode
/// 0600, not ephemeral by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOptions {
    mode: Option<u32>,
    ephemeral: bool,
    open_mode: OpenMode,
}

impl SyncOptions {
    /// The defaults (same as `SyncOptions::default()`).
    pub fn new() -> SyncOptions {
        SyncOptions::default()
    }

    builder_methods! {
        /// Permission bits of a created object (library default 0o600; at most 0o777).
        mode: u32 as Some;

        /// An ephemeral object is unlinked when the last attached process
        /// detaches or dies; any other lives until someone unlinks it.
        ephemeral: bool;

        open_mode: OpenMode;
    }

    pub(crate) fn c_open_mode(&self) -> sys::polyipc_open_mode {
        self.open_mode.to_c()
    }

    /// The C struct: `polyipc_sync_options_init`'s defaults, overridden by
    /// what was set here.
    pub(crate) fn to_c(&self) -> sys::polyipc_sync_options {
        // SAFETY: an _init function.
        let mut c = unsafe { c_defaults(sys::polyipc_sync_options_init) };
        set_common_c_fields!(self, c);
        c
    }
}

/// How to open or create a queue. `QueueOptions::default()` is a FIFO JSON
/// queue of 1 MiB, mode 0600, opened or created. When the queue exists, only
/// order, format and joinability must agree with it (else
/// `Status::Incompatible`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueOptions {
    order: Order,
    format: Format,
    joinable: bool,
    max_items: u64,
    capacity_bytes: Option<u64>,
    max_message_bytes: u64,
    mode: Option<u32>,
    ephemeral: bool,
    open_mode: OpenMode,
}

impl QueueOptions {
    /// The defaults (same as `QueueOptions::default()`).
    pub fn new() -> QueueOptions {
        QueueOptions::default()
    }

    builder_methods! {
        order: Order;

        format: Format;

        /// Joinable queues have `task_done`/`join`, and a get is a lease: if the
        /// getting process dies before `task_done`, the item is delivered again.
        joinable: bool;

        /// At most this many messages (0, the default: bounded only by capacity).
        max_items: u64;

        /// Shared memory for messages (library default 1 MiB).
        capacity_bytes: u64 as Some;

        /// Largest message accepted (0, the default: as large as capacity allows).
        max_message_bytes: u64;

        /// Permission bits of a created queue (library default 0o600).
        mode: u32 as Some;

        /// An ephemeral queue is unlinked when the last attached process detaches
        /// or dies; any other queue lives until someone unlinks it.
        ephemeral: bool;

        open_mode: OpenMode;
    }

    pub(crate) fn c_open_mode(&self) -> sys::polyipc_open_mode {
        self.open_mode.to_c()
    }

    /// The C struct: the library's defaults from `polyipc_queue_options_init`,
    /// overridden by what was set here.
    pub(crate) fn to_c(&self) -> sys::polyipc_queue_options {
        // SAFETY: an _init function.
        let mut c = unsafe { c_defaults(sys::polyipc_queue_options_init) };
        c.order = match self.order {
            Order::Fifo => sys::polyipc_queue_order_POLYIPC_FIFO,
            Order::Lifo => sys::polyipc_queue_order_POLYIPC_LIFO,
            Order::Priority => sys::polyipc_queue_order_POLYIPC_PRIORITY,
        };
        c.format = self.format.to_c();
        c.joinable = self.joinable as u32;
        c.max_items = self.max_items;
        if let Some(capacity) = self.capacity_bytes {
            c.capacity_bytes = capacity;
        }
        c.max_message_bytes = self.max_message_bytes;
        set_common_c_fields!(self, c);
        c
    }
}

/// Which end of a pipe a [`Connection`](crate::Connection) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum End {
    /// End A: the one that sends on a one-way pipe.
    A,
    /// End B: the one that receives on a one-way pipe.
    B,
}

impl End {
    pub(crate) fn to_c(self) -> sys::polyipc_pipe_end {
        match self {
            End::A => sys::polyipc_pipe_end_POLYIPC_END_A,
            End::B => sys::polyipc_pipe_end_POLYIPC_END_B,
        }
    }

    /// The other end.
    pub fn other(self) -> End {
        match self {
            End::A => End::B,
            End::B => End::A,
        }
    }
}

/// How to open or create a pipe. `PipeOptions::default()` is a duplex JSON
/// pipe of 4 MiB per direction, mode 0600, opened or created. An existing
/// pipe with another `duplex` or `format` is `Status::Incompatible`
/// ([`Connection::attach`](crate::Connection::attach) takes it as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeOptions {
    duplex: bool,
    format: Format,
    capacity_bytes: Option<u64>,
    mode: Option<u32>,
    ephemeral: bool,
    open_mode: OpenMode,
}

impl Default for PipeOptions {
    fn default() -> PipeOptions {
        PipeOptions {
            duplex: true,
            format: Format::Json,
            capacity_bytes: None,
            mode: None,
            ephemeral: false,
            open_mode: OpenMode::OpenOrCreate,
        }
    }
}

impl PipeOptions {
    /// The defaults (same as `PipeOptions::default()`).
    pub fn new() -> PipeOptions {
        PipeOptions::default()
    }

    builder_methods! {
        /// Duplex (default): both ends send and receive. One-way: only end A
        /// sends, only end B receives (others get `Status::InvalidArg`).
        duplex: bool;

        /// JSON (default: every send is validated) or opaque bytes.
        format: Format;

        /// Bytes per direction (library default 4 MiB); a message is at most
        /// `capacity_bytes - 8` bytes.
        capacity_bytes: u64 as Some;

        /// Permission bits of a created pipe (library default 0o600).
        mode: u32 as Some;

        /// An ephemeral pipe is unlinked when the last attached process detaches
        /// or dies; any other lives until someone unlinks it.
        ephemeral: bool;

        open_mode: OpenMode;
    }

    pub(crate) fn c_open_mode(&self) -> sys::polyipc_open_mode {
        self.open_mode.to_c()
    }

    pub(crate) fn get_open_mode(&self) -> OpenMode {
        self.open_mode
    }

    /// The C struct: `polyipc_pipe_options_init`'s defaults, overridden by
    /// what was set here.
    pub(crate) fn to_c(&self) -> sys::polyipc_pipe_options {
        // SAFETY: an _init function.
        let mut c = unsafe { c_defaults(sys::polyipc_pipe_options_init) };
        c.duplex = self.duplex as u32;
        c.format = self.format.to_c();
        if let Some(capacity) = self.capacity_bytes {
            c.capacity_bytes = capacity;
        }
        set_common_c_fields!(self, c);
        c
    }
}

/// How to open or create a worker [`Pool`](crate::Pool).
/// `PoolOptions::default()` is a pool of 1 MiB of tasks, no task count
/// limit, 1 MiB of results per submitting handle, mode 0600, opened or
/// created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolOptions {
    capacity_bytes: Option<u64>,
    max_tasks: u64,
    result_capacity_bytes: Option<u64>,
    mode: Option<u32>,
    open_mode: OpenMode,
}

impl PoolOptions {
    /// The defaults (same as `PoolOptions::default()`).
    pub fn new() -> PoolOptions {
        PoolOptions::default()
    }

    builder_methods! {
        /// Shared memory for waiting tasks (library default 1 MiB); a submit
        /// waits for room.
        capacity_bytes: u64 as Some;

        /// At most this many waiting tasks (0, the default: bounded only by
        /// capacity).
        max_tasks: u64;

        /// Shared memory of each submitting handle's result queue (library
        /// default 1 MiB). A result too large for it reaches the submitter
        /// as a failed task.
        result_capacity_bytes: u64 as Some;

        /// Permission bits of the pool and its result queues (library default 0o600).
        mode: u32 as Some;

        open_mode: OpenMode;
    }

    pub(crate) fn c_open_mode(&self) -> sys::polyipc_open_mode {
        self.open_mode.to_c()
    }

    /// The C struct: `polyipc_pool_options_init`'s defaults, overridden by
    /// what was set here.
    pub(crate) fn to_c(&self) -> sys::polyipc_pool_options {
        // SAFETY: an _init function.
        let mut c = unsafe { c_defaults(sys::polyipc_pool_options_init) };
        if let Some(capacity) = self.capacity_bytes {
            c.capacity_bytes = capacity;
        }
        c.max_tasks = self.max_tasks;
        if let Some(capacity) = self.result_capacity_bytes {
            c.result_capacity_bytes = capacity;
        }
        if let Some(mode) = self.mode {
            c.mode = mode;
        }
        c
    }
}

/// How to open or create a [`Dict`](crate::Dict). `DictOptions::default()`
/// is a dict of 1 MiB of room for keys and values (the object maps twice
/// that), at most 4096 keys, mode 0600, opened or created. Opening an
/// existing dict ignores `capacity_bytes` and `max_items`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DictOptions {
    capacity_bytes: Option<u64>,
    max_items: Option<u64>,
    mode: Option<u32>,
    ephemeral: bool,
    open_mode: OpenMode,
}

impl DictOptions {
    /// The defaults (same as `DictOptions::default()`).
    pub fn new() -> DictOptions {
        DictOptions::default()
    }

    builder_methods! {
        /// Room for keys and values (library default 1 MiB). A set that
        /// finds no room is `Status::Full`; an entry that could never fit is
        /// `Status::TooLarge`.
        capacity_bytes: u64 as Some;

        /// At most this many keys (library default 4096); one more is
        /// `Status::Full` (replacing a key's value is not adding one).
        max_items: u64 as Some;

        /// Permission bits of a created dict (library default 0o600).
        mode: u32 as Some;

        /// An ephemeral dict is unlinked when the last attached process
        /// detaches or dies; any other lives until someone unlinks it.
        ephemeral: bool;

        open_mode: OpenMode;
    }

    pub(crate) fn c_open_mode(&self) -> sys::polyipc_open_mode {
        self.open_mode.to_c()
    }

    /// The C struct: `polyipc_dict_options_init`'s defaults, overridden by
    /// what was set here.
    pub(crate) fn to_c(&self) -> sys::polyipc_dict_options {
        // SAFETY: an _init function.
        let mut c = unsafe { c_defaults(sys::polyipc_dict_options_init) };
        if let Some(capacity) = self.capacity_bytes {
            c.capacity_bytes = capacity;
        }
        if let Some(max_items) = self.max_items {
            c.max_items = max_items;
        }
        set_common_c_fields!(self, c);
        c
    }
}

/// How to open or create a [`List`](crate::List). `ListOptions::default()`
/// is a list of 1 MiB of room for values (the object maps twice that), at
/// most 4096 values, mode 0600, opened or created. Opening an existing list
/// ignores `capacity_bytes` and `max_items`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    capacity_bytes: Option<u64>,
    max_items: Option<u64>,
    mode: Option<u32>,
    ephemeral: bool,
    open_mode: OpenMode,
}

impl ListOptions {
    /// The defaults (same as `ListOptions::default()`).
    pub fn new() -> ListOptions {
        ListOptions::default()
    }

    builder_methods! {
        /// Room for values (library default 1 MiB). An append, insert or set
        /// that finds no room is `Status::Full`; a value that could never fit
        /// is `Status::TooLarge`.
        capacity_bytes: u64 as Some;

        /// At most this many values (library default 4096); one more is
        /// `Status::Full`.
        max_items: u64 as Some;

        /// Permission bits of a created list (library default 0o600).
        mode: u32 as Some;

        /// An ephemeral list is unlinked when the last attached process
        /// detaches or dies; any other lives until someone unlinks it.
        ephemeral: bool;

        open_mode: OpenMode;
    }

    pub(crate) fn c_open_mode(&self) -> sys::polyipc_open_mode {
        self.open_mode.to_c()
    }

    /// The C struct: `polyipc_list_options_init`'s defaults, overridden by
    /// what was set here.
    pub(crate) fn to_c(&self) -> sys::polyipc_list_options {
        // SAFETY: an _init function.
        let mut c = unsafe { c_defaults(sys::polyipc_list_options_init) };
        if let Some(capacity) = self.capacity_bytes {
            c.capacity_bytes = capacity;
        }
        if let Some(max_items) = self.max_items {
            c.max_items = max_items;
        }
        set_common_c_fields!(self, c);
        c
    }
}
