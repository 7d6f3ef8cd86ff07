// Package backendtest is the conformance suite that every strata backend
// runs, in the spirit of testing/fstest.TestFS.
//
// A backend's test calls Run with a function that opens a new, empty store:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Store {
//			return mem.New()
//		})
//	}
//
// Run checks the contract documented in package backend: the object store
// (missing objects, byte-exact round trips, idempotent and batched Put,
// ownership of bytes), the ref store (sorted, prefix-filtered listing and
// every compare-and-swap case, including concurrent writers), context
// cancellation and Close. The optional interfaces (ObjectLister,
// ObjectDeleter, BatchGetter, RefWatcher) are checked only when the store
// implements them; Run logs the ones it does not.
//
// Each subtest opens its own store, so open may be called many times; the
// store is closed when the subtest ends, after which the cleanups open
// registered on its t run. A randomized model test compares the store with a
// plain map; its seed is logged on failure and can be replayed by setting the
// environment variable STRATA_BACKENDTEST_SEED.
package backendtest
