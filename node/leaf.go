package node

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// Leaf is a directory node (at most MaxEntries entries) held as its
// canonical encoding plus where each entry starts: the form a Store caches
// and a tree edit rewrites. It costs the encoded bytes and 4 bytes per
// entry (13 once it is searched often enough to get search keys, which
// only leaves of at most 64 KB get), and reading an entry decodes it on
// demand without allocating. A leaf made by Edit may share its offsets
// with the leaf it was edited from (they are never modified).
//
// A Leaf's entries are immutable and it is safe for concurrent use. The entries it returns
// alias its encoding: their Name and Inline must not be modified, and may
// be kept for as long as needed (they keep the encoding alive).
type Leaf struct {
	// A leaf read often (see keyAfter) gets a compact search key per
	// entry, so that a search touches an array of 8-byte keys rather
	// than the names spread over the encoding. keys points to the first
	// of keyWords(Len()) words (see keysOf), once made.
	keys     atomic.Pointer[uint64]
	searches atomic.Int32 // Search calls before keys were made
	refs     bool         // some entry may not be inline (false: none is)
	data     []byte       // the canonical encoding (Encode of its entries)
	offs     []uint32     // offs[i]: where entry i's name header starts in data; read-only, maybe shared (see Edit)
	// (The fields fit the Leaf in 64 bytes, one cache line.)
}

// The search keys of a leaf are, for each entry, a word holding the 6
// bytes of its name after p, the longest prefix every name shares,
// big-endian, padded with zero bytes, above the 16 bits of where the
// entry's name header starts in the encoding; then a summary: the
// greatest key of each group of keyStride (the keys a 64-byte cache line
// holds); then p. Names hold no NUL byte, so keys are in the order of the
// names (a < b gives key(a) < key(b), the offsets growing with the
// entries); names longer than p + 6 bytes may share their name bytes
// (then their names are compared). A
// search reads the summary, then one group, then the entry found, at the
// offset its key holds: about 4 cache lines where a binary search of all
// the names reads 10 or more (an array of keys over 512 bytes is
// allocated on a 64-byte boundary, so a group is one line).
//
// Keyed search: a leaf of at least minKeyed entries and at most
// maxKeyedBytes of encoding (so that offsets fit in 16 bits) makes its
// keys on its keyAfter-th Search (a leaf a commit rewrites is searched a
// few times and then replaced; one read again and again gets them). They
// cost 9 bytes per entry.
const (
	minKeyed      = 32
	maxKeyedBytes = 1 << 16
	keyAfter      = 16
	keyStride     = 8
	keyNameBits   = ^uint64(keyOffBits) // a key's name bytes, above its offset
	keyOffBits    = 0xffff
)

// keyed reports whether l gets search keys once searched often enough.
func (l *Leaf) keyed() bool { return len(l.offs) >= minKeyed && len(l.data) <= maxKeyedBytes }

// keyWords is the number of words of the search keys of n entries.
func keyWords(n int) int { return n + (n+keyStride-1)/keyStride + 1 }

// nameKey returns the name bytes of the search key of s, a name's bytes
// after the prefix (its offset bits zero).
func nameKey(s string) uint64 {
	var k uint64
	for i := 0; i < 6; i++ {
		k <<= 8
		if i < len(s) {
			k |= uint64(s[i])
		}
	}
	return k << 16
}

// makeKeys makes l's search keys and returns them.
func (l *Leaf) makeKeys() []uint64 {
	n := len(l.offs)
	first, last := l.Name(0), l.Name(n-1)
	p := 0
	for p < len(first) && p < len(last) && first[p] == last[p] {
		p++
	}
	k := make([]uint64, keyWords(n))
	for i, off := range l.offs {
		name, _ := l.nameAt(off)
		k[i] = nameKey(name[p:]) | uint64(off)
	}
	for g, j := 0, n; j < len(k)-1; g, j = g+1, j+1 {
		k[j] = k[min(g*keyStride+keyStride, n)-1]
	}
	k[len(k)-1] = uint64(p)
	l.keys.Store(&k[0])
	return k
}

// keysOf returns l's search keys, or nil if they are not made.
func (l *Leaf) keysOf() []uint64 {
	if p := l.keys.Load(); p != nil {
		return unsafe.Slice(p, keyWords(len(l.offs)))
	}
	return nil
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
// (Len if there is none), by binary search. It is safe for concurrent
// use; a leaf searched often makes its search keys (see keyAfter and
// makeKeys), once, and searches them from then on without allocating.
func (l *Leaf) Search(name string) int {
	i, _ := l.searchOff(name, true)
	return i
}

// search is Search without counting toward making keys: for edits, which
// search a leaf that is then replaced.
func (l *Leaf) search(name string) int {
	i, _ := l.searchOff(name, false)
	return i
}

// searchOff is Search (counting toward making keys if count), returning
// too where the name header of the entry found starts (if it is not
// Len), which its keys hold.
func (l *Leaf) searchOff(name string, count bool) (int, uint32) {
	if k := l.keysOf(); k != nil {
		return l.searchKeys(k, name)
	}
	if count && l.keyed() && l.searches.Add(1) == keyAfter {
		return l.searchKeys(l.makeKeys(), name)
	}
	i := l.searchNames(name, 0, len(l.offs))
	if i == len(l.offs) {
		return i, 0
	}
	return i, l.offs[i]
}

// searchKeys is searchOff over keys k: a binary search of the keys, then
// of the names among those sharing name's key bytes, if any. name is
// checked against the shared prefix only at the end, on the name of the
// entry found, which Find reads next anyway.
func (l *Leaf) searchKeys(k []uint64, name string) (int, uint32) {
	n := len(l.offs)
	keys, sum, p := k[:n], k[n:len(k)-1], int(k[len(k)-1])
	kn := nameKey(name[min(p, len(name)):])
	// The first group whose greatest key is at least kn holds the first
	// key at least kn.
	g, _ := slices.BinarySearch(sum, kn)
	lo, hi := min(g*keyStride, n), min(g*keyStride+keyStride, n)
	i, _ := slices.BinarySearch(keys[lo:hi], kn)
	lo += i
	off := func(i int) (int, uint32) {
		if i == n {
			return n, 0
		}
		return i, uint32(keys[i] & keyOffBits)
	}
	// Every name starts with the same p bytes: a name that does not comes
	// before or after them all.
	_, at := off(min(lo, n-1))
	s, _ := l.nameAt(at)
	if c := strings.Compare(name[:min(p, len(name))], s[:p]); c < 0 {
		return off(0)
	} else if c > 0 {
		return n, 0
	}
	switch {
	case lo == n || keys[lo]&keyNameBits != kn:
		return off(lo) // no name shares name's key: lo's is the first above it
	case lo+1 == n || keys[lo+1]&keyNameBits != kn:
		// Only s shares name's key: the names before it are below name,
		// those after it above.
		if name <= s {
			return off(lo)
		}
		return off(lo + 1)
	}
	end := lo + 2
	for end < n && keys[end]&keyNameBits == kn {
		end++
	}
	return off(l.searchNames(name, lo, end))
}

// searchNames returns the first index in [lo, hi) whose name is at least
// name, or hi, by binary search of the names.
func (l *Leaf) searchNames(name string, lo, hi int) int {
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

// Find returns the entry called name, using binary search, without
// allocating.
func (l *Leaf) Find(name string) (Entry, bool) {
	if i, off := l.searchOff(name, true); i < len(l.offs) {
		if s, j := l.nameAt(off); s == name {
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
