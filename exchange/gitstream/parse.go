package gitstream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by every error about a malformed stream.
var ErrSyntax = errors.New("git stream syntax")

// SyntaxError is a malformed stream: what is wrong, on which line (from
// 1), starting at which byte offset (from 0).
type SyntaxError struct {
	Line   int
	Offset int64
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("git stream, line %d (byte %d): %s", e.Line, e.Offset, e.Msg)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Ident is an author, committer or tagger: "Name <Email> When TZ".
type Ident struct {
	Name, Email string
	When        int64  // seconds since the Unix epoch
	TZ          string // "+hhmm" or "-hhmm"
}

// Blob is a `blob` command: file contents, named by Mark (0: none).
type Blob struct {
	Mark        int
	OriginalOID string
	Data        []byte
}

// FileOp is one file change of a commit. Op is 'M' (modify: Mode,
// DataRef or inline Data, Path), 'D' (delete Path), 'C' (copy Path to
// Dest), 'R' (rename Path to Dest) or 'X' (deleteall). DataRef is ":N"
// (a mark) or an object name; it is "inline" when Data holds the bytes.
type FileOp struct {
	Op      byte
	Mode    string
	DataRef string
	Data    []byte
	Path    string
	Dest    string
}

// Commit is a `commit` command. From and Merges are commit-ish: ":N" (a
// mark), a ref, or an object name. Author is nil when the stream gives
// only a committer.
type Commit struct {
	Ref         string
	Mark        int
	OriginalOID string
	Author      *Ident
	Committer   Ident
	Encoding    string
	Message     []byte
	From        string
	Merges      []string
	Ops         []FileOp
}

// Reset is a `reset` command: Ref is moved to From (a commit-ish), or
// cleared if From is "".
type Reset struct {
	Ref  string
	From string
}

// Tag is an annotated `tag` command.
type Tag struct {
	Name        string
	Mark        int
	From        string
	OriginalOID string
	Tagger      *Ident
	Message     []byte
}

// Limits bound what one command may hold.
const (
	MaxLine = 1 << 20 // bytes in one command line
	MaxData = 1 << 31 // bytes in one data block
)

// Reader reads a stream's commands. It is not safe for concurrent use.
type Reader struct {
	r       *bufio.Reader
	line    int   // lines read
	off     int64 // bytes read
	lineOff int64 // offset of the current line
	back    []byte
	hasBack bool
	// wantDone is set by `feature done`: the stream promises to end
	// with `done`, so an end of input before it is a cut stream.
	wantDone bool
	done     bool // `done` was read
}

// NewReader returns a Reader of the stream r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

func (p *Reader) errorf(format string, args ...any) error {
	return &SyntaxError{Line: p.line, Offset: p.lineOff, Msg: fmt.Sprintf(format, args...)}
}

// readLine returns the next line without its LF, or io.EOF at the end.
// The slice is valid until the next read.
func (p *Reader) readLine() ([]byte, error) {
	if p.hasBack {
		p.hasBack = false
		return p.back, nil
	}
	p.lineOff = p.off
	var buf []byte
	for {
		chunk, err := p.r.ReadSlice('\n')
		p.off += int64(len(chunk))
		if len(buf)+len(chunk) > MaxLine+1 {
			p.line++
			return nil, p.errorf("line longer than %d bytes", MaxLine)
		}
		switch {
		case err == nil:
			p.line++
			if buf == nil {
				return chunk[:len(chunk)-1], nil
			}
			buf = append(buf, chunk...)
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			buf = append(buf, chunk...)
		case err == io.EOF:
			if len(buf)+len(chunk) == 0 {
				return nil, io.EOF
			}
			p.line++
			return append(buf, chunk...), nil // a last line without LF
		default:
			return nil, err
		}
	}
}

// unread makes the next readLine return line again.
func (p *Reader) unread(line []byte) {
	p.back = append(p.back[:0], line...)
	p.hasBack = true
}

// Next returns the next command: a *Blob, *Commit, *Reset or *Tag, or
// io.EOF at the end of the stream (or after `done`). Commands with no
// effect on history (feature, option, progress, checkpoint, ls, cat-blob,
// get-mark, alias) are skipped. A stream that announced `feature done`
// must end with `done`: an end of input before it (a stream cut short,
// as when the exporter failed) is a *SyntaxError naming the last line.
// The returned command is the caller's.
func (p *Reader) Next() (any, error) {
	if p.done {
		return nil, io.EOF
	}
	for {
		line, err := p.readLine()
		if err == io.EOF && p.wantDone {
			return nil, p.errorf("the stream ends without the done command that its \"feature done\" promised; it was cut short")
		}
		if err != nil {
			return nil, err
		}
		cmd, arg, _ := bytes.Cut(line, []byte{' '})
		switch string(cmd) {
		case "":
			continue
		case "blob":
			return p.blob()
		case "commit":
			return p.commit(string(arg))
		case "reset":
			return p.reset(string(arg))
		case "tag":
			return p.tag(string(arg))
		case "done":
			p.done = true
			return nil, io.EOF
		case "feature":
			if string(arg) == "done" {
				p.wantDone = true
			}
			continue
		case "option", "progress", "checkpoint", "#":
			continue
		case "alias":
			return nil, p.errorf("the alias command is not supported")
		}
		if line[0] == '#' {
			continue
		}
		return nil, p.errorf("unknown command %q", truncate(line))
	}
}

func truncate(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}

// header reads the optional mark and original-oid lines of a command.
func (p *Reader) header() (mark int, oid string, err error) {
	for {
		line, err := p.readLine()
		if err != nil {
			return 0, "", p.eof(err)
		}
		switch {
		case bytes.HasPrefix(line, []byte("mark ")):
			if mark, err = p.mark(string(line[5:])); err != nil {
				return 0, "", err
			}
		case bytes.HasPrefix(line, []byte("original-oid ")):
			oid = string(line[len("original-oid "):])
		default:
			p.unread(line)
			return mark, oid, nil
		}
	}
}

func (p *Reader) eof(err error) error {
	if err == io.EOF {
		return p.errorf("the stream ends inside a command")
	}
	return err
}

func (p *Reader) mark(s string) (int, error) {
	if !strings.HasPrefix(s, ":") {
		return 0, p.errorf("mark %q does not start with ':'", s)
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n <= 0 {
		return 0, p.errorf("bad mark %q", s)
	}
	return n, nil
}

// data reads a `data` command and its bytes.
func (p *Reader) data() ([]byte, error) {
	line, err := p.readLine()
	if err != nil {
		return nil, p.eof(err)
	}
	arg, ok := bytes.CutPrefix(line, []byte("data "))
	if !ok {
		return nil, p.errorf("want a data command, have %q", truncate(line))
	}
	if delim, ok := bytes.CutPrefix(arg, []byte("<<")); ok {
		delim = bytes.Clone(delim)
		if len(delim) == 0 {
			return nil, p.errorf("data << without a delimiter")
		}
		out := []byte{}
		for {
			l, err := p.readLine()
			if err != nil {
				return nil, p.eof(err)
			}
			if bytes.Equal(l, delim) {
				return out, nil
			}
			if len(out)+len(l) >= MaxData {
				return nil, p.errorf("data longer than %d bytes", MaxData)
			}
			out = append(append(out, l...), '\n')
		}
	}
	n, err := strconv.ParseInt(string(arg), 10, 64)
	if err != nil || n < 0 {
		return nil, p.errorf("bad data length %q", truncate(arg))
	}
	if n > MaxData {
		return nil, p.errorf("data of %d bytes; the limit is %d", n, MaxData)
	}
	// Read in steps, so a length the stream does not hold costs no more
	// memory than the stream does.
	out := make([]byte, 0, min(n, 1<<20))
	for int64(len(out)) < n {
		k := min(n-int64(len(out)), 1<<20)
		start := len(out)
		out = append(out, make([]byte, k)...)
		got, err := io.ReadFull(p.r, out[start:])
		p.off += int64(got)
		p.line += bytes.Count(out[start:start+got], []byte{'\n'})
		if err != nil {
			return nil, p.errorf("the stream ends inside %d bytes of data", n)
		}
	}
	// An LF after the data is optional.
	if b, err := p.r.Peek(1); err == nil && b[0] == '\n' {
		_, _ = p.r.ReadByte()
		p.off++
		p.line++
	}
	return out, nil
}

func (p *Reader) blob() (*Blob, error) {
	mark, oid, err := p.header()
	if err != nil {
		return nil, err
	}
	data, err := p.data()
	if err != nil {
		return nil, err
	}
	return &Blob{Mark: mark, OriginalOID: oid, Data: data}, nil
}

// ident parses "Name <email> when tz" (the name may be empty).
func (p *Reader) ident(s string) (*Ident, error) {
	lt := strings.IndexByte(s, '<')
	gt := strings.LastIndexByte(s, '>')
	if lt < 0 || gt < lt {
		return nil, p.errorf("bad identity %q: want \"Name <email> when tz\"", s)
	}
	id := &Ident{Name: strings.TrimSuffix(s[:lt], " "), Email: s[lt+1 : gt]}
	if strings.ContainsAny(id.Name, "<>") || strings.ContainsAny(id.Email, "<>") {
		return nil, p.errorf("bad identity %q: '<' or '>' inside the name or email", s)
	}
	when, tz, ok := strings.Cut(strings.TrimPrefix(s[gt+1:], " "), " ")
	if !ok {
		return nil, p.errorf("bad identity %q: no time zone", s)
	}
	n, err := strconv.ParseInt(when, 10, 64)
	if err != nil {
		return nil, p.errorf("bad time %q in identity", when)
	}
	if len(tz) != 5 || (tz[0] != '+' && tz[0] != '-') {
		return nil, p.errorf("bad time zone %q in identity", tz)
	}
	if _, err := strconv.Atoi(tz[1:]); err != nil {
		return nil, p.errorf("bad time zone %q in identity", tz)
	}
	id.When, id.TZ = n, tz
	return id, nil
}

func (p *Reader) commit(ref string) (*Commit, error) {
	if ref == "" {
		return nil, p.errorf("commit without a ref")
	}
	c := &Commit{Ref: ref}
	var err error
	if c.Mark, c.OriginalOID, err = p.header(); err != nil {
		return nil, err
	}
	haveCommitter := false
	for !haveCommitter {
		line, err := p.readLine()
		if err != nil {
			return nil, p.eof(err)
		}
		switch {
		case bytes.HasPrefix(line, []byte("author ")):
			if c.Author, err = p.ident(string(line[len("author "):])); err != nil {
				return nil, err
			}
		case bytes.HasPrefix(line, []byte("committer ")):
			id, err := p.ident(string(line[len("committer "):]))
			if err != nil {
				return nil, err
			}
			c.Committer, haveCommitter = *id, true
		default:
			return nil, p.errorf("commit %s: want author or committer, have %q", ref, truncate(line))
		}
	}
	for {
		line, err := p.readLine()
		if err != nil {
			return nil, p.eof(err)
		}
		if bytes.HasPrefix(line, []byte("gpgsig ")) {
			if _, err := p.data(); err != nil {
				return nil, err
			}
			continue
		}
		if e, ok := bytes.CutPrefix(line, []byte("encoding ")); ok {
			c.Encoding = string(e)
			continue
		}
		p.unread(line)
		break
	}
	if c.Message, err = p.data(); err != nil {
		return nil, err
	}
	for {
		line, err := p.readLine()
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return nil, err
		}
		switch {
		case len(line) == 0:
			return c, nil
		case bytes.HasPrefix(line, []byte("from ")):
			if c.From != "" || len(c.Ops) > 0 || len(c.Merges) > 0 {
				return nil, p.errorf("commit %s: misplaced from", ref)
			}
			c.From = string(line[5:])
		case bytes.HasPrefix(line, []byte("merge ")):
			if len(c.Ops) > 0 {
				return nil, p.errorf("commit %s: merge after file changes", ref)
			}
			c.Merges = append(c.Merges, string(line[6:]))
		default:
			op, ok, err := p.fileOp(line)
			if err != nil {
				return nil, err
			}
			if !ok {
				p.unread(line) // the next command
				return c, nil
			}
			c.Ops = append(c.Ops, op)
		}
	}
}

// fileOp parses one file change; ok is false if line is not one.
func (p *Reader) fileOp(line []byte) (FileOp, bool, error) {
	s := string(line)
	switch {
	case s == "deleteall":
		return FileOp{Op: 'X'}, true, nil
	case strings.HasPrefix(s, "M "):
		mode, rest, ok1 := strings.Cut(s[2:], " ")
		ref, path, ok2 := strings.Cut(rest, " ")
		if !ok1 || !ok2 {
			return FileOp{}, false, p.errorf("bad filemodify %q", truncate(line))
		}
		switch mode {
		case "100644", "644", "100755", "755", "120000", "160000", "040000":
		default:
			return FileOp{}, false, p.errorf("filemodify of %q: unknown mode %q", path, mode)
		}
		pth, err := p.path(path)
		if err != nil {
			return FileOp{}, false, err
		}
		op := FileOp{Op: 'M', Mode: mode, DataRef: ref, Path: pth}
		if ref == "inline" {
			if op.Data, err = p.data(); err != nil {
				return FileOp{}, false, err
			}
		}
		return op, true, nil
	case strings.HasPrefix(s, "D "):
		pth, err := p.path(s[2:])
		return FileOp{Op: 'D', Path: pth}, err == nil, err
	case strings.HasPrefix(s, "C "), strings.HasPrefix(s, "R "):
		src, rest, err := p.firstPath(s[2:])
		if err != nil {
			return FileOp{}, false, err
		}
		dst, err := p.path(rest)
		if err != nil {
			return FileOp{}, false, err
		}
		return FileOp{Op: s[0], Path: src, Dest: dst}, true, nil
	case strings.HasPrefix(s, "N "):
		return FileOp{}, false, p.errorf("notemodify is not supported (export without notes)")
	}
	return FileOp{}, false, nil
}

// path unquotes a path: C-style if it starts with '"', else as is.
func (p *Reader) path(s string) (string, error) {
	if s == "" {
		return "", p.errorf("empty path")
	}
	if s[0] != '"' {
		return s, nil
	}
	u, rest, err := unquote(s)
	if err != nil || rest != "" {
		return "", p.errorf("bad quoted path %q", s)
	}
	return u, nil
}

// firstPath reads the source path of C and R, which ends at a space
// unless quoted.
func (p *Reader) firstPath(s string) (path, rest string, err error) {
	if strings.HasPrefix(s, "\"") {
		u, rest, err := unquote(s)
		if err != nil || !strings.HasPrefix(rest, " ") {
			return "", "", p.errorf("bad quoted path %q", s)
		}
		return u, rest[1:], nil
	}
	src, rest, ok := strings.Cut(s, " ")
	if !ok || src == "" {
		return "", "", p.errorf("bad copy or rename %q", s)
	}
	return src, rest, nil
}

// unquote reads a C-style quoted string at the start of s and returns it
// and what follows.
func unquote(s string) (string, string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			i++
			if i >= len(s) {
				return "", "", errors.New("unterminated escape")
			}
			switch e := s[i]; e {
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'v':
				b.WriteByte('\v')
			case '"', '\\':
				b.WriteByte(e)
			case '0', '1', '2', '3':
				if i+2 >= len(s) {
					return "", "", errors.New("short octal escape")
				}
				n, err := strconv.ParseUint(s[i:i+3], 8, 8)
				if err != nil {
					return "", "", err
				}
				b.WriteByte(byte(n))
				i += 2
			default:
				return "", "", fmt.Errorf("unknown escape \\%c", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated quote")
}

func (p *Reader) reset(ref string) (*Reset, error) {
	if ref == "" {
		return nil, p.errorf("reset without a ref")
	}
	r := &Reset{Ref: ref}
	line, err := p.readLine()
	switch {
	case err == io.EOF:
		return r, nil
	case err != nil:
		return nil, err
	}
	if from, ok := bytes.CutPrefix(line, []byte("from ")); ok {
		r.From = string(from)
		return r, nil
	}
	p.unread(line)
	return r, nil
}

func (p *Reader) tag(name string) (*Tag, error) {
	if name == "" {
		return nil, p.errorf("tag without a name")
	}
	t := &Tag{Name: name}
	var err error
	if t.Mark, _, err = p.header(); err != nil {
		return nil, err
	}
	for {
		line, err := p.readLine()
		if err != nil {
			return nil, p.eof(err)
		}
		switch {
		case bytes.HasPrefix(line, []byte("from ")):
			t.From = string(line[5:])
		case bytes.HasPrefix(line, []byte("original-oid ")):
			t.OriginalOID = string(line[len("original-oid "):])
		case bytes.HasPrefix(line, []byte("tagger ")):
			if t.Tagger, err = p.ident(string(line[len("tagger "):])); err != nil {
				return nil, err
			}
		default:
			p.unread(line)
			if t.From == "" {
				return nil, p.errorf("tag %s has no from", name)
			}
			if t.Message, err = p.data(); err != nil {
				return nil, err
			}
			return t, nil
		}
	}
}
