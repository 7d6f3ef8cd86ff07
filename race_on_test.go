//go:build race

package strata_test

// raceEnabled reports whether the race detector is on: it makes sync.Pool
// drop some of what is put back, so pooled allocations are not counted
// then.
const raceEnabled = true
