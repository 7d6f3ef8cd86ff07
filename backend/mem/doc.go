// Package mem is strata's in-memory backend: a Store keeps objects and refs
// in maps guarded by one sync.RWMutex and loses them when the process exits.
//
// It implements backend.Store and every optional interface of package
// backend (ObjectLister, ObjectScanner, ObjectDeleter, BatchGetter, RefWatcher), and is the
// reference against which the conformance suite in package backendtest is
// developed. Use it in tests, and for short-lived stores that need no
// durability.
//
// Bytes are copied on the way in and on the way out, so callers may modify
// what they pass to Put after it returns and own every slice a Store returns.
package mem
