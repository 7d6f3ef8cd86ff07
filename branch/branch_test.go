package branch_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/branch"
)

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"main", "feature/x", "v1.2", "a_b-c", "ünï", "日本", "x/y/z", "a.b"} {
		if err := branch.ValidateName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "/x", "x/", "a..b", "a//b", "a b", "a~1", "a^", "a:b", "a\x00", "a*", strings.Repeat("x", 256)} {
		if err := branch.ValidateName(bad); !errors.Is(err, branch.ErrInvalidBranch) {
			t.Errorf("%q: %v, want ErrInvalidBranch", bad, err)
		}
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	s := branch.New(mem.New())
	a, b := backend.Hash{1}, backend.Hash{2}
	if _, err := s.Head(ctx, "main"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("head of a missing branch: %v", err)
	}
	if err := s.Create(ctx, "main", a); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "main", b); !errors.Is(err, backend.ErrExists) {
		t.Fatalf("create twice: %v", err)
	}
	if err := s.CompareAndSwap(ctx, "main", b, a); !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("CAS from the wrong head: %v", err)
	}
	if err := s.CompareAndSwap(ctx, "main", a, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "dev", a); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]branch.Branch{{Name: "dev", Head: a}, {Name: "main", Head: b}}, list); diff != "" {
		t.Error(diff)
	}
	if err := s.Delete(ctx, "dev"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "dev"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if err := s.Create(ctx, "bad..name", a); !errors.Is(err, branch.ErrInvalidBranch) {
		t.Fatalf("bad name: %v", err)
	}
}
