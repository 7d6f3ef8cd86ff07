package contents

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/stratakv/strata/backend"
)

// Side names one of the three versions in a three-way merge.
type Side uint8

// The sides of a merge. NoSide means "none": conflicts are reported, not
// settled.
const (
	NoSide Side = iota
	Base        // the common ancestor
	Ours        // the version merged into
	Theirs      // the version merged in
)

// String returns "base", "ours", "theirs" or "none".
func (s Side) String() string {
	switch s {
	case Base:
		return "base"
	case Ours:
		return "ours"
	case Theirs:
		return "theirs"
	}
	return "none"
}

// ConflictError reports that two changes to one value cannot be combined.
// It wraps backend.ErrConflict.
type ConflictError struct {
	// Detail says what conflicts, in words: "lines 3-4 changed differently
	// on both sides", `JSON field "/owner" changed differently on both sides`.
	Detail string
	// Fields are the JSON Pointers (RFC 6901) of the conflicting members of
	// a JSON document ("" for the whole document); nil for other kinds.
	Fields []string
}

func (e *ConflictError) Error() string { return "merge conflict: " + e.Detail }

// Unwrap returns backend.ErrConflict.
func (e *ConflictError) Unwrap() error { return backend.ErrConflict }

// Merge merges two versions of a value, ours and theirs, changed from a
// common base (nil when the value did not exist in the base, or had
// another kind there), with the merge function of their kind:
//
//   - equal versions merge to themselves, and when one side equals the
//     base the other side wins (except for counters, where every change
//     counts, even two equal ones);
//   - raw: two different changes conflict;
//   - text: a line-based three-way merge (diff3): changes to different
//     lines combine; changes to overlapping lines, or insertions at the
//     same place, conflict unless they are identical;
//   - JSON: objects merge member by member, recursively, and a member
//     added, changed or removed on one side only is taken from that side;
//     two different changes to one member (or to a non-object document)
//     conflict, naming the member's JSON Pointer;
//   - counter: ours + theirs − base (base 0 if absent); an overflow of the
//     64-bit range conflicts.
//
// Versions of different kinds conflict. A conflict is an error of type
// *ConflictError (wrapping backend.ErrConflict) unless prefer names a side:
// then the conflicting parts — a text region, a JSON member, or the whole
// value for raw bytes and kind clashes — are taken from that side, and the
// rest is merged. With prefer == Base the result is nil where the base had
// nothing. The inputs must be canonical (see New); invalid typed data
// returns an error wrapping ErrInvalidValue. The result may share
// memory with the inputs.
func Merge(base *Contents, ours, theirs Contents, prefer Side) (*Contents, error) {
	if ours.Kind == KindCounter && theirs.Kind == KindCounter {
		// Every change is an increment, even two equal ones: no shortcut.
		if base != nil && base.Kind != KindCounter {
			base = nil
		}
		c, err := mergeCounter(base, ours, theirs)
		if err == nil {
			return &c, nil
		}
		var ce *ConflictError
		if errors.As(err, &ce) && prefer != NoSide {
			switch prefer {
			case Base:
				return base, nil
			case Theirs:
				return &theirs, nil
			}
			return &ours, nil
		}
		return nil, err
	}
	switch {
	case ours.Equal(theirs):
		return &ours, nil
	case base != nil && base.Equal(ours):
		return &theirs, nil
	case base != nil && base.Equal(theirs):
		return &ours, nil
	}
	take := func(detail string) (*Contents, error) {
		switch prefer {
		case Base:
			return base, nil
		case Ours:
			return &ours, nil
		case Theirs:
			return &theirs, nil
		}
		return nil, &ConflictError{Detail: detail}
	}
	if ours.Kind != theirs.Kind {
		return take(fmt.Sprintf("ours is %s, theirs is %s", article(ours.Kind), article(theirs.Kind)))
	}
	if base != nil && base.Kind != ours.Kind {
		base = nil // a value of another kind is no base for this one
	}
	var (
		c   Contents
		err error
	)
	switch ours.Kind {
	case KindText:
		c, err = mergeText(base, ours, theirs, prefer)
	case KindJSON:
		c, err = mergeJSON(base, ours, theirs, prefer)
	default:
		return take("changed differently on both sides")
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// article names a kind with its article, for messages.
func article(k Kind) string {
	switch k {
	case KindRaw:
		return "raw bytes"
	case KindText:
		return "text"
	case KindJSON:
		return "JSON"
	case KindCounter:
		return "a counter"
	}
	return k.String()
}

// mergeCounter returns ours + theirs − base.
func mergeCounter(base *Contents, ours, theirs Contents) (Contents, error) {
	var b int64
	if base != nil {
		var err error
		if b, err = base.Int(); err != nil {
			return Contents{}, err
		}
	}
	o, err := ours.Int()
	if err != nil {
		return Contents{}, err
	}
	t, err := theirs.Int()
	if err != nil {
		return Contents{}, err
	}
	sum := new(big.Int).Add(big.NewInt(o), big.NewInt(t))
	sum.Sub(sum, big.NewInt(b))
	if !sum.IsInt64() {
		return Contents{}, &ConflictError{Detail: fmt.Sprintf("counter overflow: %d + %d − %d does not fit in 64 bits", o, t, b)}
	}
	return Counter(sum.Int64()), nil
}

// mergeText merges UTF-8 texts line by line.
func mergeText(base *Contents, ours, theirs Contents, prefer Side) (Contents, error) {
	var b []byte
	if base != nil {
		b = base.Data
	}
	out, regions := Merge3Lines(b, ours.Data, theirs.Data, prefer)
	if len(regions) > 0 && prefer == NoSide {
		parts := make([]string, len(regions))
		for i, r := range regions {
			parts[i] = r.String()
		}
		return Contents{}, &ConflictError{Detail: strings.Join(parts, ", ") + " changed differently on both sides"}
	}
	return Contents{Kind: KindText, Data: out}, nil
}
