package strata

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// ErrInvalidProof is wrapped by VerifyProof and ParseProof when a proof
// does not prove anything about the commit and path asked: it is
// malformed, names another commit or path, lacks an object on the way, or
// holds an object that is damaged (then ErrCorrupt is wrapped too) or
// not on the way.
var ErrInvalidProof = errors.New("invalid proof")

// Proof is a Merkle proof of what is at one path of one commit: the
// encoded objects read on the way from the commit to the value, in the
// order they are read — the commit, every directory object on the path
// (the nodes and, in a large directory, the index objects leading to the
// entry) and the value's contents object unless it is stored inline. A
// proof of absence holds the objects down to where the path stops. Its
// serialized form is its JSON encoding (MarshalJSON, ParseProof; see
// docs/FORMAT.md). A Proof is plain data: safe to share once built, not
// to modify concurrently.
type Proof struct {
	Commit  Hash     // the commit the proof starts from
	Path    string   // the path proved, checked (no leading or trailing "/")
	Objects [][]byte // the encoded objects, commit first
}

// Prove returns a proof of the value at path in revision rev (see
// Resolve), or, if there is no value there, a proof that there is none
// (VerifyProof then returns ErrNotFound). It returns an error wrapping
// ErrInvalidPath for a bad path (the root included: it is no value),
// ErrNotFound for an unknown revision, and ErrCorrupt if an object on the
// way is damaged. The proof shares no memory with the store.
func (kv *KV) Prove(ctx context.Context, rev, path string) (*Proof, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	p, err := checkProofPath(path)
	if err != nil {
		return nil, err
	}
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	rec := &recordingStore{ObjectStore: kv.store}
	if _, err := lookupProved(ctx, rec, h, p); err != nil && !provedAbsent(err) {
		return nil, fmt.Errorf("prove %q at %s: %w", path, h.Short(), err)
	}
	return &Proof{Commit: h, Path: p, Objects: rec.objs}, nil
}

// VerifyProof checks proof p with no store, trusting only the commit hash:
// it re-hashes every object and follows the links from the commit to path.
// It returns the value at path in that commit; an error wrapping
// ErrNotFound if p proves that there is no value there; and otherwise an
// error wrapping ErrInvalidProof (and ErrCorrupt when an object does not
// decode), never a panic. p must be for exactly this commit and path (path
// is compared after dropping one leading and one trailing "/") and hold no
// object that is not on the way. The caller owns the returned bytes.
func VerifyProof(commitHash Hash, path string, p *Proof) ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: no proof", ErrInvalidProof)
	}
	want, err := checkProofPath(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if p.Commit != commitHash {
		return nil, fmt.Errorf("%w: it is for commit %s, not %s", ErrInvalidProof, p.Commit.Short(), commitHash.Short())
	}
	if p.Path != want {
		return nil, fmt.Errorf("%w: it is for path %q, not %q", ErrInvalidProof, p.Path, want)
	}
	objs := make(proofObjects, len(p.Objects))
	for i, b := range p.Objects {
		h := codec.Sum(b)
		if _, dup := objs[h]; dup {
			return nil, fmt.Errorf("%w: object %d (%s) appears twice", ErrInvalidProof, i, h.Short())
		}
		objs[h] = b
	}
	rec := &recordingStore{ObjectStore: objs}
	// The lookup only reads: its context is never done.
	v, err := lookupProved(context.Background(), rec, commitHash, want)
	if err != nil && !provedAbsent(err) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if len(rec.objs) != len(objs) {
		return nil, fmt.Errorf("%w: %d of its %d objects are not on the way to %q", ErrInvalidProof, len(objs)-len(rec.objs), len(objs), want)
	}
	if err != nil {
		return nil, fmt.Errorf("proof at %s: %w", commitHash.Short(), err)
	}
	return v, nil
}

// checkProofPath checks a path to prove: valid, and not the root.
func checkProofPath(path string) (string, error) {
	p, err := tree.CheckPath(path)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", fmt.Errorf("%w: the root is a directory, not a value", ErrInvalidPath)
	}
	return p, nil
}

// lookupProved reads the value at path (checked) of commit h from objs,
// through no cache, so that every object on the way is read from objs.
func lookupProved(ctx context.Context, objs backend.ObjectStore, h Hash, path string) ([]byte, error) {
	c, err := commit.Get(ctx, objs, h)
	if err != nil {
		return nil, err
	}
	return tree.New(node.NewStore(objs, -1), c.Tree).GetPath(ctx, path)
}

// provedAbsent reports whether a lookup error says the path holds no
// value (as opposed to an object being missing or damaged).
func provedAbsent(err error) bool {
	return errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt)
}

// recordingStore records, in order and once each, the objects read
// through it.
type recordingStore struct {
	backend.ObjectStore
	mu   sync.Mutex
	seen map[Hash]bool
	objs [][]byte
}

func (s *recordingStore) Get(ctx context.Context, h Hash) ([]byte, error) {
	b, err := s.ObjectStore.Get(ctx, h)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[Hash]bool{}
	}
	if !s.seen[h] {
		s.seen[h] = true
		s.objs = append(s.objs, bytes.Clone(b))
	}
	return b, nil
}

// proofObjects is the object store of a proof, keyed by the hash of each
// object's bytes. It only reads.
type proofObjects map[Hash][]byte

func (o proofObjects) Get(_ context.Context, h Hash) ([]byte, error) {
	b, ok := o[h]
	if !ok {
		return nil, fmt.Errorf("object %s is not in the proof: %w", h.Short(), ErrNotFound)
	}
	return bytes.Clone(b), nil
}

func (o proofObjects) Put(context.Context, []backend.Object) error {
	return errors.New("a proof is read-only")
}

func (o proofObjects) Has(_ context.Context, hs []Hash) ([]bool, error) {
	out := make([]bool, len(hs))
	for i, h := range hs {
		_, out[i] = o[h]
	}
	return out, nil
}

// proofJSON is the serialized form of a Proof.
type proofJSON struct {
	Commit  string   `json:"commit"`
	Path    string   `json:"path"`
	Objects []string `json:"objects"`
}

// MarshalJSON returns p's serialized form, one JSON object:
// {"commit": lowercase hex, "path": the path, "objects": [standard padded
// base64 of each object, in order]}.
func (p *Proof) MarshalJSON() ([]byte, error) {
	j := proofJSON{Commit: p.Commit.String(), Path: p.Path, Objects: make([]string, len(p.Objects))}
	for i, b := range p.Objects {
		j.Objects[i] = base64.StdEncoding.EncodeToString(b)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a serialized proof strictly, as ParseProof does.
func (p *Proof) UnmarshalJSON(data []byte) error {
	q, err := ParseProof(data)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// ParseProof decodes a proof's serialized form (see MarshalJSON) strictly:
// exactly the three fields, spelled exactly so, each once, nothing after
// the object but white space, the commit as 64 lowercase hexadecimal
// digits and each object in canonical padded base64. Anything else is an
// error wrapping ErrInvalidProof. It checks the form only: VerifyProof
// checks what the proof proves.
func ParseProof(data []byte) (*Proof, error) {
	fail := func(format string, args ...any) (*Proof, error) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidProof, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return fail("not a JSON object")
	}
	var j proofJSON
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail("%v", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return fail("field %q appears twice", key)
		}
		seen[key] = true
		var dst any
		switch key {
		case "commit":
			dst = &j.Commit
		case "path":
			dst = &j.Path
		case "objects":
			dst = &j.Objects
		default:
			return fail("unknown field %q", key)
		}
		if err := dec.Decode(dst); err != nil {
			return fail("field %q: %v", key, err)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return fail("unterminated object")
	}
	if len(seen) != 3 {
		return fail("want the fields commit, path and objects")
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return fail("%d bytes after the proof", len(rest))
	}
	h, err := backend.ParseHash(j.Commit)
	if err != nil || h.String() != j.Commit {
		return fail("commit %q is not 64 lowercase hexadecimal digits", j.Commit)
	}
	p := &Proof{Commit: h, Path: j.Path, Objects: make([][]byte, len(j.Objects))}
	for i, s := range j.Objects {
		if p.Objects[i], err = base64.StdEncoding.Strict().DecodeString(s); err != nil {
			return fail("object %d: %v", i, err)
		}
	}
	return p, nil
}
