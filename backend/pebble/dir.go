package pebble

import (
	"errors"
	"fmt"
	"os"
	"regexp"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/stratakv/strata/backend"
)

// ErrNotStore is wrapped by the error Open returns for a directory that
// holds files but no strata store (nor a damaged one). Open leaves such a
// directory exactly as it was.
var ErrNotStore = errors.New("not a strata store")

// dirState is what Open finds in a store directory before it touches it.
type dirState int

const (
	dirMissing dirState = iota // no directory, or an empty one: a store may be created
	dirStore                   // a Pebble database (its manifest marker is present)
	dirDamaged                 // Pebble's data files without a current manifest
	dirForeign                 // other files: not a store
)

// pebbleData matches the names of the files that hold a Pebble database's
// data: tables, write-ahead logs, blob files and OPTIONS files.
var pebbleData = regexp.MustCompile(`^([0-9]+\.(sst|log|blob)|OPTIONS-[0-9]+)$`)

// inspect classifies dir without writing anything. What a creation that
// was interrupted before its manifest became current leaves behind counts
// as empty (see interrupted).
func inspect(fs vfs.FS, dir string) (dirState, error) {
	names, err := fs.List(dir)
	if errors.Is(err, os.ErrNotExist) {
		return dirMissing, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pebble: open %s: %w", dir, err)
	}
	if len(names) == 0 {
		return dirMissing, nil
	}
	desc, err := pdb.Peek(dir, fs)
	if errors.Is(err, os.ErrPermission) {
		return 0, fmt.Errorf("pebble: open %s: %w", dir, err)
	}
	if err != nil {
		return 0, fmt.Errorf("pebble: open %s: %w: %v", dir, backend.ErrCorrupt, err)
	}
	if desc.Exists {
		return dirStore, nil
	}
	if interrupted(fs, dir, names) {
		return dirMissing, nil
	}
	for _, n := range names {
		if pebbleData.MatchString(n) {
			return dirDamaged, nil
		}
	}
	return dirForeign, nil
}

// damaged is the error for a directory in state dirDamaged.
func damaged(dir string) error {
	return fmt.Errorf("pebble: open %s: %w: the store's data files are there but its MANIFEST is missing; run 'strata fsck' or restore a backup (nothing was changed)", dir, backend.ErrCorrupt)
}

// foreign is the error for a directory in state dirForeign.
func foreign(dir string) error {
	return fmt.Errorf("pebble: open %s: %w: the directory holds other files; strata creates a store only in an empty or missing directory (nothing was changed)", dir, ErrNotStore)
}

// pebbleCreating matches the names of the files Pebble writes while it
// creates a database, before the first MANIFEST becomes current.
var pebbleCreating = regexp.MustCompile(`^(MANIFEST-[0-9]+|marker\..*)$`)

// interrupted reports whether names, the files in dir, are what a
// creation killed before it finished leaves: Pebble's empty LOCK file and
// nothing else but MANIFEST and marker files (and so no data). Pebble
// itself starts such a creation over.
func interrupted(fs vfs.FS, dir string, names []string) bool {
	lock := false
	for _, n := range names {
		switch {
		case n == "LOCK":
			fi, err := fs.Stat(fs.PathJoin(dir, n))
			if err != nil || fi.Size() != 0 || !fi.Mode().IsRegular() {
				return false
			}
			lock = true
		case !pebbleCreating.MatchString(n):
			return false
		}
	}
	return lock
}
