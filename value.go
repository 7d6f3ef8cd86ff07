package strata

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/tree"
)

// Kind says how a value's bytes are interpreted, and so how two changes to
// it merge (see MergeValues). The kind is stored with the value, so every
// process merges it the same way.
type Kind = contents.Kind

// The kinds of value.
const (
	// KindRaw: uninterpreted bytes, what Set stores. Two different changes
	// conflict.
	KindRaw = contents.KindRaw
	// KindText: UTF-8 text, merged line by line (diff3).
	KindText = contents.KindText
	// KindJSON: a JSON document, kept in canonical form (compact, object
	// members sorted by name); objects merge member by member.
	KindJSON = contents.KindJSON
	// KindCounter: a signed 64-bit integer, in decimal; merges add up the
	// changes of both sides.
	KindCounter = contents.KindCounter
)

// ParseKind returns the kind named "raw", "text", "json" or "counter", or
// an error wrapping ErrInvalidValue.
func ParseKind(name string) (Kind, error) { return contents.ParseKind(name) }

// Value is a value with its kind.
type Value struct {
	Kind Kind
	Data []byte
}

// Raw returns a raw value holding b (not copied).
func Raw(b []byte) Value { return Value{Kind: KindRaw, Data: b} }

// Text returns a text value. SetValue rejects it unless s is valid UTF-8.
func Text(s string) Value { return Value{Kind: KindText, Data: []byte(s)} }

// JSON returns a JSON value holding the document b (not copied). SetValue
// rejects it unless b is one valid JSON document, and stores it in
// canonical form.
func JSON(b []byte) Value { return Value{Kind: KindJSON, Data: b} }

// Counter returns a counter holding n.
func Counter(n int64) Value { return fromContents(contents.Counter(n)) }

// Int returns the integer a counter holds, or an error wrapping
// ErrInvalidValue if v is not a counter.
func (v Value) Int() (int64, error) { return v.contents().Int() }

// Canonical checks v and returns it in the canonical form SetValue stores
// (JSON compacted with sorted members, a counter in shortest decimal), or
// an error wrapping ErrInvalidValue.
func (v Value) Canonical() (Value, error) {
	c, err := contents.New(v.Kind, v.Data)
	return fromContents(c), err
}

func (v Value) contents() contents.Contents { return contents.Contents{Kind: v.Kind, Data: v.Data} }

func fromContents(c contents.Contents) Value { return Value{Kind: c.Kind, Data: c.Data} }

func valuePtr(c *contents.Contents) *Value {
	if c == nil {
		return nil
	}
	v := fromContents(*c)
	return &v
}

func contentsPtr(v *Value) *contents.Contents {
	if v == nil {
		return nil
	}
	c := v.contents()
	return &c
}

// canonical checks v and returns it in canonical form, or an error wrapping
// ErrInvalidValue that names path.
func canonical(path string, v Value) (contents.Contents, error) {
	c, err := contents.New(v.Kind, v.Data)
	if err != nil {
		return contents.Contents{}, fmt.Errorf("%q: %w", path, err)
	}
	return c, nil
}

// MergeValues merges two versions of a value changed from base (nil: the
// value did not exist there) with the built-in merge function of their
// kind: raw bytes conflict unless equal; text merges line by line; JSON
// objects member by member; counters add up (ours + theirs − base). When
// one side equals the base, the other wins. A conflict is an error
// wrapping ErrConflict that says what conflicts (for JSON, the members'
// JSON Pointers). A MergeFunc may call it to fall back to the default.
// Invalid typed data returns an error wrapping ErrInvalidValue.
func MergeValues(base *Value, ours, theirs Value) (Value, error) {
	var cs [3]contents.Contents
	for i, v := range []*Value{base, &ours, &theirs} {
		if v == nil {
			continue
		}
		c, err := contents.New(v.Kind, v.Data)
		if err != nil {
			return Value{}, err
		}
		cs[i] = c
	}
	var b *contents.Contents
	if base != nil {
		b = &cs[0]
	}
	r, err := contents.Merge(b, cs[1], cs[2], contents.NoSide)
	if err != nil {
		return Value{}, err
	}
	return fromContents(*r), nil
}

// SetValue stores a value of any kind at path in one new commit and
// returns its hash, as Set does for raw bytes. The value is checked and
// kept in canonical form (JSON compacted with sorted members, a counter in
// shortest decimal); an invalid one returns an error wrapping
// ErrInvalidValue. If a concurrent writer moves the branch first, the
// change is merged into the new head with the value's merge function (a
// counter set to n counts as adding n minus the value it replaced).
func (b *Branch) SetValue(ctx context.Context, path string, v Value, opts ...CommitOption) (Hash, error) {
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Hash{}, err
	}
	c, err := canonical(path, v)
	if err != nil {
		return Hash{}, err
	}
	c.Data = append([]byte{}, c.Data...)
	return b.write(ctx, true, func(ctx context.Context, t *tree.Builder) error {
		return t.SetContents(ctx, segs, c)
	}, opts)
}

// GetValue returns the value at path on the branch's current head, with
// its kind. It returns an error wrapping ErrNotFound if the branch or the
// value does not exist. The caller owns the returned bytes.
func (b *Branch) GetValue(ctx context.Context, path string) (Value, error) {
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Value{}, err
	}
	head, err := b.Head(ctx)
	if err != nil {
		return Value{}, err
	}
	return b.kv.valueAt(ctx, head, segs, fmt.Sprintf("branch %q at %s", b.name, head.Short()))
}

func (kv *KV) valueAt(ctx context.Context, h Hash, segs []string, where string) (Value, error) {
	c, err := commit.Load(ctx, kv.store, kv.nodes, h)
	if err != nil {
		return Value{}, err
	}
	v, err := tree.New(kv.nodes, c.Tree).GetContents(ctx, segs)
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", where, err)
	}
	return fromContents(v), nil
}

// Add adds delta to the counter at path in one new commit and returns the
// counter's new value and the commit's hash. A missing counter counts from
// 0 and is created. Concurrent Adds never lose an increment: a write that
// loses the race for the head merges its change into the new head (the
// counter's merge adds both changes up) instead of overwriting it. A value
// at path that is not a counter, or a result outside the 64-bit range,
// returns an error wrapping ErrInvalidValue. An error with a non-zero
// hash means the add landed in that commit but its new value could not
// be read back: do not add again.
func (b *Branch) Add(ctx context.Context, path string, delta int64, opts ...CommitOption) (int64, Hash, error) {
	segs, err := tree.ParsePath(path)
	if err != nil {
		return 0, Hash{}, err
	}
	h, err := b.write(ctx, true, func(ctx context.Context, t *tree.Builder) error {
		_, err := add(ctx, t, path, segs, delta)
		return err
	}, opts)
	if err != nil {
		return 0, Hash{}, err
	}
	// The add has landed: its value is read back even if ctx is done
	// now, and a failure to read it returns the commit all the same, so
	// that no caller takes a landed add for a failed one and adds again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readBackTimeout)
	defer cancel()
	v, err := b.kv.valueAt(rctx, h, segs, fmt.Sprintf("branch %q at %s", b.name, h.Short()))
	if err != nil {
		return 0, h, fmt.Errorf("the add landed in commit %s; reading the counter back: %w", h.Short(), err)
	}
	n, err := v.Int()
	return n, h, err
}

// readBackTimeout bounds Add's read of the value it committed, which
// ignores the caller's cancellation and deadline (the add has landed).
const readBackTimeout = 10 * time.Second

// add adds delta to the counter at segs in t.
func add(ctx context.Context, t *tree.Builder, path string, segs []string, delta int64) (int64, error) {
	if len(segs) == 0 {
		return 0, fmt.Errorf("%w: the root is not a counter", ErrInvalidPath)
	}
	var n int64
	cur, err := t.GetContents(ctx, segs)
	switch {
	case errors.Is(err, ErrNotFound):
		// a new counter (or a directory, which SetContents refuses)
	case err != nil:
		return 0, err
	default:
		if n, err = cur.Int(); err != nil {
			return 0, fmt.Errorf("add to %q: %w", path, err)
		}
	}
	if delta > 0 && n > math.MaxInt64-delta || delta < 0 && n < math.MinInt64-delta {
		return 0, fmt.Errorf("%w: add %d to %q: the counter (%d) would overflow 64 bits", ErrInvalidValue, delta, path, n)
	}
	n += delta
	return n, t.SetContents(ctx, segs, contents.Counter(n))
}

// GetValue returns the value at path with its kind, or an error wrapping
// ErrNotFound.
func (s *Snapshot) GetValue(ctx context.Context, path string) (Value, error) {
	if err := s.kv.alive(); err != nil {
		return Value{}, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Value{}, err
	}
	c, err := s.tree.GetContents(ctx, segs)
	if err != nil {
		return Value{}, fmt.Errorf("at %s: %w", s.commit.Hash.Short(), err)
	}
	return fromContents(c), nil
}

// SetValue records a value of any kind at path (see Branch.SetValue). An
// invalid value or path is returned and also makes Update fail.
func (tx *Tx) SetValue(path string, v Value) error {
	if err := tx.usable(); err != nil {
		return tx.fail(err)
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return tx.fail(err)
	}
	c, err := canonical(path, v)
	if err != nil {
		return tx.fail(err)
	}
	if err := tx.t.SetContents(tx.ctx, segs, c); err != nil {
		return tx.fail(err)
	}
	return nil
}

// GetValue returns the value at path with its kind, as the transaction
// sees it, or an error wrapping ErrNotFound.
func (tx *Tx) GetValue(path string) (Value, error) {
	if err := tx.usable(); err != nil {
		return Value{}, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Value{}, err
	}
	c, err := tx.t.GetContents(tx.ctx, segs)
	return fromContents(c), err
}

// Add adds delta to the counter at path (a missing one counts from 0) and
// returns its new value, as the transaction sees it. A value that is not a
// counter, or an overflow, returns an error wrapping ErrInvalidValue and
// makes Update fail.
func (tx *Tx) Add(path string, delta int64) (int64, error) {
	if err := tx.usable(); err != nil {
		return 0, tx.fail(err)
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return 0, tx.fail(err)
	}
	n, err := add(tx.ctx, tx.t, path, segs, delta)
	if err != nil {
		return 0, tx.fail(err)
	}
	return n, nil
}
