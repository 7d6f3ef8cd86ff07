package server

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/internal/jsonbytes"
)

// openAPI is the OpenAPI 3 document of the JSON API, served at
// /v1/openapi.json; docs/openapi.json is a copy (a test keeps them equal).
//
//go:embed openapi.json
var openAPI []byte

// Defaults and bounds of the JSON API's query parameters.
const (
	defaultBranch = "main" // ?branch= and ?at= when absent
	defaultLogN   = 100    // /v1/log?n=
	defaultLimit  = 1000   // /v1/list?limit=
	maxLimit      = 10000
)

// apiRoutes registers this file's routes.
func (s *Server) apiRoutes() {
	s.handlePublic("GET /v1/openapi.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	}))
	s.handle("GET /v1/values/{path...}", http.HandlerFunc(s.getValue))
	s.handle("PUT /v1/values/{path...}", http.HandlerFunc(s.putValue))
	s.handle("DELETE /v1/values/{path...}", http.HandlerFunc(s.deleteValue))
	s.handle("POST /v1/update", http.HandlerFunc(s.update))
	s.handle("GET /v1/list/{path...}", http.HandlerFunc(s.list))
	s.handle("GET /v1/log", http.HandlerFunc(s.log))
	s.handle("GET /v1/diff", http.HandlerFunc(s.diff))
	s.handle("GET /v1/commits/{hash}", http.HandlerFunc(s.commit))
	s.handle("GET /v1/branches", http.HandlerFunc(s.branches))
	s.handle("GET /v1/branches/{name...}", http.HandlerFunc(s.branch))
	s.handle("POST /v1/branches", http.HandlerFunc(s.createBranch))
	s.handle("DELETE /v1/branches/{name...}", http.HandlerFunc(s.deleteBranch))
	s.handle("GET /v1/tags", http.HandlerFunc(s.tags))
	s.handle("GET /v1/tags/{name...}", http.HandlerFunc(s.tag))
	s.handle("POST /v1/tags", http.HandlerFunc(s.createTag))
	s.handle("DELETE /v1/tags/{name...}", http.HandlerFunc(s.deleteTag))
	s.handle("POST /v1/merge", http.HandlerFunc(s.merge))
}

// commitAnswer is the answer of every write.
type commitAnswer struct {
	Commit string `json:"commit"`
}

// contentType is the Content-Type of a value of kind k.
func contentType(k strata.Kind) string {
	switch k {
	case strata.KindText, strata.KindCounter:
		return "text/plain; charset=utf-8"
	case strata.KindJSON:
		return "application/json"
	}
	return "application/octet-stream"
}

// query returns the query parameter name, or def when it is absent or
// empty.
func query(r *http.Request, name, def string) string {
	if v := r.URL.Query().Get(name); v != "" {
		return v
	}
	return def
}

// intQuery returns the integer query parameter name, def when absent.
func intQuery(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s=%q is not a non-negative integer", errInvalid, name, v)
	}
	return n, nil
}

func (s *Server) getValue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	snap, err := s.kv.At(ctx, query(r, "at", defaultBranch))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := snap.GetValue(ctx, r.PathValue("path"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType(v.Kind))
	h.Set("X-Strata-Kind", v.Kind.String())
	h.Set("ETag", `"`+snap.Commit().Hash.String()+`"`)
	h.Set("Content-Length", strconv.Itoa(len(v.Data)))
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(v.Data)
}

// commitOptions returns the commit options a write request asks for: the
// message and author from the X-Strata-Message and X-Strata-Author headers
// (or msg and author, from a JSON body, when not empty).
func commitOptions(r *http.Request, msg, author string) []strata.CommitOption {
	if msg == "" {
		msg = r.Header.Get("X-Strata-Message")
	}
	if author == "" {
		author = r.Header.Get("X-Strata-Author")
	}
	var opts []strata.CommitOption
	if msg != "" {
		opts = append(opts, strata.Message(msg))
	}
	if author != "" {
		opts = append(opts, strata.Author(author))
	}
	return opts
}

// ifMatch returns the commit named by the request's If-Match header
// ("<hash>", quoted as an ETag is), and whether there is one.
func ifMatch(r *http.Request) (strata.Hash, bool, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" {
		return strata.Hash{}, false, nil
	}
	v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	h, err := strata.ParseHash(v)
	if err != nil {
		return strata.Hash{}, false, fmt.Errorf("%w: If-Match must be a commit hash in quotes, as an ETag", errInvalid)
	}
	return h, true, nil
}

// write runs a write on branch name for request r through the facade
// (one commit by the commit primitive, grouped with concurrent writes),
// giving do opts. With If-Match the write is
// conditional (strata.IfHead): it lands only if the branch head is that
// commit when it commits (412 otherwise).
func (s *Server) write(r *http.Request, name string, opts []strata.CommitOption, do func(b *strata.Branch, opts []strata.CommitOption) (strata.Hash, error)) (strata.Hash, error) {
	want, cond, err := ifMatch(r)
	if err != nil {
		return strata.Hash{}, err
	}
	if cond {
		opts = append(opts, strata.IfHead(want))
	}
	h, err := do(s.kv.Branch(name), opts)
	if err != nil {
		if errors.Is(err, strata.ErrHeadMoved) {
			return strata.Hash{}, fmt.Errorf("%w: %w", errPrecondition, err)
		}
		return strata.Hash{}, err
	}
	s.metrics.commits.Inc()
	return h, nil
}

func (s *Server) putValue(w http.ResponseWriter, r *http.Request) {
	name := query(r, "branch", defaultBranch)
	if !s.authorize(w, r, true, name) {
		return
	}
	path := r.PathValue("path")
	var kind strata.Kind = strata.KindRaw
	if k := r.URL.Query().Get("kind"); k != "" {
		var err error
		if kind, err = strata.ParseKind(k); err != nil {
			s.writeError(w, r, fmt.Errorf("%w: kind=%q: %w", errInvalid, k, err))
			return
		}
	}
	if err := strata.ValidatePath(path); err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, r, bodyError(err))
		return
	}
	opts := commitOptions(r, "", "")
	h, err := s.write(r, name, opts, func(b *strata.Branch, opts []strata.CommitOption) (strata.Hash, error) {
		if kind == strata.KindRaw {
			return b.Set(r.Context(), path, body, opts...)
		}
		return b.SetValue(r.Context(), path, strata.Value{Kind: kind, Data: body}, opts...)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, commitAnswer{h.String()})
}

// bodyError is the error of a request body that could not be read.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: the limit is %d bytes", errTooLarge, mbe.Limit)
	}
	return fmt.Errorf("%w: reading the body: %v", errInvalid, err)
}

func (s *Server) deleteValue(w http.ResponseWriter, r *http.Request) {
	name := query(r, "branch", defaultBranch)
	if !s.authorize(w, r, true, name) {
		return
	}
	path := r.PathValue("path")
	opts := commitOptions(r, "", "")
	h, err := s.write(r, name, opts, func(b *strata.Branch, opts []strata.CommitOption) (strata.Hash, error) {
		return b.Delete(r.Context(), path, opts...)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, commitAnswer{h.String()})
}

// updateRequest is the body of POST /v1/update. Values are JSON strings
// whose UTF-8 bytes are stored as they are.
type updateRequest struct {
	Set     map[string]string `json:"set"`
	Delete  []string          `json:"delete"`
	Message string            `json:"message"`
	Author  string            `json:"author"`
}

// decode reads the JSON body of r into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyError(err)
		}
		return fmt.Errorf("%w: JSON body: %v", errInvalid, err)
	}
	return nil
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	name := query(r, "branch", defaultBranch)
	if !s.authorize(w, r, true, name) {
		return
	}
	var req updateRequest
	if err := decode(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.Set) == 0 && len(req.Delete) == 0 {
		s.writeError(w, r, fmt.Errorf("%w: nothing to set or delete", errInvalid))
		return
	}
	opts := commitOptions(r, req.Message, req.Author)
	h, err := s.write(r, name, opts, func(b *strata.Branch, opts []strata.CommitOption) (strata.Hash, error) {
		return b.Update(r.Context(), func(tx *strata.Tx) error {
			for _, p := range req.Delete {
				if err := tx.Delete(p); err != nil {
					return err
				}
			}
			for _, p := range slices.Sorted(maps.Keys(req.Set)) {
				if err := tx.Set(p, []byte(req.Set[p])); err != nil {
					return err
				}
			}
			return nil
		}, opts...)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, commitAnswer{h.String()})
}

type entryJSON struct {
	Name string `json:"name"`
	Dir  bool   `json:"dir"`
}

type listAnswer struct {
	Commit  string      `json:"commit"`
	Entries []entryJSON `json:"entries"`
	// Next is the cursor of the next page (pass it as ?after=), empty on
	// the last page.
	Next string `json:"next,omitempty"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	limit, err := intQuery(r, "limit", defaultLimit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if limit == 0 || limit > maxLimit {
		limit = maxLimit
	}
	snap, err := s.kv.At(ctx, query(r, "at", defaultBranch))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	es, err := snap.List(ctx, r.PathValue("path"), strata.After(r.URL.Query().Get("after")), strata.Limit(limit+1))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ans := listAnswer{Commit: snap.Commit().Hash.String(), Entries: []entryJSON{}}
	if len(es) > limit {
		es = es[:limit]
		ans.Next = es[limit-1].Name
	}
	for _, e := range es {
		ans.Entries = append(ans.Entries, entryJSON{e.Name, e.Dir})
	}
	writeJSON(w, http.StatusOK, ans)
}

type commitJSON struct {
	Hash    string    `json:"hash"`
	Tree    string    `json:"tree"`
	Parents []string  `json:"parents"`
	Author  string    `json:"author"`
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
	Height  uint64    `json:"height"`
	Shallow bool      `json:"shallow,omitempty"`
}

func newCommitJSON(c strata.Commit) commitJSON {
	j := commitJSON{Hash: c.Hash.String(), Tree: c.Tree.String(), Parents: []string{}, Author: c.Author,
		Message: c.Message, Time: c.Time.UTC(), Height: c.Height, Shallow: c.Shallow}
	for _, p := range c.Parents {
		j.Parents = append(j.Parents, p.String())
	}
	return j
}

// logAnswer is the answer of /v1/log.
type logAnswer struct {
	Commits []commitJSON `json:"commits"`
	// Truncated is set when the answer stopped at a bound (Options.MaxLog
	// commits, or Options.MaxLogWalk generations with ?path=) and older
	// matching commits may exist: ask again with rev set to Next.
	Truncated bool `json:"truncated,omitempty"`
	// Next is, when Truncated, a revision to continue from: the oldest
	// commit answered's first parent, or the commit where a ?path= walk
	// stopped. On a history with merges, continuing from it may show
	// commits already seen or leave out commits of other lines. It is
	// empty if there is no such commit (a first-parent line shorter than
	// the walk's bound).
	Next string `json:"next,omitempty"`
}

func (s *Server) log(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	n, err := intQuery(r, "n", defaultLogN)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n <= 0 || n > s.opts.MaxLog {
		n = s.opts.MaxLog
	}
	rev := query(r, "rev", defaultBranch)
	path := r.URL.Query().Get("path")
	var opts []strata.LogOption
	if path != "" {
		opts = append(opts, strata.PathFilter(path), strata.MaxDepth(s.opts.MaxLogWalk))
	}
	cs, err := s.kv.Log(ctx, rev, n+1, opts...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := logAnswer{Commits: []commitJSON{}}
	if len(cs) > n {
		cs = cs[:n]
		out.Truncated = true
		if ps := cs[n-1].Parents; len(ps) > 0 {
			out.Next = ps[0].String()
		}
	} else if path != "" {
		// The walk may have stopped at MaxLogWalk generations below the
		// tip (below B of a range A..B) with older history left.
		tip := rev
		if _, to, ok := strings.Cut(rev, ".."); ok {
			tip = to
		}
		c, err := s.kv.Commit(ctx, tip)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if c.Height > uint64(s.opts.MaxLogWalk)+1 {
			out.Truncated = true
			// The first commit the walk did not visit on tip's first-parent line.
			next, err := s.kv.Commit(ctx, fmt.Sprintf("%s~%d", c.Hash, s.opts.MaxLogWalk+1))
			if err == nil {
				out.Next = next.Hash.String()
			}
		}
	}
	for _, c := range cs {
		out.Commits = append(out.Commits, newCommitJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// changeJSON is one strata.Change. A value that is valid UTF-8 is given
// as a string (old, new); any other as base64 (oldBase64, newBase64).
type changeJSON struct {
	Op        string  `json:"op"`
	Path      string  `json:"path"`
	Old       *string `json:"old,omitempty"`
	New       *string `json:"new,omitempty"`
	OldBase64 *string `json:"oldBase64,omitempty"`
	NewBase64 *string `json:"newBase64,omitempty"`
}

// newChangeJSON returns c as the diff and the watch stream give it.
func newChangeJSON(c strata.Change) changeJSON {
	j := changeJSON{Op: c.Op.String(), Path: c.Path}
	j.Old, j.OldBase64 = jsonbytes.TextOrBase64(c.Old)
	j.New, j.NewBase64 = jsonbytes.TextOrBase64(c.New)
	return j
}

func (s *Server) diff(w http.ResponseWriter, r *http.Request) {
	from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
	if from == "" || to == "" {
		s.writeError(w, r, fmt.Errorf("%w: from and to are required", errInvalid))
		return
	}
	path := r.URL.Query().Get("path")
	if path != "" {
		if err := strata.ValidatePath(path); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	// Only the changes under path, and one more than MaxDiff of them to
	// tell a truncated answer, are read with their values.
	cs, err := s.kv.Diff(r.Context(), from, to, strata.DiffPath(path), strata.DiffLimit(s.opts.MaxDiff+1))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Changes []changeJSON `json:"changes"`
		// Truncated is set when more than Options.MaxDiff changes
		// differ: Changes holds the first MaxDiff of them by path.
		Truncated bool `json:"truncated,omitempty"`
	}{Changes: []changeJSON{}}
	if len(cs) > s.opts.MaxDiff {
		cs, out.Truncated = cs[:s.opts.MaxDiff], true
	}
	for _, c := range cs {
		out.Changes = append(out.Changes, newChangeJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request) {
	c, err := s.kv.Commit(r.Context(), r.PathValue("hash"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newCommitJSON(c))
}

type refJSON struct {
	Name string `json:"name"`
	Head string `json:"head"`
}

func (s *Server) branches(w http.ResponseWriter, r *http.Request) {
	bs, err := s.kv.Branches(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Branches []refJSON `json:"branches"`
	}{Branches: []refJSON{}}
	for _, b := range bs {
		out.Branches = append(out.Branches, refJSON{b.Name, b.Head.String()})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) branch(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	h, err := s.kv.Branch(name).Head(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, refJSON{name, h.String()})
}

// createRequest is the body of POST /v1/branches and POST /v1/tags.
type createRequest struct {
	Name string `json:"name"`
	// From is the revision the branch starts at (default "main").
	From string `json:"from"`
	// Rev is the revision a tag names (default "main").
	Rev string `json:"rev"`
	// Force moves an existing tag.
	Force bool `json:"force"`
}

func (s *Server) createBranch(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := decode(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.authorize(w, r, true, req.Name) {
		return
	}
	if req.From == "" {
		req.From = defaultBranch
	}
	if err := s.kv.CreateBranch(r.Context(), req.Name, req.From); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.branchCreated(w, r, req.Name)
}

func (s *Server) branchCreated(w http.ResponseWriter, r *http.Request, name string) {
	h, err := s.kv.Branch(name).Head(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, refJSON{name, h.String()})
}

func (s *Server) deleteBranch(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.authorize(w, r, true, name) {
		return
	}
	if err := s.kv.DeleteBranch(r.Context(), name); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) tags(w http.ResponseWriter, r *http.Request) {
	ts, err := s.kv.Tags(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Tags []refJSON `json:"tags"`
	}{Tags: []refJSON{}}
	for _, t := range ts {
		out.Tags = append(out.Tags, refJSON{t.Name, t.Commit.String()})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) tag(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := strata.ValidateBranchName(name); err != nil {
		s.writeError(w, r, err)
		return
	}
	ts, err := s.kv.Tags(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, t := range ts {
		if t.Name == name {
			writeJSON(w, http.StatusOK, refJSON{name, t.Commit.String()})
			return
		}
	}
	s.writeError(w, r, fmt.Errorf("tag %q: %w", name, strata.ErrNotFound))
}

func (s *Server) createTag(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, true, "") {
		return
	}
	var req createRequest
	if err := decode(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Rev == "" {
		req.Rev = defaultBranch
	}
	var opts []strata.TagOption
	if req.Force {
		opts = append(opts, strata.Force())
	}
	h, err := s.kv.Tag(r.Context(), req.Name, req.Rev, opts...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, refJSON{req.Name, h.String()})
}

func (s *Server) deleteTag(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, true, "") {
		return
	}
	if err := s.kv.DeleteTag(r.Context(), r.PathValue("name")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// mergeRequest is the body of POST /v1/merge.
type mergeRequest struct {
	From    string `json:"from"`
	Into    string `json:"into"`
	Message string `json:"message"`
	Author  string `json:"author"`
}

func (s *Server) merge(w http.ResponseWriter, r *http.Request) {
	var req mergeRequest
	if err := decode(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Into == "" {
		req.Into = defaultBranch
	}
	if !s.authorize(w, r, true, req.Into) {
		return
	}
	if req.From == "" {
		s.writeError(w, r, fmt.Errorf("%w: from is required", errInvalid))
		return
	}
	var opts []strata.MergeOption
	for _, o := range commitOptions(r, req.Message, req.Author) {
		opts = append(opts, o)
	}
	h, err := s.kv.Merge(r.Context(), req.From, req.Into, opts...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.commits.Inc()
	writeJSON(w, http.StatusOK, commitAnswer{h.String()})
}
