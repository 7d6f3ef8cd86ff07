package bench

import (
	"fmt"
	"strconv"
)

// Layout is how a Dataset's keys are spread over directories.
type Layout int

const (
	// Flat puts all N keys in one directory: d/k00000000 … d/k%08d.
	Flat Layout = iota
	// Nested spreads the keys over 1,000 directories of N/1,000 keys
	// each (fewer directories when N < 1,000): d/s000/k00000000 ….
	Nested
)

// Layouts lists every layout, in table order.
var Layouts = []Layout{Flat, Nested}

// String returns "flat" or "nested".
func (l Layout) String() string {
	switch l {
	case Flat:
		return "flat"
	case Nested:
		return "nested"
	}
	return "layout(" + strconv.Itoa(int(l)) + ")"
}

// ParseLayout parses the names String returns.
func ParseLayout(s string) (Layout, error) {
	switch s {
	case "flat":
		return Flat, nil
	case "nested":
		return Nested, nil
	}
	return 0, fmt.Errorf("unknown layout %q (want flat or nested)", s)
}

// Dir is the directory that holds every key of every layout, and the one
// the ls workload lists.
const Dir = "d"

// ValueSize is the length of every value Dataset.Value returns.
const ValueSize = 24

// Dataset is the N keys of one layout and their values. Every target of
// every module uses it, so all of them store the same bytes.
type Dataset struct {
	Layout Layout
	N      int
}

// Dirs returns the number of subdirectories of Dir in the nested layout:
// 1,000, or N when N < 1,000. It is 0 for the flat layout.
func (d Dataset) Dirs() int {
	if d.Layout != Nested {
		return 0
	}
	return max(1, min(1000, d.N))
}

// Key returns the path of key i, 0 <= i < N. Keys sort in the order of i
// (names are zero-padded), so the first names of a listing are the keys
// (or, nested, the directories) with the smallest i.
//
// Key, Split and Value format without fmt: a load formats every key and
// value inside its timed region, for every store alike, and fmt's
// formatting cost about a third of strata's load of 1,000,000 keys.
func (d Dataset) Key(i int) string {
	var buf [32]byte
	b := append(buf[:0], Dir...)
	if d.Layout == Nested {
		b = appendPadded(append(b, "/s"...), i*d.Dirs()/d.N, 3)
	}
	return string(appendPadded(append(b, "/k"...), i, 8))
}

// appendPadded appends v (>= 0) in decimal, padded with zeros to width
// digits: fmt's %0*d.
func appendPadded(b []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for ; v >= 10 || len(buf)-i < width-1; v /= 10 {
		i--
		buf[i] = byte('0' + v%10)
	}
	i--
	buf[i] = byte('0' + v)
	return append(b, buf[i:]...)
}

// Split returns Key(i) as its directory and its name within it.
func (d Dataset) Split(i int) (dir, name string) {
	name = string(appendPadded([]byte{'k'}, i, 8))
	if d.Layout == Nested {
		return string(appendPadded([]byte(Dir+"/s"), i*d.Dirs()/d.N, 3)), name
	}
	return Dir, name
}

// Value returns the value of key i after gen changes (gen 0 is the value
// the bulk load writes). It is ValueSize bytes long and distinct for every
// (i, gen), so every set really changes the store.
func (d Dataset) Value(i, gen int) []byte {
	b := appendPadded(append(make([]byte, 0, ValueSize), "value-"...), i%1e10, 10)
	return appendPadded(append(b, '-'), gen%1e7, 7)
}

// KeyBytes returns the total length of all keys and values: the payload a
// store must hold, which the mem workload subtracts to get the overhead.
func (d Dataset) KeyBytes() int {
	n := 0
	for i := 0; i < d.N; i++ {
		n += len(d.Key(i)) + ValueSize
	}
	return n
}
