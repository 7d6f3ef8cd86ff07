package gitstream

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sample is shaped like `git fast-export --all --show-original-ids` output.
const sample = `feature done
blob
mark :1
original-oid 0123456789abcdef0123456789abcdef01234567
data 6
hello

reset refs/heads/main
commit refs/heads/main
mark :2
author A U Thor <a@example.com> 1700000000 +0100
committer C O Mitter <c@example.com> 1700000001 -0230
encoding iso-8859-1
data 8
initial
M 100644 :1 dir/file name
M 100755 inline "quoted\npath\\\"x\"\001"
data <<EOT
inline text
EOT
M 120000 :1 link

commit refs/heads/side
mark :3
committer C <> 1700000002 +0000
data 0
from :2
D dir/file name
R "dir/a b" dir/c
C link other

commit refs/heads/main
mark :4
author A <a@x> 1700000003 +0000
committer A <a@x> 1700000003 +0000
data 6
merge
from :2
merge :3
deleteall
M 644 :1 only

tag v1
from :4
original-oid fedcba9876543210fedcba9876543210fedcba98
tagger T <t@x> 1700000004 +0000
data 3
v1

reset refs/tags/light
from :3

done
`

func readAll(t testing.TB, s string) ([]any, error) {
	t.Helper()
	r := NewReader(strings.NewReader(s))
	var out []any
	for {
		c, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

func TestReadSample(t *testing.T) {
	got, err := readAll(t, sample)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		&Blob{Mark: 1, OriginalOID: "0123456789abcdef0123456789abcdef01234567", Data: []byte("hello\n")},
		&Reset{Ref: "refs/heads/main"},
		&Commit{Ref: "refs/heads/main", Mark: 2,
			Author:    &Ident{Name: "A U Thor", Email: "a@example.com", When: 1700000000, TZ: "+0100"},
			Committer: Ident{Name: "C O Mitter", Email: "c@example.com", When: 1700000001, TZ: "-0230"},
			Encoding:  "iso-8859-1", Message: []byte("initial\n"),
			Ops: []FileOp{
				{Op: 'M', Mode: "100644", DataRef: ":1", Path: "dir/file name"},
				{Op: 'M', Mode: "100755", DataRef: "inline", Data: []byte("inline text\n"), Path: "quoted\npath\\\"x\"\001"},
				{Op: 'M', Mode: "120000", DataRef: ":1", Path: "link"},
			}},
		&Commit{Ref: "refs/heads/side", Mark: 3, Committer: Ident{Name: "C", When: 1700000002, TZ: "+0000"}, Message: []byte{}, From: ":2",
			Ops: []FileOp{{Op: 'D', Path: "dir/file name"}, {Op: 'R', Path: "dir/a b", Dest: "dir/c"}, {Op: 'C', Path: "link", Dest: "other"}}},
		&Commit{Ref: "refs/heads/main", Mark: 4,
			Author:    &Ident{Name: "A", Email: "a@x", When: 1700000003, TZ: "+0000"},
			Committer: Ident{Name: "A", Email: "a@x", When: 1700000003, TZ: "+0000"},
			Message:   []byte("merge\n"), From: ":2", Merges: []string{":3"},
			Ops: []FileOp{{Op: 'X'}, {Op: 'M', Mode: "644", DataRef: ":1", Path: "only"}}},
		&Tag{Name: "v1", From: ":4", OriginalOID: "fedcba9876543210fedcba9876543210fedcba98", Tagger: &Ident{Name: "T", Email: "t@x", When: 1700000004, TZ: "+0000"}, Message: []byte("v1\n")},
		&Reset{Ref: "refs/tags/light", From: ":3"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("commands (-want +got):\n%s", d)
	}
	// Written back and read again, the stream gives the same commands
	// (original ids aside, which the writer does not write).
	again, err := readAll(t, writeAll(t, got))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		switch c := c.(type) {
		case *Blob:
			c.OriginalOID = ""
		case *Tag:
			c.OriginalOID = ""
		}
	}
	if d := cmp.Diff(got, again); d != "" {
		t.Fatalf("write/read round trip (-want +got):\n%s", d)
	}
}

func writeAll(t testing.TB, cmds []any) string {
	t.Helper()
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, c := range cmds {
		var err error
		switch c := c.(type) {
		case *Blob:
			err = w.Blob(c)
		case *Commit:
			err = w.Commit(c)
		case *Reset:
			err = w.Reset(c)
		case *Tag:
			err = w.Tag(c)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		line int
	}{
		{"bogus\n", 1},
		{"blob\nmark :1\ndata 10\nshort", 3},
		{"blob\nmark x\ndata 0\n", 2},
		{"blob\ndata -1\n", 2},
		{"commit refs/heads/a\ndata 0\n", 2},
		{"commit refs/heads/a\ncommitter A <a> notatime +0000\ndata 0\n", 2},
		{"commit refs/heads/a\ncommitter A <a> 1 +0000\ndata 0\nM 100999 :1 p\n", 4},
		{"commit refs/heads/a\ncommitter A <a> 1 +0000\ndata 0\nM 100644 :1 \"unterminated\n", 4},
		{"commit refs/heads/a\ncommitter A <a> 1 +0000\ndata 0\nN :1 :2\n", 4},
		{"tag v\ntagger T <t> 1 +0000\ndata 0\n", 3},
		{"blob\n", 1},
	} {
		_, err := readAll(t, tc.in)
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: got %v, want a SyntaxError", tc.in, err)
			continue
		}
		if se.Line != tc.line {
			t.Errorf("%q: error %q names line %d, want %d", tc.in, err, se.Line, tc.line)
		}
	}
}

// TestReadCutAfterFeatureDone: a stream that announces `feature done`
// and ends before `done` (as git fast-export's does when it dies halfway)
// is an error naming the last line, even where it was cut at a command
// boundary or inside a commit whose end is optional (after its message).
// Without the announcement, such an end is a normal end.
func TestReadCutAfterFeatureDone(t *testing.T) {
	cutAt := func(marker string) string {
		i := strings.Index(sample, marker)
		if i < 0 {
			t.Fatalf("sample has no %q", marker)
		}
		return sample[:i+len(marker)]
	}
	for name, in := range map[string]string{
		"no done":          strings.TrimSuffix(sample, "done\n"),
		"after a message":  cutAt("data 6\nmerge\n"),
		"after a blob":     cutAt("hello\n"),
		"after a from":     cutAt("from :2\nmerge :3\n"),
		"only the feature": "feature done\n",
	} {
		cmds, err := readAll(t, in)
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: got %d commands and error %v, want a SyntaxError", name, len(cmds), err)
			continue
		}
		if want := strings.Count(in, "\n"); se.Line != want {
			t.Errorf("%s: error %q names line %d, want %d", name, err, se.Line, want)
		}
		if !strings.Contains(err.Error(), "done") {
			t.Errorf("%s: error %q does not say the done command is missing", name, err)
		}
		// The same stream without the announcement ends normally.
		if _, err := readAll(t, strings.TrimPrefix(in, "feature done\n")); err != nil {
			t.Errorf("%s, without feature done: %v", name, err)
		}
	}
	// With done, a reader stays at the end.
	r := NewReader(strings.NewReader("feature done\ndone\nbogus\n"))
	for i := 0; i < 2; i++ {
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("Next %d after done = %v, want io.EOF", i, err)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, p := range []string{"plain", "with space", "\"lead", "tab\there", "nl\n", "back\\slash", "\x01\x7f", "ünï"} {
		q := Quote(p)
		if q == p {
			if strings.ContainsAny(p, "\n\"\\") {
				t.Errorf("Quote(%q) left it unquoted", p)
			}
			continue
		}
		u, rest, err := unquote(q)
		if err != nil || rest != "" || u != p {
			t.Errorf("unquote(Quote(%q)) = %q, %q, %v", p, u, rest, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("blob\nmark :1\ndata 3\nabc\n"))
	f.Add([]byte("commit refs/heads/x\ncommitter a <b> 1 +0000\ndata 0\nM 100644 inline \"a\\nb\"\ndata 1\nx\n"))
	f.Add([]byte("reset refs/tags/t\nfrom :1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cmds, err := readAll(t, string(data))
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// What reads, written back, reads as the same commands.
		for _, c := range cmds {
			switch c := c.(type) {
			case *Blob:
				c.OriginalOID = ""
			case *Tag:
				c.OriginalOID = ""
			}
		}
		again, err := readAll(t, writeAll(t, cmds))
		if err != nil {
			t.Fatalf("re-reading what was written: %v", err)
		}
		if d := cmp.Diff(cmds, again); d != "" {
			t.Fatalf("round trip (-want +got):\n%s", d)
		}
	})
}
