package strata

// ForceOption is the option Force returns. It lets Tag move an existing
// tag, and is meant to be reused by every operation that refuses by
// default to move a ref it would otherwise overwrite (Push adds its own
// method here, so one Force() serves both).
type ForceOption struct{}

// Force makes Tag move a tag that exists and points at another commit,
// instead of failing with ErrConflict.
func Force() ForceOption { return ForceOption{} }

func (ForceOption) applyTag(o *tagOptions) { o.force = true }
