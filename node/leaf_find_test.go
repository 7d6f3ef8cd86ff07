package node_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stratakv/strata/node"
)

// TestLeafFindTable: before and after a leaf is read often enough to make
// its find table (made while two goroutines read it: run with -race),
// Search, Find and Edit answer exactly as a binary search of the names
// does, for leaves whose names share long prefixes or are prefixes of
// each other, or are long enough that the leaf gets no table, and for
// names inside, before, after and between the entries (NUL bytes
// included).
func TestLeafFindTable(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	alphabet := "ab\x01~"
	randName := func(prefix string) string {
		var b strings.Builder
		b.WriteString(prefix)
		for n := rng.IntN(14); n > 0; n-- {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		if b.Len() == 0 || b.String() == "." || b.String() == ".." {
			b.WriteByte('z')
		}
		return b.String()
	}
	for round := 0; round < 200; round++ {
		// A prefix of 600 bytes makes leaves of up to 77 KB, some too
		// large for the 16-bit offsets of a find table.
		prefix := []string{"", "k", "k00123", "a-long-shared-prefix/"[:rng.IntN(20)], strings.Repeat("p", 600)}[rng.IntN(5)]
		prefix = strings.ReplaceAll(prefix, "/", "_")
		set := map[string]bool{}
		for n := 32 + rng.IntN(node.MaxEntries+1-32); len(set) < n; {
			set[randName(prefix)] = true
		}
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		slices.Sort(names)
		es := make([]node.Entry, len(names))
		for i, n := range names {
			es[i] = node.Entry{Name: n, Kind: node.KindInline, Inline: []byte(fmt.Sprint(i))}
		}
		l, err := node.NewLeaf(es)
		if err != nil {
			t.Fatal(err)
		}
		queries := append([]string{"", "\x00", "~~~~~~~~~~~~~~~~~~~", prefix, prefix + "\x00", prefix + "\x00\x00\x00\x00\x00\x00\x00\x00\x00"}, names...)
		for i := 0; i < 100; i++ {
			q := randName(prefix)
			if rng.IntN(4) == 0 {
				q += "\x00"
			}
			queries = append(queries, q, names[rng.IntN(len(names))]+string(alphabet[rng.IntN(len(alphabet))]))
		}
		done := make(chan string, 2)
		for g := 0; g < 2; g++ {
			go func() {
				for _, q := range queries {
					want := sort.SearchStrings(names, q)
					if got := l.Search(q); got != want {
						done <- fmt.Sprintf("seed %d: Search(%q) = %d, want %d (names %q)", seed, q, got, want, names)
						return
					}
					e, ok := l.Find(q)
					if found := want < len(names) && names[want] == q; ok != found || ok && e.Name != q {
						done <- fmt.Sprintf("seed %d: Find(%q) = %q, %v; want found %v", seed, q, e.Name, ok, found)
						return
					}
				}
				done <- ""
			}()
		}
		for g := 0; g < 2; g++ {
			if msg := <-done; msg != "" {
				t.Fatal(msg)
			}
		}
		// An edit of a leaf read often makes the leaf NewLeaf makes.
		k := rng.IntN(len(names))
		add := randName(prefix) + "\x01x"
		edits := []node.Edit{{Name: names[k], Del: true}}
		if !set[add] {
			edits = append(edits, node.Edit{Name: add, Entry: node.Entry{Name: add, Kind: node.KindInline, Inline: []byte("new")}})
			slices.SortFunc(edits, func(a, b node.Edit) int { return strings.Compare(a.Name, b.Name) })
		}
		got, ok, err := l.Edit(edits)
		if err != nil || !ok {
			t.Fatalf("seed %d: Edit: %v %v", seed, ok, err)
		}
		want := slices.DeleteFunc(slices.Clone(es), func(e node.Entry) bool { return e.Name == names[k] })
		if !set[add] {
			want = append(want, node.Entry{Name: add, Kind: node.KindInline, Inline: []byte("new")})
			slices.SortFunc(want, func(a, b node.Entry) int { return strings.Compare(a.Name, b.Name) })
		}
		wl, err := node.NewLeaf(want)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Encoded()) != string(wl.Encoded()) {
			t.Fatalf("seed %d: Edit of a leaf read often differs from NewLeaf", seed)
		}
	}
}
