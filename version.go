package strata

import "github.com/stratakv/strata/internal/codec"

// FormatVersion is the version of the object encoding (docs/FORMAT.md) that
// this build writes and reads. An object of another version is ErrCorrupt.
const FormatVersion = codec.FormatVersion
