package node_test

import (
	"sync"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
)

// TestTrieKeepsChildTries: a Trie keeps no child Trie until one is kept,
// then returns each kept one at its own position only, whichever
// goroutine kept it (run with -race); WithChild's Trie starts with none.
func TestTrieKeepsChildTries(t *testing.T) {
	var children []node.Child
	for b := byte('a'); b <= 'z'; b++ {
		var h backend.Hash
		h[0] = b
		children = append(children, node.Child{Byte: b, Count: 100, Hash: h})
	}
	parent, err := node.NewTrie("p", nil, children)
	if err != nil {
		t.Fatal(err)
	}
	kids := make([]*node.Trie, len(children))
	for i := range kids {
		if parent.ChildTrie(i) != nil {
			t.Fatalf("ChildTrie(%d) before any was kept", i)
		}
		if kids[i], err = node.NewTrie("q", nil, children[:2+i%3]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parent.KeepChildTrie(i, kids[i])
			if got := parent.ChildTrie(i); got != kids[i] {
				t.Errorf("ChildTrie(%d) right after KeepChildTrie = %p, want %p", i, got, kids[i])
			}
		}()
	}
	wg.Wait()
	for i := range kids {
		if got := parent.ChildTrie(i); got != kids[i] {
			t.Errorf("ChildTrie(%d) = %p, want %p", i, got, kids[i])
		}
	}
	i, ok := parent.ChildIndex('c')
	if !ok || i != 2 || parent.Child(i).Byte != 'c' {
		t.Fatalf("ChildIndex('c') = %d, %v", i, ok)
	}
	if _, ok := parent.ChildIndex('A'); ok {
		t.Fatal("ChildIndex of a byte without a child found one")
	}
	c := children[2]
	c.Count++
	edited, ok := parent.WithChild(c)
	if !ok {
		t.Fatal("WithChild failed")
	}
	for i := range children {
		if edited.ChildTrie(i) != nil {
			t.Fatalf("WithChild's Trie keeps child %d of the Trie it was made from", i)
		}
	}
	if string(edited.Encoded()) == string(parent.Encoded()) || edited.Child(2).Count != c.Count {
		t.Fatal("WithChild did not change the child")
	}
}
