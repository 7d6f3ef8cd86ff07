package strata_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// goldenObjects builds the objects listed in docs/FORMAT.md's golden table.
func goldenObjects(t *testing.T) map[string]backend.Object {
	t.Helper()
	obj := func(o backend.Object, err error) backend.Object {
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	db1 := contents.Object(contents.Raw([]byte("db1")))
	long := contents.Object(contents.Raw([]byte("a value longer than thirty-two bytes")))
	host := obj(node.Object(&node.Node{Entries: []node.Entry{
		{Name: "host", Kind: node.KindInline, Inline: []byte("db1")},
		{Name: "motd", Kind: node.KindContents, Hash: long.Hash},
	}}))
	db := obj(node.Object(&node.Node{Entries: []node.Entry{{Name: "db", Kind: node.KindNode, Hash: host.Hash}}}))
	root := commit.Object(&commit.Commit{Tree: db.Hash, Author: "ops", Message: "point at db1", Time: 1767225600000000000, Height: 1})
	largeDir := func(n int, format string) backend.Object {
		st := node.NewStore(mem.New(), -1)
		b := tree.Empty(st).Builder()
		for i := 0; i < n; i++ {
			if err := b.Set(ctx, []string{fmt.Sprintf(format, i)}, []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		h, err := b.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		data, err := st.Objects().Get(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		return backend.Object{Hash: h, Data: data}
	}
	return map[string]backend.Object{
		"index-k200":       largeDir(200, "k%03d"),
		"index-k10000":     largeDir(10000, "k%05d"),
		"contents-db1":     db1,
		"contents-long":    long,
		"contents-empty":   contents.Object(contents.Raw(nil)),
		"contents-text":    contents.Object(contents.Contents{Kind: contents.KindText, Data: []byte("a\nb\n")}),
		"contents-json":    contents.Object(contents.Contents{Kind: contents.KindJSON, Data: []byte(`{"cpu":2,"owner":"alice"}`)}),
		"contents-counter": contents.Object(contents.Counter(-42)),
		"node-empty":       obj(node.Object(&node.Node{})),
		"node-host":        host,
		"node-db":          db,
		"commit-root":      root,
		"commit-child": commit.Object(&commit.Commit{Tree: db.Hash, Parents: []backend.Hash{root.Hash},
			Author: "ops", Message: "again", Time: 1767225600000000001, Height: 2}),
	}
}

// TestGoldenFormat checks every golden row of docs/FORMAT.md against the
// encoder: the documented bytes and hash must be exactly what strata writes,
// and the documented bytes must decode. A failure here means an encoding
// changed: bump the format version on purpose and update the document.
func TestGoldenFormat(t *testing.T) {
	f, err := os.Open("docs/FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := goldenObjects(t)
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) != 6 {
			continue
		}
		name := strings.TrimSpace(cells[1])
		o, ok := want[name]
		if !ok {
			continue
		}
		seen[name] = true
		encHex := strings.Trim(strings.TrimSpace(cells[3]), "`")
		hashHex := strings.Trim(strings.TrimSpace(cells[4]), "`")
		if got := hex.EncodeToString(o.Data); got != encHex {
			t.Errorf("%s: encoding\n got %s\nwant %s (docs/FORMAT.md)", name, got, encHex)
		}
		if got := o.Hash.String(); got != hashHex {
			t.Errorf("%s: hash %s, docs/FORMAT.md says %s", name, got, hashHex)
		}
		b, _ := hex.DecodeString(encHex)
		var derr error
		switch {
		case strings.HasPrefix(name, "contents"):
			_, derr = contents.Decode(b)
		case strings.HasPrefix(name, "node"):
			_, derr = node.Decode(b)
		case strings.HasPrefix(name, "index"):
			_, derr = node.DecodeIndex(b)
		default:
			_, derr = commit.Decode(b)
		}
		if derr != nil {
			t.Errorf("%s: documented bytes do not decode: %v", name, derr)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("golden object %s is missing from docs/FORMAT.md", name)
		}
	}
	if node.Empty != want["node-empty"].Hash {
		t.Errorf("node.Empty = %s", node.Empty)
	}
}
