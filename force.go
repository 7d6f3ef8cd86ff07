package strata

// ForceOption is Force's option. (Issue 12: the tags engineer may define
// Force in this file too; keep one definition and give it every method.)
type ForceOption struct{}

// Force lets Push move the remote branch to a commit that does not
// descend from its head (a non-fast-forward push), discarding the remote
// commits the local branch lacks.
func Force() ForceOption { return ForceOption{} }

func (ForceOption) applySync(o *syncOptions) { o.force = true }
