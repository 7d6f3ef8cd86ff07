package pebble

import (
	"sync"
	"testing"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
)

// fakeDB is a pdb.DBForCompaction with a number of compactions waiting
// and an allowance; it hands every grant it accepts to granted.
type fakeDB struct {
	mu      sync.Mutex
	allowed int
	waiting int
	granted chan pdb.CompactionGrantHandle
}

func (d *fakeDB) GetAllowedWithoutPermission() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.allowed
}

func (d *fakeDB) GetWaitingCompaction() (bool, pdb.WaitingCompaction) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.waiting > 0, pdb.WaitingCompaction{}
}

func (d *fakeDB) Schedule(h pdb.CompactionGrantHandle) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.waiting == 0 {
		return false
	}
	d.waiting--
	d.granted <- h
	return true
}

func (d *fakeDB) set(allowed, waiting int) {
	d.mu.Lock()
	d.allowed, d.waiting = allowed, waiting
	d.mu.Unlock()
}

// testGate returns a registered gate over db whose ticks the test sends:
// the tick channel is unbuffered, so a tick sent after another one has
// been taken means the first one's grant round has finished. The gate is
// unregistered when the test ends, and must have no goroutine left.
func testGate(t *testing.T, db *fakeDB) (*gate, chan<- time.Time) {
	t.Helper()
	tick := make(chan time.Time)
	g := newGate()
	g.newTicker = func() (<-chan time.Time, func()) { return tick, func() {} }
	g.Register(2, db)
	t.Cleanup(func() {
		g.Unregister()
		select {
		case <-g.done:
		default:
			t.Error("the ticker goroutine still runs after Unregister")
		}
	})
	return g, tick
}

// round makes the gate's ticker goroutine run one full grant round.
func round(tick chan<- time.Time) {
	tick <- time.Time{}
	tick <- time.Time{}
}

func granted(db *fakeDB) int { return len(db.granted) }

func TestGateGrantsNothingBeforeStart(t *testing.T) {
	db := &fakeDB{granted: make(chan pdb.CompactionGrantHandle, 10)}
	db.set(2, 3)
	g, tick := testGate(t, db)
	if ok, _ := g.TrySchedule(); ok {
		t.Error("TrySchedule before start granted a compaction")
	}
	g.UpdateGetAllowedWithoutPermission()
	round(tick)
	if n := granted(db); n != 0 {
		t.Fatalf("%d compactions granted before start; want 0", n)
	}

	g.start() // grants synchronously, up to the allowance
	if n := granted(db); n != 2 {
		t.Fatalf("start granted %d compactions; want the allowance, 2", n)
	}
	if ok, _ := g.TrySchedule(); ok {
		t.Error("TrySchedule granted beyond the allowance")
	}
	// A compaction ends: its slot goes to the one still waiting.
	(<-db.granted).Done()
	if n := granted(db); n != 2 {
		t.Fatalf("after Done, %d compactions granted; want 2", n)
	}
}

func TestGateGrantsPeriodically(t *testing.T) {
	db := &fakeDB{granted: make(chan pdb.CompactionGrantHandle, 10)}
	db.set(1, 0)
	g, tick := testGate(t, db)
	g.start()
	if ok, h := g.TrySchedule(); !ok {
		t.Fatal("TrySchedule after start refused with a free slot")
	} else {
		h.Done()
	}
	// A compaction Pebble was refused waits, and Pebble does not ask
	// again: the periodic round must find it.
	db.set(1, 1)
	round(tick)
	if n := granted(db); n != 1 {
		t.Fatalf("a periodic round granted %d compactions; want 1", n)
	}
	// A flush raised the allowance: the ticker goroutine is woken.
	db.set(3, 2)
	g.UpdateGetAllowedWithoutPermission()
	round(tick)
	if n := granted(db); n != 3 {
		t.Fatalf("after the allowance rose, %d compactions granted; want 3", n)
	}
}

func TestGateStopped(t *testing.T) {
	db := &fakeDB{granted: make(chan pdb.CompactionGrantHandle, 10)}
	db.set(2, 2)
	g, _ := testGate(t, db)
	g.stop() // as after a failed pdb.Open
	select {
	case <-g.done:
	default:
		t.Fatal("the ticker goroutine still runs after stop")
	}
	g.start()
	if ok, _ := g.TrySchedule(); ok || granted(db) != 0 {
		t.Fatalf("a stopped gate granted %d compactions", granted(db))
	}
	g.Unregister() // DB.Close unregisters too: idempotent

	// A gate stopped before Register starts no goroutine.
	g2 := newGate()
	g2.stop()
	g2.Register(2, db)
	if g2.done != nil {
		t.Error("Register after stop started the ticker goroutine")
	}
	g2.Unregister()
}

// TestGateConcurrent exercises grants, Done and Unregister at once, for
// the race detector.
func TestGateConcurrent(t *testing.T) {
	db := &fakeDB{granted: make(chan pdb.CompactionGrantHandle, 1000)}
	db.set(4, 500)
	g := newGate()
	g.Register(2, db)
	g.start()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				if ok, h := g.TrySchedule(); ok {
					h.Done()
				}
				g.UpdateGetAllowedWithoutPermission()
				select {
				case h := <-db.granted:
					h.Done()
				default:
				}
			}
		})
	}
	wg.Wait()
	g.Unregister()
	<-g.done
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.granting {
		t.Error("a grant round runs after Unregister returned")
	}
}
