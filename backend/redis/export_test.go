package redis

import (
	"time"

	"github.com/stratakv/strata/backend"
)

// SetFenceTTL makes the fences that s begins from now on last d (renewed
// every d/4) instead of FenceTTL.
func SetFenceTTL(s *Store, d time.Duration) { s.fenceTTL = d }

// FenceID returns the id of a fence of a Store: its set is P:fences:<id>.
func FenceID(f backend.Fence) string { return f.(*fence).id }

// DropMSETs makes the next n small commits of s send their script without
// the MSET before it (see Store.dropMSETs).
func DropMSETs(s *Store, n int32) { s.dropMSETs.Store(n) }
