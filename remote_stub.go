package strata

// STUB (issue 12, sync-xfer branch): the remotes API belongs to the
// tags/remotes engineer (remote.go). This minimal version exists only so
// that Clone and the CLI compile and can be tested on this branch; the
// lead drops this file at merge in favour of theirs, which follows the
// same convention: ref remote-urls/NAME → a raw contents object holding
// the URL's bytes.

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/internal/codec"
)

// remoteURLPrefix starts the ref naming each remote's URL object.
const remoteURLPrefix = "remote-urls/"

// Remote is a named remote store.
type Remote struct {
	Name string
	URL  string
}

// AddRemote records remote name with url (STUB; see the file comment).
func (kv *KV) AddRemote(ctx context.Context, name, url string) error {
	if err := kv.alive(); err != nil {
		return err
	}
	if err := validRemoteName(name); err != nil {
		return err
	}
	obj := contents.Object(contents.Raw([]byte(url)))
	if err := kv.store.Put(ctx, []backend.Object{obj}); err != nil {
		return fmt.Errorf("remote %q: %w", name, err)
	}
	if err := kv.store.CompareAndSwapRef(ctx, remoteURLPrefix+name, Hash{}, obj.Hash); err != nil {
		if errors.Is(err, ErrConflict) {
			return fmt.Errorf("remote %q: %w", name, ErrExists)
		}
		return fmt.Errorf("remote %q: %w", name, err)
	}
	return nil
}

// Remote returns remote name, or an error wrapping ErrNotFound (STUB).
func (kv *KV) Remote(ctx context.Context, name string) (Remote, error) {
	if err := kv.alive(); err != nil {
		return Remote{}, err
	}
	h, err := kv.store.GetRef(ctx, remoteURLPrefix+name)
	if err != nil {
		return Remote{}, fmt.Errorf("remote %q: %w", name, err)
	}
	data, err := codec.Read(ctx, kv.store, h)
	if err != nil {
		return Remote{}, fmt.Errorf("remote %q: %w", name, err)
	}
	c, err := contents.Decode(data)
	if err != nil {
		return Remote{}, fmt.Errorf("remote %q: %w", name, err)
	}
	return Remote{Name: name, URL: string(c.Data)}, nil
}
