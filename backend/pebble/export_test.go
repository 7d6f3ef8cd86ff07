package pebble

import pdb "github.com/cockroachdb/pebble/v2"

// Tune makes Open pass Pebble's options through f before it opens the
// database, so that tests can force flushes and compactions with tiny
// memtables and low L0 thresholds.
func Tune(o *Options, f func(*pdb.Options)) { o.tune = f }

// Metrics returns the metrics of s's Pebble database; s must be open.
func Metrics(s *Store) *pdb.Metrics {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Metrics()
}
