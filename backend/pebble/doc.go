// Package pebble is strata's embedded on-disk backend, built on the Pebble
// LSM key-value engine (github.com/cockroachdb/pebble/v2).
//
// A store is one directory holding one Pebble database. Objects and refs
// share it under distinct key prefixes:
//
//	"m/format"       -> "strata-pebble 1"   format marker, written on creation
//	"o" + hash       -> object bytes        32-byte hash, stored unchanged
//	"r" + name       -> 32-byte hash        one ref
//
// Open checks the directory before it touches it: it creates a store only
// in a missing or empty directory; one with Pebble's data files but no
// current MANIFEST is a damaged store (backend.ErrCorrupt) and one with
// other files is not a store (ErrNotStore), and both are left unchanged.
// It then checks the marker: a Pebble database without it (and not
// empty), or with a marker of another format, is refused rather than
// written to.
//
// # Failures
//
// Pebble's reports of on-disk corruption are errors wrapping
// backend.ErrCorrupt that name the damaged file, never panics. A fatal
// error (a failed write-ahead log or MANIFEST write, e.g. on a full disk)
// stops the Store: the method that met it, and every later one, returns an
// error wrapping ErrStopped and the cause (syscall.ENOSPC, …); writes
// acknowledged before are durable and found by the next Open.
//
// # Durability
//
// Every write (Store.Put, Store.CompareAndSwapRef, Store.DeleteObjects) is
// committed with an fsync of Pebble's write-ahead log before it returns: a
// call that returned nil survives a crash or power loss. A Put is one
// atomic batch, so after a crash either all of its objects are present or
// none is.
//
// # Processes and locking
//
// Pebble holds an exclusive lock on the directory (its LOCK file, a POSIX
// record lock) for as long as a store is open, so only one process — and
// only one Store within a process, however the directory's path is spelled
// (Open resolves it to one canonical path) — can use a directory at a time. Open
// waits for the lock, retrying with a short backoff, for up to
// Options.LockTimeout and then fails with an error wrapping ErrLocked that
// names the directory and, where the platform reports it, the holder's
// process id. Because the lock is held for the life of the Store, several
// short-lived strata commands on the same directory run one after the
// other, and a long-running process (a server, a watch) keeps every other
// process out until it closes the store.
//
// A read-only Store (Options.ReadOnly) takes the lock shared instead,
// with a read lock on the existing LOCK file: it needs no write access,
// creates nothing, and any number of readers may share a directory, while
// a writer waits for all of them (Pebble's own read-only mode would take
// the exclusive lock, and a writer's compactions would delete files under
// a lock-free reader).
//
// Within the one process that holds the lock, compare-and-swap on refs is
// serialised by a mutex up to the moment each write is applied; the wait
// for its fsync comes after, so that swaps made at once (commits to
// several branches) share fsyncs. RefWatcher notifications are delivered
// in-process only, once the swap is durable.
package pebble
