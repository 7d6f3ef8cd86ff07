package strata_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/stratakv/strata"
)

// Two branches change different members of one JSON document and the same
// raw value: the merge combines the members and reports the raw value,
// writing nothing until the conflict is settled.
func ExampleKV_Merge() {
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	main.SetValue(ctx, "svc/web", strata.JSON([]byte(`{"image": "web:1.4", "replicas": 2}`)))
	main.Set(ctx, "config/db/host", []byte("db1"))
	kv.CreateBranch(ctx, "feature", "main")
	feature := kv.Branch("feature")
	feature.SetValue(ctx, "svc/web", strata.JSON([]byte(`{"image": "web:1.5", "replicas": 2}`)))
	feature.Set(ctx, "config/db/host", []byte("db2"))
	main.SetValue(ctx, "svc/web", strata.JSON([]byte(`{"image": "web:1.4", "replicas": 4}`)))
	main.Set(ctx, "config/db/host", []byte("db3"))

	_, err = kv.Merge(ctx, "feature", "main")
	var mce *strata.MergeConflictError
	if errors.As(err, &mce) {
		for _, c := range mce.Conflicts {
			fmt.Printf("conflict at %s: ours %s, theirs %s\n", c.Path, c.Ours.Data, c.Theirs.Data)
		}
	}
	if _, err := kv.Merge(ctx, "feature", "main", strata.Prefer(strata.Theirs)); err != nil {
		log.Fatal(err)
	}
	web, _ := main.Get(ctx, "svc/web")
	host, _ := main.Get(ctx, "config/db/host")
	fmt.Printf("%s %s\n", web, host)
	// Output:
	// conflict at config/db/host: ours db3, theirs db2
	// {"image":"web:1.5","replicas":4} db2
}

// Counters merge by adding up both sides' changes, so increments made at
// once by many writers, or on two branches, are never lost.
func ExampleBranch_Add() {
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	main.Add(ctx, "stats/deploys", 41)
	kv.CreateBranch(ctx, "feature", "main")
	kv.Branch("feature").Add(ctx, "stats/deploys", 1)
	main.Add(ctx, "stats/deploys", 1)
	kv.Merge(ctx, "feature", "main")
	v, _ := main.GetValue(ctx, "stats/deploys")
	n, _ := v.Int()
	fmt.Println(v.Kind, n)
	// Output:
	// counter 43
}
