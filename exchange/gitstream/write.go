package gitstream

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Writer writes a `git fast-import` stream. Errors are sticky: after the
// first failed write every method returns it. Call Flush at the end. A
// Writer is not safe for concurrent use.
type Writer struct {
	w   *bufio.Writer
	err error
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriterSize(w, 256<<10)} }

func (w *Writer) printf(format string, args ...any) {
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.w, format, args...)
	}
}

func (w *Writer) write(b []byte) {
	if w.err == nil {
		_, w.err = w.w.Write(b)
	}
}

func (w *Writer) data(b []byte) {
	w.printf("data %d\n", len(b))
	w.write(b)
	w.write([]byte{'\n'})
}

func (w *Writer) mark(n int) {
	if n > 0 {
		w.printf("mark :%d\n", n)
	}
}

// Blob writes a blob command.
func (w *Writer) Blob(b *Blob) error {
	w.printf("blob\n")
	w.mark(b.Mark)
	w.data(b.Data)
	return w.err
}

// Ident formats an identity as a stream line's value. A name or email
// holding '<', '>' or LF loses them (Git's rule too).
func (id Ident) String() string {
	tz := id.TZ
	if tz == "" {
		tz = "+0000"
	}
	return fmt.Sprintf("%s <%s> %d %s", clean(id.Name), clean(id.Email), id.When, tz)
}

func clean(s string) string {
	if !strings.ContainsAny(s, "<>\n") {
		return s
	}
	// Byte by byte, not rune by rune: an ident's bytes need not be UTF-8,
	// and they are written back unchanged.
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '<' && c != '>' && c != '\n' {
			b = append(b, c)
		}
	}
	return string(b)
}

// Commit writes a commit command with its file changes.
func (w *Writer) Commit(c *Commit) error {
	w.printf("commit %s\n", c.Ref)
	w.mark(c.Mark)
	if c.Author != nil {
		w.printf("author %s\n", c.Author)
	}
	w.printf("committer %s\n", c.Committer)
	if c.Encoding != "" {
		w.printf("encoding %s\n", c.Encoding)
	}
	w.data(c.Message)
	if c.From != "" {
		w.printf("from %s\n", c.From)
	}
	for _, m := range c.Merges {
		w.printf("merge %s\n", m)
	}
	for _, op := range c.Ops {
		switch op.Op {
		case 'M':
			w.printf("M %s %s %s\n", op.Mode, op.DataRef, Quote(op.Path))
			if op.DataRef == "inline" {
				w.data(op.Data)
			}
		case 'D':
			w.printf("D %s\n", Quote(op.Path))
		case 'C', 'R':
			w.printf("%c %s %s\n", op.Op, quoteAlways(op.Path), Quote(op.Dest))
		case 'X':
			w.printf("deleteall\n")
		default:
			if w.err == nil {
				w.err = fmt.Errorf("gitstream: unknown file operation %q", op.Op)
			}
		}
	}
	w.printf("\n")
	return w.err
}

// Reset writes a reset command.
func (w *Writer) Reset(r *Reset) error {
	w.printf("reset %s\n", r.Ref)
	if r.From != "" {
		w.printf("from %s\n", r.From)
	}
	w.printf("\n")
	return w.err
}

// Tag writes an annotated tag command.
func (w *Writer) Tag(t *Tag) error {
	w.printf("tag %s\n", t.Name)
	w.mark(t.Mark)
	w.printf("from %s\n", t.From)
	if t.Tagger != nil {
		w.printf("tagger %s\n", t.Tagger)
	}
	w.data(t.Message)
	return w.err
}

// Flush writes out what is buffered and returns the first error.
func (w *Writer) Flush() error {
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}

// Quote returns path as a stream names it: as is, or C-style quoted if
// it starts with '"' or holds a byte Git quotes (LF, control characters,
// '"', '\\').
func Quote(path string) string {
	if path != "" && path[0] != '"' && !strings.ContainsFunc(path, func(r rune) bool { return r < ' ' || r == 0x7f || r == '"' || r == '\\' }) {
		return path
	}
	return quoteAlways(path)
}

func quoteAlways(path string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < ' ' || c == 0x7f {
				fmt.Fprintf(&b, `\%03o`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
