package pebble

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/stratakv/strata/backend"
)

// ErrStopped is wrapped by the error every method of a Store returns after
// Pebble reported a fatal error (a write-ahead log or MANIFEST write that
// failed, for example because the disk is full, or an internal
// inconsistency). The database is then in a state Pebble cannot continue
// from, so the Store refuses all further use instead of risking a hang or
// a lost write; every write that returned nil before is durable and is
// found again by the next Open. The error also wraps Pebble's cause where
// there is one (errors.Is(err, syscall.ENOSPC) for a full disk), and
// backend.ErrCorrupt when the cause is on-disk corruption.
var ErrStopped = errors.New("store stopped after a fatal Pebble error")

// health is what Pebble's logger and event listener report about one
// database, shared with its Store: a fatal error, once there is one, and
// the file of the last corruption Pebble found.
type health struct {
	dir     string
	logf    func(format string, args ...any) // Options.Logf, or nil
	fatal   atomic.Pointer[fatalError]
	corrupt atomic.Pointer[string] // path of the last corrupt file
	// stuck is the first background error that Pebble cannot get past by
	// retrying (a full disk, no permission): it retries a failing flush
	// forever, so Open gives up on it instead of waiting.
	stuck atomic.Pointer[error]
	// trouble is closed on the first fatal report or stuck error.
	trouble chan struct{}
	once    sync.Once
}

func newHealth(dir string) *health {
	return &health{dir: dir, trouble: make(chan struct{})}
}

// alarm closes h.trouble, once.
func (h *health) alarm() { h.once.Do(func() { close(h.trouble) }) }

// persistent reports whether a background error is one that retrying will
// not cure until an operator acts: a full disk or quota, a read-only file
// system, or a missing permission.
func persistent(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EACCES, syscall.EPERM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// openError returns the error for an Open that gave up because of h's
// trouble, or nil if there is none.
func (h *health) openError() error {
	if h.fatal.Load() != nil {
		return h.stopped("open")
	}
	if p := h.stuck.Load(); p != nil {
		return fmt.Errorf("pebble %s: open: %w", h.dir, oneLineError{*p})
	}
	return nil
}

// oneLineError shows only the first line of err's message, and unwraps to
// err (so errors.Is(err, syscall.ENOSPC) still holds).
type oneLineError struct{ err error }

func (e oneLineError) Error() string { return oneLine(e.err.Error()) }
func (e oneLineError) Unwrap() error { return e.err }

// fatalError is a fatal report from Pebble.
type fatalError struct {
	msg   string
	cause error // the first error among the report's arguments, if any
}

func (e *fatalError) Error() string { return e.msg }
func (e *fatalError) Unwrap() error { return e.cause }

// corruption reports whether the fatal report is about on-disk corruption.
func (e *fatalError) corruption() bool {
	return (e.cause != nil && pdb.IsCorruptionError(e.cause)) || strings.Contains(e.msg, "corruption")
}

// stopped returns the error for op on a stopped store, or nil if the store
// has not stopped.
func (h *health) stopped(op string) error {
	f := h.fatal.Load()
	if f == nil {
		return nil
	}
	if f.corruption() {
		return fmt.Errorf("pebble %s: %s: %w (%w): %s", h.dir, op, ErrStopped, backend.ErrCorrupt, oneLine(f.msg))
	}
	if f.cause != nil {
		return fmt.Errorf("pebble %s: %s: %w: %w", h.dir, op, ErrStopped, f.cause)
	}
	return fmt.Errorf("pebble %s: %s: %w: %s", h.dir, op, ErrStopped, oneLine(f.msg))
}

// stop records r, a value recovered from a panic inside Pebble (a fatal
// report, or any other panic, after which Pebble's state is unknown), and
// returns the error for op.
func (h *health) stop(op string, r any) error {
	f, ok := r.(*fatalError)
	if !ok {
		err, _ := r.(error)
		f = &fatalError{msg: fmt.Sprintf("pebble panicked: %v", r), cause: err}
	}
	h.setFatal(f)
	return h.stopped(op)
}

// fatalCommit records err, the failure of a commit's log write reported
// by its wait for the sync, as fatal (as Pebble's Logger.Fatalf would be
// told of it by a commit that waited), and returns the error for op.
func (h *health) fatalCommit(op string, err error) error {
	msg := fmt.Sprintf("pebble: fatal commit error: %v", err)
	if h.logf != nil {
		h.logf("%s", msg)
	}
	h.setFatal(&fatalError{msg: msg, cause: err})
	return h.stopped(op)
}

// setFatal records f as the store's fatal error, unless there is one
// already, and alarms.
func (h *health) setFatal(f *fatalError) {
	h.fatal.CompareAndSwap(nil, f)
	h.alarm()
}

// oneLine keeps the first line of a Pebble message; its errors carry
// details and stack traces on further lines.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// logger adapts Options.Logf to Pebble's Logger.
type logger struct {
	logf func(format string, args ...any)
	h    *health
}

func (l logger) Infof(format string, args ...any) {
	if l.logf != nil {
		l.logf(format, args...)
	}
}

func (l logger) Errorf(format string, args ...any) { l.Infof(format, args...) }

// Fatalf must not return: Pebble calls it when it cannot continue safely.
// It records the error, so that the Store refuses all further use, and
// then:
//   - on a goroutine that runs a Store method or Open, it panics with the
//     *fatalError, which that method recovers and returns as an error;
//   - on one of Pebble's background goroutines (a flush or compaction),
//     where a panic would kill the whole process, it blocks that goroutine
//     for good: nothing it was doing is completed or written, and
//     everything that was acknowledged is already durable.
func (l logger) Fatalf(format string, args ...any) {
	l.Infof(format, args...)
	f := &fatalError{msg: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if err, ok := a.(error); ok {
			f.cause = err
			break
		}
	}
	l.h.setFatal(f)
	if calledFromStore() {
		panic(f)
	}
	select {}
}

// thisPackage is the prefix of the functions of this package, as the
// runtime names them.
var thisPackage = reflect.TypeFor[logger]().PkgPath() + "."

// calledFromStore reports whether a function of this package (other than
// the logger) is on the calling goroutine's stack: a Store method or Open,
// which recovers a panic.
func calledFromStore() bool {
	pcs := make([]uintptr, 1024)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		fr, more := frames.Next()
		if rest, ok := strings.CutPrefix(fr.Function, thisPackage); ok &&
			!strings.HasPrefix(rest, "logger.") && !strings.HasPrefix(rest, "(*logger).") {
			return true
		}
		if !more {
			return false
		}
	}
}

// eventListener turns Pebble's reports of corruption and background errors
// into log lines and a note of the corrupt file, instead of Pebble's
// default for a corruption report, which is a fatal error. The read that
// found the corruption returns it as an error as well.
func eventListener(l logger) *pdb.EventListener {
	return &pdb.EventListener{
		DataCorruption: func(info pdb.DataCorruptionInfo) {
			p := info.Path
			l.h.corrupt.Store(&p)
			l.Errorf("on-disk corruption in %s: %v", info.Path, info.Details)
		},
		BackgroundError: func(err error) {
			l.Errorf("background error: %v", err)
			if persistent(err) {
				l.h.stuck.CompareAndSwap(nil, &err)
				l.h.alarm()
			}
		},
	}
}
