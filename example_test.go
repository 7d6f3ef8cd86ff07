package strata_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/stratakv/strata"
)

func Example() {
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer kv.Close()

	main := kv.Branch("main")
	if _, err := main.Set(ctx, "config/db/host", []byte("db1"), strata.Message("point at db1"), strata.Author("ops")); err != nil {
		log.Fatal(err)
	}
	if _, err := main.Set(ctx, "config/db/host", []byte("db2"), strata.Message("fail over")); err != nil {
		log.Fatal(err)
	}
	v, _ := main.Get(ctx, "config/db/host")
	fmt.Printf("now: %s\n", v)

	old, _ := kv.At(ctx, "main~1")
	v, _ = old.Get(ctx, "config/db/host")
	fmt.Printf("before: %s\n", v)

	changes, _ := kv.Diff(ctx, "main~1", "main")
	for _, c := range changes {
		fmt.Printf("%s %s: %s -> %s\n", c.Op, c.Path, c.Old, c.New)
	}
	// Output:
	// now: db2
	// before: db1
	// modify config/db/host: db1 -> db2
}

func ExampleBranch_Update() {
	ctx := context.Background()
	kv, _ := strata.Open(ctx, "mem://")
	defer kv.Close()
	main := kv.Branch("main")

	// Several changes, one commit.
	_, err := main.Update(ctx, func(tx *strata.Tx) error {
		tx.Set("app/name", []byte("shop"))
		tx.Set("app/replicas", []byte("3"))
		return nil
	}, strata.Message("configure app"))
	if err != nil {
		log.Fatal(err)
	}
	entries, _ := main.List(ctx, "app")
	for _, e := range entries {
		fmt.Println(e.Name)
	}
	log, _ := kv.Log(ctx, "main", 0)
	fmt.Println(len(log), "commit:", log[0].Message)
	// Output:
	// name
	// replicas
	// 1 commit: configure app
}

func ExampleKV_CreateBranch() {
	ctx := context.Background()
	kv, _ := strata.Open(ctx, "mem://")
	defer kv.Close()
	kv.Branch("main").Set(ctx, "flags/beta", []byte("off"))

	if err := kv.CreateBranch(ctx, "experiment", "main"); err != nil {
		log.Fatal(err)
	}
	kv.Branch("experiment").Set(ctx, "flags/beta", []byte("on"))

	onMain, _ := kv.Branch("main").Get(ctx, "flags/beta")
	onExp, _ := kv.Branch("experiment").Get(ctx, "flags/beta")
	fmt.Printf("main: %s, experiment: %s\n", onMain, onExp)

	err := kv.CreateBranch(ctx, "experiment", "main")
	fmt.Println("again:", errors.Is(err, strata.ErrExists))
	// Output:
	// main: off, experiment: on
	// again: true
}

func ExampleBranch_Get_notFound() {
	ctx := context.Background()
	kv, _ := strata.Open(ctx, "mem://")
	defer kv.Close()
	_, err := kv.Branch("main").Get(ctx, "missing")
	fmt.Println(errors.Is(err, strata.ErrNotFound))
	// Output: true
}

func ExampleTime() {
	// A fixed time makes a commit's hash reproducible across stores.
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 2; i++ {
		kv, _ := strata.Open(ctx, "mem://")
		h, _ := kv.Branch("main").Set(ctx, "k", []byte("v"), strata.Time(at), strata.Author("ci"), strata.Message("pin"))
		fmt.Println(h.Short())
		kv.Close()
	}
	// Output:
	// 3fe749667046
	// 3fe749667046
}
