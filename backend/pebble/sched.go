package pebble

import (
	"sync"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
)

// gate is the compaction scheduler of one Store's database. It allows as
// many compactions at once as the database asks for (its
// GetAllowedWithoutPermission), like Pebble's default scheduler, except
// that it allows none until start is called: Open calls it once pdb.Open
// has succeeded and the format check has passed.
//
// Pebble picks compactions while pdb.Open replays the write-ahead log and
// flushes it. If pdb.Open then fails (say, writing its OPTIONS file on a
// full disk), it tears down the file cache while a compaction it started
// may still run, and that compaction crashes the process on a goroutine
// no one can recover. Under a gate, no compaction starts before start, so
// a failed Open leaves none behind.
//
// Locking, as pdb.CompactionScheduler requires: TrySchedule and
// UpdateGetAllowedWithoutPermission are called with the database's mutex
// held, so they only read its allowance (which takes no lock) and never
// grant. Granting (GetWaitingCompaction, then Schedule) takes that mutex,
// so it happens only with no lock of the gate held, on the goroutine that
// calls start or a grant's Done, or on the gate's ticker goroutine. One
// grant round runs at a time (granting). Unregister and stop wait for the
// ticker goroutine to exit and for a grant round in progress to end; after
// them the gate never calls the database again.
type gate struct {
	db pdb.DBForCompaction // set by Register; nil if never registered

	// newTicker makes the ticker of the periodic grant rounds; tests
	// replace it.
	newTicker func() (tick <-chan time.Time, stop func())

	mu       sync.Mutex
	idle     sync.Cond     // broadcast when granting becomes false
	started  bool          // start was called
	stopped  bool          // Unregister, stop or halt was called
	granting bool          // a grant round runs, with mu not held
	running  int           // compactions granted and not yet Done
	allowed  int           // the database's allowance when last read
	done     chan struct{} // closed when the ticker goroutine exits; nil before Register

	wake     chan struct{} // asks the ticker goroutine for a grant round now
	quit     chan struct{} // closed to stop the ticker goroutine
	quitOnce sync.Once
}

// grantPeriod is how often the gate looks for a compaction that waits.
// Pebble asks once for permission, and when refused remembers the
// compaction as waiting and never asks again by itself; a flush can also
// raise the allowance unseen. The periodic round keeps a waiting
// compaction from being stranded.
const grantPeriod = 100 * time.Millisecond

var _ pdb.CompactionScheduler = (*gate)(nil)

func newGate() *gate {
	g := &gate{
		newTicker: func() (<-chan time.Time, func()) {
			t := time.NewTicker(grantPeriod)
			return t.C, t.Stop
		},
		wake: make(chan struct{}, 1),
		quit: make(chan struct{}),
	}
	g.idle.L = &g.mu
	return g
}

// Register implements pdb.CompactionScheduler: pdb.Open calls it once,
// before it may ask for a compaction. It starts the ticker goroutine.
func (g *gate) Register(_ int, db pdb.DBForCompaction) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped || g.done != nil {
		return
	}
	g.db = db
	g.done = make(chan struct{})
	tick, stopTick := g.newTicker()
	go g.tick(tick, stopTick, g.done)
}

func (g *gate) tick(tick <-chan time.Time, stopTick func(), done chan struct{}) {
	defer close(done)
	defer stopTick()
	for {
		select {
		case <-g.quit:
			return
		case <-tick:
		case <-g.wake:
		}
		g.grant()
	}
}

// Unregister implements pdb.CompactionScheduler: DB.Close calls it, with
// no lock held. It returns once the gate can no longer call the database.
func (g *gate) Unregister() { g.shut(true) }

// stop is Unregister for a database whose pdb.Open failed (Pebble does
// not unregister it) or that is closed some other way. It is idempotent.
func (g *gate) stop() { g.shut(true) }

// halt stops the gate without waiting for it: for a Store that stopped
// after a fatal error, where a grant round may be stuck on the database's
// mutex for good.
func (g *gate) halt() { g.shut(false) }

func (g *gate) shut(wait bool) {
	g.mu.Lock()
	g.stopped = true
	done := g.done
	g.mu.Unlock()
	g.quitOnce.Do(func() { close(g.quit) })
	if !wait {
		return
	}
	if done != nil {
		<-done
	}
	g.mu.Lock()
	for g.granting {
		g.idle.Wait()
	}
	g.mu.Unlock()
}

// start lets compactions run, and grants those that wait. Open calls it,
// with no lock held, once the database is open and checked.
func (g *gate) start() {
	g.mu.Lock()
	g.started = true
	g.mu.Unlock()
	g.grant()
}

// TrySchedule implements pdb.CompactionScheduler. It is called with the
// database's mutex held, and grants at once if the gate is started and the
// database's allowance is not used up. A refused compaction waits for a
// grant round.
func (g *gate) TrySchedule() (bool, pdb.CompactionGrantHandle) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.started || g.stopped || g.db == nil {
		return false, nil
	}
	g.allowed = g.db.GetAllowedWithoutPermission()
	if g.running >= g.allowed {
		return false, nil
	}
	g.running++
	return true, grant{g}
}

// UpdateGetAllowedWithoutPermission implements pdb.CompactionScheduler: a
// flush may have raised the allowance. It is called with the database's
// mutex held, so it only wakes the ticker goroutine for a grant round.
func (g *gate) UpdateGetAllowedWithoutPermission() {
	g.mu.Lock()
	if g.db == nil {
		g.mu.Unlock()
		return
	}
	a := g.db.GetAllowedWithoutPermission()
	more := a > g.allowed
	g.allowed = a
	g.mu.Unlock()
	if more {
		select {
		case g.wake <- struct{}{}:
		default: // a round is already due
		}
	}
}

// grant runs one grant round: while the allowance is not used up, it
// starts the compaction the database has waiting. It must be called with
// no lock held (Schedule takes the database's mutex).
func (g *gate) grant() {
	g.mu.Lock()
	for g.granting && !g.stopped {
		g.idle.Wait()
	}
	if !g.started || g.stopped || g.db == nil {
		g.mu.Unlock()
		return
	}
	g.allowed = g.db.GetAllowedWithoutPermission()
	n := g.allowed - g.running
	if n <= 0 {
		g.mu.Unlock()
		return
	}
	g.granting = true
	g.mu.Unlock()

	defer func() {
		g.mu.Lock()
		g.granting = false
		g.idle.Broadcast()
		g.mu.Unlock()
	}()
	for ; n > 0; n-- {
		if waiting, _ := g.db.GetWaitingCompaction(); !waiting {
			return
		}
		// Count the compaction before it can start: it may be Done
		// before Schedule returns.
		g.mu.Lock()
		g.running++
		g.mu.Unlock()
		if !g.db.Schedule(grant{g}) {
			g.mu.Lock()
			g.running--
			g.mu.Unlock()
			return
		}
	}
}

// grant is the handle of one compaction the gate allowed.
type grant struct{ g *gate }

func (grant) Started()                                       {}
func (grant) MeasureCPU(pdb.CompactionGoroutineKind)         {}
func (grant) CumulativeStats(pdb.CompactionGrantHandleStats) {}

// Done is called by the compaction when it ends, with no lock held: its
// slot is free, so it runs a grant round.
func (h grant) Done() {
	h.g.mu.Lock()
	h.g.running--
	h.g.mu.Unlock()
	h.g.grant()
}
