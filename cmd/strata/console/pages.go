package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/internal/sse"
)

// Display limits: bigger values are cut, with a link to the raw bytes.
const (
	maxTextView = 512 << 10 // bytes of text or JSON shown in a value view
	maxHexView  = 16 << 10  // bytes shown as a hex dump
	maxDiffSize = 256 << 10 // values bigger than this are not diffed line by line
	maxDiffs    = 200       // changes of a commit or comparison shown as diffs
	maxListed   = 1000      // changes listed at all (the others are counted)
	historyLen  = 20        // commits in a value's history
	// valueHistoryDepth bounds the walk for a value's history (generations).
	valueHistoryDepth = 1000
	// logDepth bounds a path-filtered log page's walk (generations below the
	// head), until the visitor asks to search deeper.
	logDepth  = 2000
	heartbeat = 25 * time.Second
)

// branchOf returns rev if it names a branch whose head is head, else "".
func (c *console) branchOf(ctx context.Context, rev string, head strata.Hash) string {
	if strata.ValidateBranchName(rev) != nil {
		return ""
	}
	h, err := c.kv.Branch(rev).Head(ctx)
	if err != nil || h != head {
		return ""
	}
	return rev
}

// cleanPath is a URL's store path without leading or trailing slashes.
func cleanPath(p string) string { return strings.Trim(p, "/") }

type crumb struct{ Name, Path string }

// crumbs are the directories leading to p, the root first.
func crumbs(p string) []crumb {
	out := []crumb{{Name: "root", Path: ""}}
	if p == "" {
		return out
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		out = append(out, crumb{Name: s, Path: strings.Join(segs[:i+1], "/")})
	}
	return out
}

type branchRow struct {
	Name   string
	Commit strata.Commit
	Err    string
}

// refRow is the row of a branch or tag named name at commit head: the
// commit's metadata, or why it could not be read.
func (c *console) refRow(ctx context.Context, name string, head strata.Hash) branchRow {
	row := branchRow{Name: name}
	if cm, err := c.kv.Commit(ctx, head.String()); err != nil {
		row.Err = err.Error()
	} else {
		row.Commit = cm
	}
	return row
}

func (c *console) branchesPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	bs, err := c.kv.Branches(ctx)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	rows := make([]branchRow, 0, len(bs))
	for _, b := range bs {
		rows = append(rows, c.refRow(ctx, b.Name, b.Head))
	}
	tags, err := c.kv.Tags(ctx)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	trows := make([]branchRow, 0, len(tags))
	for _, t := range tags {
		trows = append(trows, c.refRow(ctx, t.Name, t.Commit))
	}
	c.render(w, r, http.StatusOK, "branches", &page{Title: "Branches", S: s, Data: map[string]any{
		"Branches": rows, "Tags": trows, "CanCreate": s.Grant.Write,
	}})
}

type entryRow struct {
	Name, Path string
	Dir        bool
	Kind       string
	Size       int
}

func (c *console) treePage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	rev, p := r.PathValue("rev"), cleanPath(r.PathValue("path"))
	snap, err := c.kv.At(ctx, rev)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	after := r.URL.Query().Get("after")
	size := c.opts.PageSize
	es, err := snap.List(ctx, p, strata.After(after), strata.Limit(size+1))
	if errors.Is(err, strata.ErrNotFound) && p != "" {
		if _, verr := snap.GetValue(ctx, p); verr == nil {
			http.Redirect(w, r, "/value/"+url.PathEscape(rev)+"/"+escapePath(p), http.StatusFound)
			return
		}
		err = fmt.Errorf("no directory %q at %s: %w", p, rev, strata.ErrNotFound)
	}
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	next := ""
	if len(es) > size {
		es = es[:size]
		next = es[len(es)-1].Name
	}
	rows := make([]entryRow, 0, len(es))
	for _, e := range es {
		row := entryRow{Name: e.Name, Path: path.Join(p, e.Name), Dir: e.Dir}
		if !e.Dir {
			if v, err := snap.GetValue(ctx, row.Path); err == nil {
				row.Kind, row.Size = v.Kind.String(), len(v.Data)
			}
		}
		rows = append(rows, row)
	}
	// Directories first (within the page: a page is a range of names).
	slices.SortStableFunc(rows, func(a, b entryRow) int {
		switch {
		case a.Dir == b.Dir:
			return 0
		case a.Dir:
			return -1
		}
		return 1
	})
	cm := snap.Commit()
	branch := c.branchOf(ctx, rev, cm.Hash)
	c.render(w, r, http.StatusOK, "tree", &page{Title: "/" + p + " at " + rev, S: s, Branch: branch, Head: cm.Hash.String(), Data: map[string]any{
		"Rev": rev, "Path": p, "Parent": strings.TrimPrefix(path.Dir("/"+p), "/"), "Crumbs": crumbs(p), "Entries": rows, "Next": next, "After": after,
		"Commit": cm, "CanWrite": branch != "" && s.MayWrite(branch),
	}})
}

type numbered struct {
	N    int
	Text string
}

func numberLines(b []byte) []numbered {
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	out := make([]numbered, len(lines))
	for i, l := range lines {
		out[i] = numbered{N: i + 1, Text: l}
	}
	return out
}

func (c *console) valuePage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	rev, p := r.PathValue("rev"), cleanPath(r.PathValue("path"))
	snap, err := c.kv.At(ctx, rev)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	v, err := snap.GetValue(ctx, p)
	if errors.Is(err, strata.ErrNotFound) {
		if _, lerr := snap.List(ctx, p, strata.Limit(1)); lerr == nil {
			http.Redirect(w, r, "/tree/"+url.PathEscape(rev)+"/"+escapePath(p), http.StatusFound)
			return
		}
	}
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	cm := snap.Commit()
	// The walk is bounded: a value changed rarely in a long history would
	// otherwise cost a read of every commit. The log page searches further.
	hist, err := c.kv.Log(ctx, cm.Hash.String(), historyLen+1, strata.PathFilter(p), strata.MaxDepth(valueHistoryDepth))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	moreHist := len(hist) > historyLen || cm.Height > valueHistoryDepth+1
	if len(hist) > historyLen {
		hist = hist[:historyLen]
	}
	data := map[string]any{
		"Rev": rev, "Path": p, "Crumbs": crumbs(path.Dir("/" + p)[1:]), "Name": path.Base(p),
		"Kind": v.Kind.String(), "Size": len(v.Data), "Commit": cm, "History": hist, "MoreHistory": moreHist,
		"Saved": r.URL.Query().Get("saved"),
	}
	body := v.Data
	switch {
	case v.Kind == strata.KindJSON:
		if len(body) <= maxTextView {
			data["Lines"] = numberLines([]byte(prettyJSON(body)))
		} else {
			data["Lines"], data["Cut"] = numberLines(body[:min(len(body), maxTextView)]), len(body) > maxTextView
		}
	case utf8.Valid(body) && !slices.Contains(body, 0):
		data["Lines"], data["Cut"] = numberLines(body[:min(len(body), maxTextView)]), len(body) > maxTextView
	default:
		data["Hex"], data["Cut"] = hexDump(body[:min(len(body), maxHexView)]), len(body) > maxHexView
	}
	branch := c.branchOf(ctx, rev, cm.Hash)
	data["CanWrite"] = branch != "" && s.MayWrite(branch)
	c.render(w, r, http.StatusOK, "value", &page{Title: p + " at " + rev, S: s, Branch: branch, Head: cm.Hash.String(), Data: data})
}

// hexDump formats b as lines of 16 bytes: offset, hex, printable ASCII.
func hexDump(b []byte) []string {
	var out []string
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		var sb strings.Builder
		fmt.Fprintf(&sb, "%08x  ", off)
		for i := range 16 {
			if i < len(line) {
				fmt.Fprintf(&sb, "%02x ", line[i])
			} else {
				sb.WriteString("   ")
			}
			if i == 7 {
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(" |")
		for _, ch := range line {
			if ch >= 0x20 && ch < 0x7f {
				sb.WriteByte(ch)
			} else {
				sb.WriteByte('.')
			}
		}
		sb.WriteByte('|')
		out = append(out, sb.String())
	}
	return out
}

func (c *console) rawValue(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	snap, err := c.kv.At(ctx, r.PathValue("rev"))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	b, err := snap.Get(ctx, cleanPath(r.PathValue("path")))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	h := w.Header()
	if utf8.Valid(b) {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

type logRow struct {
	strata.Commit
	Graph graphRow
}

func (c *console) logPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	rev := r.PathValue("rev")
	q := r.URL.Query()
	p := cleanPath(q.Get("path"))
	skip, _ := strconv.Atoi(q.Get("skip"))
	skip = max(skip, 0)
	head, err := c.kv.Resolve(ctx, rev)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	var opts []strata.LogOption
	if p != "" {
		if err := strata.ValidatePath(p); err != nil {
			c.failErr(w, r, s, err)
			return
		}
		opts = append(opts, strata.PathFilter(p))
	}
	// A path-filtered walk is bounded (a path changed rarely in a long
	// history would otherwise cost a read of every commit); the page offers
	// to search deeper when the bound cut it short.
	depth := 0
	deeper := 0
	if p != "" {
		depth, _ = strconv.Atoi(q.Get("depth"))
		if depth <= 0 {
			depth = logDepth
		}
		opts = append(opts, strata.MaxDepth(depth))
	}
	size := c.opts.PageSize
	// The log is paged by position from a pinned head (the next page's link
	// names the commit hash), so pages stay consistent while the branch moves.
	cms, err := c.kv.Log(ctx, head.String(), skip+size+1, opts...)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	if p != "" && len(cms) <= skip+size {
		hc, err := c.kv.Commit(ctx, head.String())
		if err != nil {
			c.failErr(w, r, s, err)
			return
		}
		if hc.Height > uint64(depth)+1 {
			deeper = depth * 10
		}
	}
	more := len(cms) > skip+size
	if more {
		cms = cms[:skip+size]
	}
	graph := layoutGraph(cms, p == "")
	var rows []logRow
	for i := skip; i < len(cms); i++ {
		rows = append(rows, logRow{Commit: cms[i], Graph: graph[i]})
	}
	branch := c.branchOf(ctx, rev, head)
	c.render(w, r, http.StatusOK, "log", &page{Title: "History of " + rev, S: s, Branch: branch, Head: head.String(), Data: map[string]any{
		"Rev": rev, "Head": head, "Path": p, "Rows": rows, "More": more, "Skip": skip, "NextSkip": skip + size,
		"PrevSkip": max(skip-size, 0), "Depth": depth, "Deeper": deeper,
	}})
}

func (c *console) commitPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	rev := r.PathValue("rev")
	cm, err := c.kv.Commit(ctx, rev)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	changes, err := c.kv.Changes(ctx, cm.Hash.String())
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	from := ""
	if len(cm.Parents) > 0 {
		from = cm.Parents[0].String()
	}
	split := r.URL.Query().Get("view") == "split"
	diffs, err := c.fileDiffs(ctx, from, cm.Hash.String(), changes, split)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "commit", &page{Title: "Commit " + cm.Hash.Short(), S: s, Data: map[string]any{
		"Commit": cm, "Diffs": diffs, "Split": split, "Count": len(changes), "Unlisted": len(changes) - len(diffs), "Self": "/commit/" + cm.Hash.String(),
	}})
}

func (c *console) compareForm(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	if a, b := q.Get("a"), q.Get("b"); a != "" && b != "" {
		http.Redirect(w, r, "/compare/"+url.PathEscape(a)+"..."+url.PathEscape(b), http.StatusFound)
		return
	}
	c.render(w, r, http.StatusOK, "compareform", &page{Title: "Compare", S: s})
}

func (c *console) comparePage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	spec := r.PathValue("spec")
	a, b, ok := strings.Cut(spec, "...")
	if !ok || a == "" || b == "" {
		c.fail(w, r, s, http.StatusBadRequest, "Bad request",
			fmt.Errorf("compare %q: want /compare/A...B: %w", spec, strata.ErrInvalidRevision))
		return
	}
	ha, err := c.kv.Resolve(ctx, a)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	hb, err := c.kv.Resolve(ctx, b)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	changes, err := c.kv.Diff(ctx, ha.String(), hb.String())
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	cms, err := c.kv.Log(ctx, ha.String()+".."+hb.String(), c.opts.PageSize+1)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	more := len(cms) > c.opts.PageSize
	if more {
		cms = cms[:c.opts.PageSize]
	}
	split := r.URL.Query().Get("view") == "split"
	diffs, err := c.fileDiffs(ctx, ha.String(), hb.String(), changes, split)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "compare", &page{Title: "Compare " + a + "..." + b, S: s, Data: map[string]any{
		"A": a, "B": b, "HA": ha, "HB": hb, "Commits": cms, "MoreCommits": more, "Diffs": diffs, "Split": split,
		"Count": len(changes), "Unlisted": len(changes) - len(diffs), "Self": "/compare/" + url.PathEscape(a) + "..." + url.PathEscape(b),
	}})
}

// editForm is what the edit template shows.
type editForm struct {
	Branch, Path, Kind, Value, Message, Author string
	Head                                       string // the head the form was rendered at
	New                                        bool   // adding a value rather than editing one
	Conflict                                   string // the head the branch moved to, on a conflict
	Error                                      string
}

var kinds = []string{"text", "json", "raw", "counter"}

func (c *console) editPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	branch, p := r.PathValue("branch"), cleanPath(r.PathValue("path"))
	if !s.MayWrite(branch) {
		c.fail(w, r, s, http.StatusForbidden, "Forbidden", fmt.Errorf("your token may not write branch %q", branch))
		return
	}
	if err := strata.ValidateBranchName(branch); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	head, err := c.kv.Branch(branch).Head(ctx)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	f := editForm{Branch: branch, Path: p, Kind: "text", Head: head.String(), Author: "console"}
	snap, err := c.kv.At(ctx, head.String())
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	v, err := snap.GetValue(ctx, p)
	switch {
	case err == nil && p != "":
		f.Kind, f.Value = v.Kind.String(), string(v.Data)
		if v.Kind == strata.KindJSON {
			f.Value = prettyJSON(v.Data)
		}
		f.Message = "Edit " + p
	case errors.Is(err, strata.ErrNotFound) || p == "":
		// Add a value: in directory p if there is one, else at p.
		f.New = true
		if _, lerr := snap.List(ctx, p, strata.Limit(1)); lerr == nil && p != "" {
			f.Path = p + "/"
		}
	default:
		c.failErr(w, r, s, err)
		return
	}
	c.renderEdit(w, r, s, http.StatusOK, &f)
}

func (c *console) renderEdit(w http.ResponseWriter, r *http.Request, s *session, code int, f *editForm) {
	title := "Edit " + f.Path
	if f.New {
		title = "Add a value"
	}
	c.render(w, r, code, "edit", &page{Title: title, S: s, Data: map[string]any{"F": f, "Kinds": kinds}})
}

func (c *console) edit(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	branch := r.PathValue("branch")
	form := r.PostForm
	f := editForm{
		Branch: branch, Path: cleanPath(form.Get("path")), Kind: form.Get("kind"),
		Value:   strings.ReplaceAll(form.Get("value"), "\r\n", "\n"),
		Message: strings.TrimSpace(form.Get("message")), Author: strings.TrimSpace(form.Get("author")),
		Head: form.Get("head"), New: form.Get("new") == "1",
	}
	if !s.MayWrite(branch) {
		c.fail(w, r, s, http.StatusForbidden, "Forbidden", fmt.Errorf("your token may not write branch %q", branch))
		return
	}
	kind, err := strata.ParseKind(f.Kind)
	if err == nil {
		err = strata.ValidatePath(f.Path)
		if err == nil && f.Path == "" {
			err = fmt.Errorf("a value needs a path: %w", strata.ErrInvalidPath)
		}
	}
	if err != nil {
		f.Error = err.Error()
		c.renderEdit(w, r, s, http.StatusBadRequest, &f)
		return
	}
	expected, err := strata.ParseHash(f.Head)
	if err != nil && f.Head != "" {
		c.fail(w, r, s, http.StatusBadRequest, "Bad request", fmt.Errorf("head %q: %w", f.Head, err))
		return
	}
	b := c.kv.Branch(branch)
	if f.Message == "" {
		f.Message = "Edit " + f.Path + " in the console"
	}
	if f.Author == "" {
		f.Author = "console"
	}
	// The edit lands only on the head the form was rendered at (for a new
	// branch: only if it still does not exist).
	h, err := b.SetValue(ctx, f.Path, strata.Value{Kind: kind, Data: []byte(f.Value)},
		strata.Message(f.Message), strata.Author(f.Author), strata.IfHead(expected))
	switch {
	case errors.Is(err, strata.ErrHeadMoved):
		now, herr := b.Head(ctx)
		if herr != nil && !errors.Is(herr, strata.ErrNotFound) {
			c.failErr(w, r, s, herr)
			return
		}
		f.Conflict = now.String()
		f.Error = fmt.Sprintf("branch %s moved from %s to %s since this form was loaded: your change was not committed", branch, expected.Short(), now.Short())
		c.renderEdit(w, r, s, http.StatusConflict, &f)
		return
	case errors.Is(err, strata.ErrInvalidValue), errors.Is(err, strata.ErrInvalidPath):
		f.Error = err.Error()
		c.renderEdit(w, r, s, http.StatusBadRequest, &f)
		return
	case err != nil:
		c.failErr(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/value/"+url.PathEscape(branch)+"/"+escapePath(f.Path)+"?saved="+h.String(), http.StatusSeeOther)
}

func (c *console) createBranch(w http.ResponseWriter, r *http.Request, s *session) {
	name, from := strings.TrimSpace(r.PostForm.Get("name")), strings.TrimSpace(r.PostForm.Get("from"))
	if !s.MayWrite(name) {
		c.fail(w, r, s, http.StatusForbidden, "Forbidden", fmt.Errorf("your token may not write branch %q", name))
		return
	}
	if from == "" {
		c.fail(w, r, s, http.StatusBadRequest, "Bad request", fmt.Errorf("a new branch needs a revision to start at: %w", strata.ErrInvalidRevision))
		return
	}
	if err := c.kv.CreateBranch(r.Context(), name, from); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/tree/"+url.PathEscape(name), http.StatusSeeOther)
}

func (c *console) deleteBranch(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PostForm.Get("name")
	if !s.MayWrite(name) {
		c.fail(w, r, s, http.StatusForbidden, "Forbidden", fmt.Errorf("your token may not write branch %q", name))
		return
	}
	if err := c.kv.DeleteBranch(r.Context(), name); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// events streams the moves of one branch as Server-Sent Events: first a
// "head" event with the current head, then a "move" event per move.
func (c *console) events(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	branch := r.URL.Query().Get("branch")
	if err := strata.ValidateBranchName(branch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ch, err := c.kv.Watch(ctx, branch)
	if err != nil {
		http.Error(w, c.publicError(r, status(err), err), status(err))
		return
	}
	head, err := c.kv.Branch(branch).Head(ctx)
	if err != nil && !errors.Is(err, strata.ErrNotFound) {
		http.Error(w, c.publicError(r, status(err), err), status(err))
		return
	}
	sse.Start(w)
	if err := sse.Event(w, "", "head", map[string]string{"branch": branch, "head": hashOrEmpty(head)}); err != nil {
		return
	}
	// A comment line every heartbeat keeps idle proxies from closing the
	// stream and notices a client that left.
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if sse.Comment(w, "ping") != nil {
				return
			}
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if ev.Err != nil {
				_ = sse.Event(w, "", "failed", map[string]string{"error": c.publicError(r, status(ev.Err), ev.Err)})
				return
			}
			if err := sse.Event(w, "", "move", map[string]any{"branch": branch, "old": hashOrEmpty(ev.Old), "new": hashOrEmpty(ev.New), "changes": len(ev.Changes)}); err != nil {
				return
			}
		}
	}
}

func hashOrEmpty(h strata.Hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}
