//! The embedded backend: ClickHouse's in-process engine chDB (`libchdb.so`), loaded at run time
//! so that building haoqi never needs the 566 MB library.
//!
//! chDB runs one engine per process with one data path: a second `chdb_connect` with another
//! path returns NULL while the first is open (DESIGN.md §3). So the engine is a process-wide
//! singleton; every [`EmbeddedStore`] in a process shares it and isolates itself by database
//! name. Queries are serialised through a mutex. A lock file in the data directory keeps a second
//! *process* out: it gets [`StoreError::Locked`] instead of two engines writing the same parts.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;

use super::{Store, StoreError};

/// The environment variable that names the library file explicitly.
pub(crate) const LIBCHDB_ENV: &str = "HAOQI_LIBCHDB";
/// The command that installs the library where haoqi looks first.
pub(crate) const INSTALL_HINT: &str = "deploy/install-libchdb.sh";

// The C API of libchdb (chdb.h, "stable" v2 shape). `chdb_connection` is a pointer to an opaque
// struct; `chdb_connect` returns a pointer to one, which is what `chdb_close_conn` takes back.
type Conn = *mut c_void;
type ConnectFn = unsafe extern "C" fn(c_int, *mut *mut c_char) -> *mut Conn;
type CloseFn = unsafe extern "C" fn(*mut Conn);
type QueryFn =
    unsafe extern "C" fn(Conn, *const c_char, usize, *const c_char, usize) -> *mut c_void;
type BufferFn = unsafe extern "C" fn(*mut c_void) -> *mut c_char;
type LengthFn = unsafe extern "C" fn(*mut c_void) -> usize;
type ErrorFn = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type DestroyFn = unsafe extern "C" fn(*mut c_void);
type ShutdownFn = unsafe extern "C" fn() -> c_int;

struct Api {
    connect: ConnectFn,
    close: CloseFn,
    query: QueryFn,
    buffer: BufferFn,
    length: LengthFn,
    error: ErrorFn,
    destroy: DestroyFn,
    /// Joins the engine's threads once no connection is open (26.7.1 and later).
    shutdown: Option<ShutdownFn>,
}

struct Engine {
    api: Api,
    conn: *mut Conn,
    path: PathBuf,
    _lock: File,
}

// SAFETY: chDB's connection is documented thread-safe; we still serialise every call through the
// mutex that owns the engine, so no two threads touch `conn` at once.
unsafe impl Send for Engine {}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: `conn` came from chdb_connect and is closed exactly once; the library stays
        // loaded (it is never unloaded), so the functions remain valid.
        unsafe {
            (self.api.close)(self.conn);
            // With the last connection closed, join the engine's threads, so that the
            // process's own teardown does not race them.
            if let Some(shutdown) = self.api.shutdown {
                let _ = shutdown();
            }
        }
    }
}

impl Engine {
    fn run(&self, sql: &str, format: &str) -> Result<Vec<u8>, StoreError> {
        // SAFETY: pointers and lengths describe live Rust buffers for the duration of the call;
        // the result is destroyed exactly once below, after its buffer has been copied.
        unsafe {
            let res = (self.api.query)(
                *self.conn,
                sql.as_ptr().cast(),
                sql.len(),
                format.as_ptr().cast(),
                format.len(),
            );
            if res.is_null() {
                return Err(StoreError::Unavailable(
                    "chDB returned no result (engine not running)".into(),
                ));
            }
            let err = (self.api.error)(res);
            let out = if !err.is_null() {
                let msg = CStr::from_ptr(err).to_string_lossy().into_owned();
                Err(StoreError::from_clickhouse_message(msg))
            } else {
                let buf = (self.api.buffer)(res);
                let len = (self.api.length)(res);
                if buf.is_null() || len == 0 {
                    Ok(Vec::new())
                } else {
                    Ok(std::slice::from_raw_parts(buf.cast::<u8>(), len).to_vec())
                }
            };
            (self.api.destroy)(res);
            register_close_at_exit();
            out
        }
    }
}

/// chDB registers destructors lazily (function-local statics first used by a query). Exit
/// handlers run in reverse order of registration, and ours must run before any of them: it
/// closes the connection and joins the engine's threads, which otherwise crash inside those
/// destructors. So it is registered again after queries — for the first few thousand, which
/// cover every code path the product uses; the handler is idempotent.
fn register_close_at_exit() {
    static REGISTERED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    if REGISTERED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 5_000 {
        // SAFETY: `atexit` takes a plain function pointer with no captured state.
        unsafe {
            atexit(close_at_exit);
        }
    }
}

static ENGINE: OnceLock<Mutex<Option<Arc<Mutex<Engine>>>>> = OnceLock::new();

/// A database inside the process-wide chDB engine.
#[derive(Clone)]
pub struct EmbeddedStore {
    engine: Arc<Mutex<Engine>>,
    database: String,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Opens (creating if needed) the data directory `path` and uses `database` inside it.
    pub fn open(path: &Path, database: &str) -> Result<Self, StoreError> {
        super::check_identifier(database)?;
        let slot = ENGINE.get_or_init(|| Mutex::new(None));
        let mut guard = slot
            .lock()
            .map_err(|_| StoreError::Unavailable("engine mutex poisoned".into()))?;
        std::fs::create_dir_all(path).map_err(|e| StoreError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let canonical = path.canonicalize().map_err(|e| StoreError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let engine = match guard.as_ref() {
            Some(engine) => {
                let open_path = engine
                    .lock()
                    .map_err(|_| StoreError::Unavailable("engine mutex poisoned".into()))?
                    .path
                    .clone();
                if open_path != canonical {
                    return Err(StoreError::Config(format!(
                        "the embedded engine is already open on {} in this process; chDB runs one \
                         data directory per process, so {} cannot be opened too",
                        open_path.display(),
                        canonical.display()
                    )));
                }
                engine.clone()
            }
            None => {
                let engine = Arc::new(Mutex::new(start_engine(&canonical)?));
                *guard = Some(engine.clone());
                engine
            }
        };
        let store = EmbeddedStore {
            engine,
            database: database.to_string(),
        };
        store.run_blocking(
            &format!("CREATE DATABASE IF NOT EXISTS `{database}`"),
            "TabSeparated",
        )?;
        Ok(store)
    }

    fn run_blocking(&self, sql: &str, format: &str) -> Result<Vec<u8>, StoreError> {
        let engine = self
            .engine
            .lock()
            .map_err(|_| StoreError::Unavailable("engine mutex poisoned".into()))?;
        engine.run(sql, format)
    }

    async fn run(&self, sql: String, format: &'static str) -> Result<Vec<u8>, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.run_blocking(&sql, format))
            .await
            .map_err(|e| StoreError::Unavailable(format!("query task failed: {e}")))?
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        self.run(sql.to_string(), "TabSeparated").await.map(|_| ())
    }

    async fn query_json_each_row(&self, sql: &str) -> Result<Vec<u8>, StoreError> {
        self.run(sql.to_string(), "JSONEachRow").await
    }

    async fn insert_json_each_row(&self, insert_sql: &str, data: &[u8]) -> Result<(), StoreError> {
        // The data follows the statement, as in clickhouse-client; the statement must end in
        // `FORMAT JSONEachRow`. JSON text never contains a raw NUL, and `chdb_query_n` takes
        // lengths, so the buffer is passed as is.
        let mut sql = String::with_capacity(insert_sql.len() + 1 + data.len());
        sql.push_str(insert_sql);
        sql.push('\n');
        sql.push_str(std::str::from_utf8(data).map_err(|e| StoreError::Decode(e.to_string()))?);
        self.run(sql, "TabSeparated").await.map(|_| ())
    }

    fn exclusive(&self) -> bool {
        true
    }

    fn database(&self) -> &str {
        &self.database
    }

    fn describe(&self) -> String {
        let path = self
            .engine
            .lock()
            .map(|e| e.path.display().to_string())
            .unwrap_or_default();
        format!("embedded:{path} (database {})", self.database)
    }
}

/// Closes the process's engine (every [`EmbeddedStore`] must be dropped first). Call before the
/// process exits: chDB's own teardown at exit crashes while a connection is open.
pub(crate) fn close_engine() {
    let Some(slot) = ENGINE.get() else {
        return;
    };
    let engine = match slot.lock() {
        Ok(mut guard) => guard.take(),
        Err(_) => return,
    };
    match engine.map(Arc::try_unwrap) {
        // The last handle: dropping the engine closes the connection.
        Some(Ok(engine)) => drop(engine),
        // Still in use somewhere: leave it rather than pull it from under a query.
        Some(Err(shared)) => {
            if let Ok(mut guard) = slot.lock() {
                *guard = Some(shared);
            }
        }
        None => {}
    }
}

/// Where haoqi looks for `libchdb.so`, in order. The installer writes the second entry.
pub(crate) fn library_search_path() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(p) = std::env::var_os(LIBCHDB_ENV) {
        paths.push(PathBuf::from(p));
        // An explicit override is the only candidate: silently falling back would hide a typo.
        return paths;
    }
    paths.push(haoqi_home().join("lib").join("libchdb.so"));
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            paths.push(dir.join("libchdb.so"));
        }
    }
    paths.push(PathBuf::from("/usr/local/lib/libchdb.so"));
    paths.push(PathBuf::from("/usr/lib/libchdb.so"));
    paths
}

/// `$HAOQI_HOME`, else `~/.haoqi`: per-user files that do not belong in a checkout.
pub(crate) fn haoqi_home() -> PathBuf {
    if let Some(h) = std::env::var_os("HAOQI_HOME") {
        return PathBuf::from(h);
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".haoqi")
}

fn load_api() -> Result<Api, StoreError> {
    let searched = library_search_path();
    let Some(path) = searched.iter().find(|p| p.is_file()) else {
        return Err(StoreError::LibraryMissing { searched });
    };
    // SAFETY: loading libchdb runs its initialisers; it is the library this code is written for.
    let lib = unsafe { libloading::Library::new(path) }
        .map_err(|e| StoreError::Unavailable(format!("cannot load {}: {e}", path.display())))?;
    // SAFETY: the symbol types match chdb.h (see the type aliases above).
    unsafe {
        let sym = |name: &str| -> Result<*mut c_void, StoreError> {
            lib.get::<*mut c_void>(name.as_bytes())
                .map(|s| *s)
                .map_err(|e| {
                    StoreError::Unavailable(format!(
                        "{} lacks {name}: {e} (expected libchdb 26.7; run {INSTALL_HINT})",
                        path.display()
                    ))
                })
        };
        let api = Api {
            connect: std::mem::transmute::<*mut c_void, ConnectFn>(sym("chdb_connect")?),
            close: std::mem::transmute::<*mut c_void, CloseFn>(sym("chdb_close_conn")?),
            query: std::mem::transmute::<*mut c_void, QueryFn>(sym("chdb_query_n")?),
            buffer: std::mem::transmute::<*mut c_void, BufferFn>(sym("chdb_result_buffer")?),
            length: std::mem::transmute::<*mut c_void, LengthFn>(sym("chdb_result_length")?),
            error: std::mem::transmute::<*mut c_void, ErrorFn>(sym("chdb_result_error")?),
            destroy: std::mem::transmute::<*mut c_void, DestroyFn>(sym(
                "chdb_destroy_query_result",
            )?),
            shutdown: lib
                .get::<*mut c_void>(b"chdb_shutdown")
                .ok()
                .map(|s| std::mem::transmute::<*mut c_void, ShutdownFn>(*s)),
        };
        // Never unloaded: unloading would run chDB's static destructors while the process
        // still runs.
        std::mem::forget(lib);
        Ok(api)
    }
}

fn start_engine(path: &Path) -> Result<Engine, StoreError> {
    let lock = take_lock(path)?;
    let api = load_api()?;
    let args = [
        "haoqi".to_string(),
        format!("--path={}", path.display()),
        // 64-bit integers as JSON numbers, not strings: counts are read back as u64.
        "--output_format_json_quote_64bit_integers=0".to_string(),
        // Server settings follow `--`: BACKUP … TO File(path) may write anywhere this process
        // may (only haoqi itself sends SQL here; `haoqi sql` is read-only).
        "--".to_string(),
        "--backups.allowed_path=/".to_string(),
    ];
    let cargs: Vec<CString> = args
        .iter()
        .map(|a| CString::new(a.as_str()))
        .collect::<Result<_, _>>()
        .map_err(|_| StoreError::Config("data path contains a NUL byte".into()))?;
    let mut argv: Vec<*mut c_char> = cargs.iter().map(|c| c.as_ptr().cast_mut()).collect();
    let argc = c_int::try_from(argv.len()).unwrap_or(c_int::MAX);
    // SAFETY: argv points at NUL-terminated strings that outlive the call.
    let conn = unsafe { (api.connect)(argc, argv.as_mut_ptr()) };
    // SAFETY: a non-null `conn` points at the connection handle chDB allocated.
    if conn.is_null() || unsafe { (*conn).is_null() } {
        return Err(StoreError::Unavailable(format!(
            "chDB could not open {} (another engine open in this process, or an unreadable \
             directory)",
            path.display()
        )));
    }
    // Test binaries and other embedders close the connection and join the engine's threads at
    // exit too, not only the `haoqi` binary (see `register_close_at_exit`).
    register_close_at_exit();
    Ok(Engine {
        api,
        conn,
        path: path.to_path_buf(),
        _lock: lock,
    })
}

extern "C" fn close_at_exit() {
    close_engine();
}

unsafe extern "C" {
    fn atexit(cb: extern "C" fn()) -> c_int;
}

/// Takes an exclusive lock on `PATH/haoqi.lock` for the life of the engine. The file records the
/// holder's pid so the second process can say who has it.
fn take_lock(path: &Path) -> Result<File, StoreError> {
    let lock_path = path.join("haoqi.lock");
    let io = |e| StoreError::Io {
        path: lock_path.clone(),
        source: e,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(StoreError::Locked {
                path: path.to_path_buf(),
                holder: holder.trim().to_string(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "pid {}", std::process::id()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(file)
}
