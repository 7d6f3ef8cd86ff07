package strata

// ForceOption is the option Force returns. One Force serves every
// operation that by default refuses to move a ref it would otherwise
// overwrite: Tag (move an existing tag) and Push (a non-fast-forward
// push).
type ForceOption struct{}

// Force makes Tag move a tag that exists and points at another commit,
// instead of failing with ErrConflict, and lets Push move the remote
// branch to a commit that does not descend from its head (a
// non-fast-forward push), discarding the remote commits the local branch
// lacks.
func Force() ForceOption { return ForceOption{} }

func (ForceOption) applyTag(o *tagOptions)   { o.force = true }
func (ForceOption) applySync(o *syncOptions) { o.force = true }
