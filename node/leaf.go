package node

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"sync/atomic"
	"unsafe"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// Leaf is a directory node (at most MaxEntries entries) held as its
// canonical encoding plus where each entry starts: the form a Store caches
// and a tree edit rewrites. It costs the encoded bytes and 4 bytes per
// entry (about 8 more once it is read often enough to get a find table,
// which only leaves of at least minTabled entries and at most 64 KB get),
// and reading an entry decodes it on demand without allocating. A leaf
// made by Edit may share its offsets with the leaf it was edited from
// (they are never modified).
//
// A Leaf's entries are immutable and it is safe for concurrent use. The entries it returns
// alias its encoding: their Name and Inline must not be modified, and may
// be kept for as long as needed (they keep the encoding alive).
type Leaf struct {
	// A leaf read often (see tableAfter) gets a find table, a hash table
	// of its names, so that Find touches one slot of the table and the
	// entry it names rather than the names a binary search visits,
	// spread over the encoding. table points to the first of
	// tableSize(Len()) slots (see tableOf), once made.
	table atomic.Pointer[uint32]
	state atomic.Int32 // Find calls before the table was made (see stateCount), and flags (see stateUsed)
	refs  bool         // some entry may not be inline (false: none is)
	data  []byte       // the canonical encoding (Encode of its entries)
	offs  []uint32     // offs[i]: where entry i's name header starts in data; read-only, maybe shared (see Edit)
	// (The fields fit the Leaf in 64 bytes, one cache line.)
}

// A find table is an open-addressing hash table of a leaf's names, with
// linear probing, at most three quarters full (see tableSize). A slot is
// a 32-bit word: above, the top 16 bits of the name's hash (maphash, with
// a seed of the process's own, so that no one can choose names that
// collide); below, where the entry's name header starts in the encoding
// (never 0: the header comes first). A zero slot is empty and ends a
// probe. Find hashes the name, reads the slots from the name's home on
// until an empty one, and compares the name only where the hash bits
// match: about two cache lines read (the slot and the entry) where a
// binary search of 100 names reads seven or more.
//
// A leaf of at least minTabled entries and at most maxTabledBytes of
// encoding (so that offsets fit in 16 bits) makes its table on its
// tableAfter-th Find: a leaf a commit rewrites is read a few times and
// then replaced; one read again and again gets it. A table costs 4 bytes
// a slot: 5.3 to 10.7 bytes per entry.
const (
	minTabled      = 32
	maxTabledBytes = 1 << 16
	tableAfter     = 16
	slotOffBits    = 0xffff
)

// tableSeed seeds the hashes of every find table of the process.
var tableSeed = maphash.MakeSeed()

// tabled reports whether l gets a find table once read often enough.
func (l *Leaf) tabled() bool { return len(l.offs) >= minTabled && len(l.data) <= maxTabledBytes }

// tableSize is the number of slots of the find table of n entries: the
// least power of two (at least 8) that n fill at most three quarters of.
func tableSize(n int) int {
	m := 8
	for 3*m < 4*n {
		m <<= 1
	}
	return m
}

// makeTable makes l's find table and returns it.
func (l *Leaf) makeTable() []uint32 {
	t := make([]uint32, tableSize(len(l.offs)))
	mask := uint64(len(t) - 1)
	for _, off := range l.offs {
		name, _ := l.nameAt(off)
		h := maphash.String(tableSeed, name)
		i := h & mask
		for t[i] != 0 {
			i = (i + 1) & mask
		}
		t[i] = uint32(h>>48)<<16 | off
	}
	l.table.Store(&t[0])
	return t
}

// tableOf returns l's find table, or nil if it is not made.
func (l *Leaf) tableOf() []uint32 {
	if p := l.table.Load(); p != nil {
		return unsafe.Slice(p, tableSize(len(l.offs)))
	}
	return nil
}

// findIn is Find by l's find table t.
func (l *Leaf) findIn(t []uint32, name string) (Entry, bool) {
	h := maphash.String(tableSeed, name)
	tag := uint32(h>>48) << 16
	mask := uint64(len(t) - 1)
	for i := h & mask; ; i = (i + 1) & mask { // a table is never full
		sl := t[i]
		if sl == 0 {
			return Entry{}, false
		}
		if sl&^slotOffBits == tag {
			if s, j := l.nameAt(sl & slotOffBits); s == name {
				return l.entryAt(s, j), true
			}
		}
	}
}

// Len returns the number of entries.
func (l *Leaf) Len() int { return len(l.offs) }

// Encoded returns the leaf's canonical encoding, whose BLAKE3 hash names
// it. The bytes are shared and must not be modified.
func (l *Leaf) Encoded() []byte { return l.data }

// nameAt returns the name of the entry whose name header starts at off,
// aliasing l.data, and the offset just after it. l.data was checked or
// made by this package, so nothing is checked here.
func (l *Leaf) nameAt(off uint32) (string, int) {
	d := l.data
	i := int(off)
	c := d[i]
	var n int
	switch {
	case c&0xe0 == 0xa0:
		n, i = int(c&0x1f), i+1
	case c == 0xd9:
		n, i = int(d[i+1]), i+2
	case c == 0xda:
		n, i = int(binary.BigEndian.Uint16(d[i+1:])), i+3
	default:
		n, i = int(binary.BigEndian.Uint32(d[i+1:])), i+5
	}
	return unsafe.String(&d[i], n), i + n
}

// Name returns the name of entry i (0 <= i < Len).
func (l *Leaf) Name(i int) string {
	s, _ := l.nameAt(l.offs[i])
	return s
}

// Entry returns entry i (0 <= i < Len), without allocating.
func (l *Leaf) Entry(i int) Entry {
	name, j := l.nameAt(l.offs[i])
	return l.entryAt(name, j)
}

// entryAt returns the entry called name whose kind byte follows its name
// at j.
func (l *Leaf) entryAt(name string, j int) Entry {
	d := l.data
	// j: 0xcc kind, then the reference as bin8: 0xc4 length body.
	e := Entry{Name: name, Kind: Kind(d[j+1])}
	n, body := int(d[j+3]), j+4
	if e.Kind == KindInline {
		e.Inline = d[body : body+n : body+n]
	} else {
		copy(e.Hash[:], d[body:body+n])
	}
	return e
}

// Search returns the index of the first entry whose name is at least name
// (Len if there is none), by binary search, without allocating.
func (l *Leaf) Search(name string) int { return l.search(name) }

// search is Search.
func (l *Leaf) search(name string) int {
	lo, hi := 0, len(l.offs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s, _ := l.nameAt(l.offs[m]); s < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Find returns the entry called name, without allocating: by binary
// search, or by the leaf's find table once it has one (see tableAfter).
// It is safe for concurrent use; a leaf read often makes its table once.
func (l *Leaf) Find(name string) (Entry, bool) {
	if t := l.tableOf(); t != nil {
		return l.findIn(t, name)
	}
	if l.tabled() && countOf(l.state.Add(stateCount)) == tableAfter {
		return l.findIn(l.makeTable(), name)
	}
	if i := l.search(name); i < len(l.offs) {
		if s, j := l.nameAt(l.offs[i]); s == name {
			return l.entryAt(s, j), true
		}
	}
	return Entry{}, false
}

// Entries returns every entry in name order, in a fresh slice the caller
// owns (the entries alias the leaf, as Entry's do).
func (l *Leaf) Entries() []Entry {
	es := make([]Entry, len(l.offs))
	for i := range es {
		es[i] = l.Entry(i)
	}
	return es
}

// Node returns the leaf's entries as a Node (see Entries).
func (l *Leaf) Node() *Node { return &Node{Entries: l.Entries()} }

// Refs returns the hashes the leaf refers to, as Node.Refs does.
func (l *Leaf) Refs() []backend.Hash {
	var hs []backend.Hash
	for i := range l.offs {
		if e := l.Entry(i); e.Kind != KindInline {
			hs = append(hs, e.Hash)
		}
	}
	return hs
}

// HasRefs reports whether some entry may refer to another object (a
// contents object or a directory): false means every entry is an inline
// value, so a walk of the object graph need not read the entries. It may
// report true for a leaf made by Edit whose referring entries were all
// replaced or deleted.
func (l *Leaf) HasRefs() bool { return l.refs }

// Object returns the leaf's encoding keyed by its hash, ready for
// ObjectStore.Put. The Data is shared with the leaf and must not be
// modified.
func (l *Leaf) Object() backend.Object {
	return backend.Object{Hash: codec.Sum(l.data), Data: l.data}
}

// oneOff is the offsets of every leaf of one entry: its name header
// follows the header, the array length and the entry's fixarray byte.
var oneOff = []uint32{uint32(codec.SizeHeader(1) + codec.SizeArrayLen(1) + 1)}

// EmptyLeaf is the leaf with no entries (its hash is Empty). It is shared.
var EmptyLeaf = mustLeaf(nil)

func mustLeaf(es []Entry) *Leaf {
	l, err := NewLeaf(es)
	if err != nil {
		panic(err)
	}
	return l
}

// NewLeaf encodes es (sorted, unique, validly named, as Encode requires)
// as a Leaf. It returns an error if Encode would.
func NewLeaf(es []Entry) (*Leaf, error) {
	// A leaf's offsets are never modified: every leaf of one entry (one
	// of many small directories) shares oneOff.
	var (
		data []byte
		offs []uint32
		err  error
	)
	if len(es) == 1 {
		var one [1]uint32
		data, err = encode(es, one[:])
		offs = oneOff
	} else {
		offs = make([]uint32, len(es))
		data, err = encode(es, offs)
	}
	if err != nil {
		return nil, err
	}
	l := &Leaf{data: data, offs: offs}
	for i := range es {
		l.refs = l.refs || es[i].Kind != KindInline
	}
	return l, nil
}

// DecodeLeaf decodes an encoded Node as a Leaf, checking it exactly as
// Decode does; errors wrap backend.ErrCorrupt. The Leaf keeps b: the
// caller must not modify b afterwards.
func DecodeLeaf(b []byte) (*Leaf, error) {
	l := &Leaf{data: b}
	err := codec.Decode(b, codec.TagNode, 1, func(r *codec.Reader) error {
		n, err := r.ArrayLen("entries", minEntrySize)
		if err != nil {
			return err
		}
		if n > MaxEntries {
			return codec.Corruptf(codec.TagNode, "%d entries, at most %d", n, MaxEntries)
		}
		l.offs = make([]uint32, n)
		var prev []byte
		for i := range l.offs {
			if f, err := r.ArrayLen("entry", 1); err != nil {
				return err
			} else if f != 3 {
				return codec.Corruptf(codec.TagNode, "entry %d has %d fields, want 3", i, f)
			}
			l.offs[i] = uint32(r.Offset())
			name, err := r.StringBytes("entry name")
			if err != nil {
				return err
			}
			k, err := r.Uint8("entry kind")
			if err != nil {
				return err
			}
			switch {
			case !validNameBytes(name):
				return codec.Corruptf(codec.TagNode, "invalid entry name %q", name)
			case !validKind(Kind(k)):
				return codec.Corruptf(codec.TagNode, "entry %q has unknown kind %d", name, k)
			case i > 0 && bytes.Compare(prev, name) >= 0:
				return codec.Corruptf(codec.TagNode, "entries %q and %q are not sorted and unique", prev, name)
			}
			prev = name
			if Kind(k) == KindInline {
				v, err := r.Bytes("inline value")
				if err == nil && len(v) > MaxInline {
					err = fmt.Errorf("inline value of %d bytes, at most %d", len(v), MaxInline)
				}
				if err != nil {
					return codec.Corruptf(codec.TagNode, "entry %q: %v", name, err)
				}
			} else if _, err := r.Hash("entry hash"); err != nil {
				return codec.Corruptf(codec.TagNode, "entry %q: %v", name, err)
			} else {
				l.refs = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// validNameBytes is ValidName for a name's bytes.
func validNameBytes(b []byte) bool {
	return len(b) > 0 && !(len(b) == 1 && b[0] == '.') && !(len(b) == 2 && b[0] == '.' && b[1] == '.') &&
		bytes.IndexByte(b, '/') < 0 && bytes.IndexByte(b, 0) < 0
}

// Edit is one change to a directory's entries: with Del, the removal of
// the entry called Name (if any); otherwise Entry, whose Name is Name,
// replaces or adds the entry called Name.
type Edit struct {
	Name  string
	Del   bool
	Entry Entry
}

// Edit returns the leaf with edits (sorted by Name, unique) applied,
// rewriting only the bytes of the edited entries: the unchanged ones are
// copied as they are encoded, so the result is exactly NewLeaf of the
// edited entries. If every edit replaces an entry by one of the same
// encoded size, every entry stays where it was, and the new leaf shares
// l's offsets. If the edits change nothing (each replaces an entry by an
// equal one or deletes a name l does not hold), it returns l itself. It
// returns ok false, and no leaf, if the result would have more than
// MaxEntries entries (the caller then builds an index from Entries). It
// returns an error if the edits are not sorted and unique or an entry is
// one Encode refuses.
func (l *Leaf) Edit(edits []Edit) (_ *Leaf, ok bool, err error) {
	n := len(l.offs)
	grow := 0         // bytes the new entries add, less those of the entries they replace
	same := true      // every edit replaces an entry by one of the same size
	noop := true      // every edit replaces an entry by an equal one, or deletes nothing
	var found8 [8]int // where the first 8 edits go, so the copy below need not search again
	for k := range edits {
		ed := &edits[k]
		if k > 0 && edits[k-1].Name >= ed.Name {
			return nil, false, fmt.Errorf("node: edits %q and %q are not sorted and unique", edits[k-1].Name, ed.Name)
		}
		i := l.search(ed.Name)
		if k < len(found8) {
			found8[k] = i
		}
		found := i < len(l.offs) && l.Name(i) == ed.Name
		switch {
		case ed.Del:
			if found {
				n--
				grow -= l.entryLen(i)
				same, noop = false, false
			}
		case ed.Entry.Name != ed.Name:
			return nil, false, fmt.Errorf("node: edit of %q stores an entry called %q", ed.Name, ed.Entry.Name)
		default:
			if err := checkEntry(&ed.Entry); err != nil {
				return nil, false, err
			}
			size := entrySize(&ed.Entry)
			if found {
				old := l.entryLen(i)
				grow -= old
				same = same && old == size
				noop = noop && old == size && l.entryEqual(i, &ed.Entry)
			} else {
				n++
				same, noop = false, false
			}
			grow += size
		}
	}
	if noop {
		return l, true, nil
	}
	if n > MaxEntries {
		return nil, false, nil
	}
	body := l.bodyStart()
	out := make([]byte, 0, codec.SizeHeader(1)+codec.SizeArrayLen(n)+len(l.data)-body+grow)
	out = codec.AppendHeader(out, codec.TagNode, 1)
	out = codec.AppendArrayLen(out, n)
	var offs []uint32
	if same {
		offs = l.offs // offsets are never modified
	} else {
		offs = make([]uint32, 0, n)
	}
	refs := l.refs          // may stay true if the edits remove every referring entry
	i := 0                  // the next old entry to copy
	copyTo := func(j int) { // copies old entries i..j-1
		if i >= j {
			return
		}
		from, to := int(l.offs[i])-1, len(l.data) // -1: the entry's fixarray byte
		if j < len(l.offs) {
			to = int(l.offs[j]) - 1
		}
		if same {
			i = j
		} else {
			delta := uint32(len(out) - from)
			for ; i < j; i++ {
				offs = append(offs, l.offs[i]+delta)
			}
		}
		out = append(out, l.data[from:to]...)
	}
	for k := range edits {
		ed := &edits[k]
		var j int
		if k < len(found8) {
			j = found8[k]
		} else {
			j = l.search(ed.Name)
		}
		copyTo(j)
		if i < len(l.offs) && l.Name(i) == ed.Name {
			i++ // replaced or deleted
		}
		if !ed.Del {
			out = append(out, 0x93) // fixarray of 3
			if !same {
				offs = append(offs, uint32(len(out)))
			}
			out = appendEntry(out, &ed.Entry)
			refs = refs || ed.Entry.Kind != KindInline
		}
	}
	copyTo(len(l.offs))
	return &Leaf{data: out, offs: offs, refs: refs}, true, nil
}

// entryEqual reports whether entry i is e.
func (l *Leaf) entryEqual(i int, e *Entry) bool {
	x := l.Entry(i)
	return x.Equal(e)
}

// entryLen returns the size of entry i's encoding, its fixarray byte
// included (entrySize of the entry).
func (l *Leaf) entryLen(i int) int {
	end := len(l.data)
	if i+1 < len(l.offs) {
		end = int(l.offs[i+1]) - 1
	}
	return end - (int(l.offs[i]) - 1)
}

// bodyStart returns where the first entry starts (its fixarray byte), or
// the end of the data for an empty leaf.
func (l *Leaf) bodyStart() int {
	if len(l.offs) == 0 {
		return len(l.data)
	}
	return int(l.offs[0]) - 1
}
