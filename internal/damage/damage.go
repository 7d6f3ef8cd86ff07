// Package damage damages stores on purpose, for tests of how strata copes
// with a disk or a server that lost or mangled data. Nothing outside tests
// should import it.
package damage

import (
	"fmt"

	pdb "github.com/cockroachdb/pebble/v2"
)

// PebbleRef overwrites ref name of the closed on-disk store in dir with
// value, as a damaged disk might, bypassing every check of backend/pebble.
// It relies on that package's key layout: a ref is stored under 'r'
// followed by its name.
func PebbleRef(dir, name string, value []byte) error {
	db, err := pdb.Open(dir, &pdb.Options{Logger: quiet{}})
	if err != nil {
		return fmt.Errorf("damage: open %s: %w", dir, err)
	}
	if err := db.Set(append([]byte{'r'}, name...), value, pdb.Sync); err != nil {
		_ = db.Close()
		return fmt.Errorf("damage: %s: set ref %q: %w", dir, name, err)
	}
	return db.Close()
}

// quiet discards Pebble's log lines; a fatal report panics, which fails
// the test that called PebbleRef.
type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
