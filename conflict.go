package strata

import (
	"fmt"
	"strings"

	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/tree"
)

// Side names one of the three versions in a merge: Base (the common
// ancestor), Ours (the branch merged into) or Theirs (what is merged in).
type Side = contents.Side

// The sides of a merge.
const (
	Base   = contents.Base
	Ours   = contents.Ours
	Theirs = contents.Theirs
)

// ConflictReason says why a path is a Conflict, what kind of disagreement
// it is: its String is "content", "delete", "directory" or "type".
type ConflictReason = tree.ConflictReason

// The reasons for a conflict.
const (
	// ConflictContent: both sides changed a value differently and its
	// merge function could not combine the changes.
	ConflictContent = tree.ConflictContent
	// ConflictDelete: one side changed a value, the other removed it.
	ConflictDelete = tree.ConflictDelete
	// ConflictDirectory: a value on one side, a directory on the other.
	ConflictDirectory = tree.ConflictDirectory
	// ConflictType: both sides changed a value, to different kinds.
	ConflictType = tree.ConflictType
)

// Conflict is one path that a merge could not settle.
type Conflict struct {
	Path   string
	Reason ConflictReason
	// Base, Ours and Theirs are the values at Path in the merge base and
	// on the two sides; nil where that side has nothing there, or a
	// directory.
	Base, Ours, Theirs *Value
	// Detail says what conflicts, in words, such as
	// `JSON field "/owner" changed differently on both sides` or
	// "changed on ours, removed on theirs".
	Detail string
	// Fields are the JSON Pointers (RFC 6901) of the conflicting members
	// of a JSON value ("" for the whole document); nil otherwise.
	Fields []string
}

// String returns "PATH KIND: DETAIL".
func (c Conflict) String() string { return fmt.Sprintf("%s %s: %s", c.Path, c.Reason, c.Detail) }

func newConflict(c tree.Conflict) Conflict {
	return Conflict{Path: c.Path, Reason: c.Reason, Base: valuePtr(c.Base), Ours: valuePtr(c.Ours),
		Theirs: valuePtr(c.Theirs), Detail: c.Detail, Fields: c.Fields}
}

// MergeConflictError is the error of a merge, revert or cherry-pick that
// found conflicts it could not settle. Nothing was written. It wraps
// ErrConflict; get at it with errors.As.
type MergeConflictError struct {
	Op        string     // what was being done: "merge feature into main"
	Conflicts []Conflict // every conflict, sorted by path
}

func (e *MergeConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s", e.Op, len(e.Conflicts), plural(len(e.Conflicts), "conflict", "conflicts"))
	for i, c := range e.Conflicts {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Conflicts)-3)
			break
		}
		sep := ": "
		if i > 0 {
			sep = "; "
		}
		b.WriteString(sep + c.String())
	}
	return b.String()
}

// Unwrap returns ErrConflict.
func (e *MergeConflictError) Unwrap() error { return ErrConflict }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// conflictError returns the *MergeConflictError of op for the tree
// merge's conflicts cs.
func conflictError(op string, cs []tree.Conflict) error {
	e := &MergeConflictError{Op: op, Conflicts: make([]Conflict, len(cs))}
	for i, c := range cs {
		e.Conflicts[i] = newConflict(c)
	}
	return e
}
