package strata_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/stratakv/strata"
)

func ExampleKV_Tag() {
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	for _, v := range []string{"1.0", "1.1"} {
		if _, err := main.Set(ctx, "version", []byte(v)); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := kv.Tag(ctx, "v1.0", "main~1"); err != nil {
		log.Fatal(err)
	}
	snap, _ := kv.At(ctx, "v1.0") // a tag is a revision
	v, _ := snap.Get(ctx, "version")
	fmt.Printf("v1.0: %s\n", v)

	_, err = kv.Tag(ctx, "v1.0", "main") // tags do not move...
	fmt.Println("moved:", !errors.Is(err, strata.ErrConflict))
	if _, err := kv.Tag(ctx, "v1.0", "main", strata.Force()); err != nil { // ...unless forced
		log.Fatal(err)
	}
	snap, _ = kv.At(ctx, "v1.0")
	v, _ = snap.Get(ctx, "version")
	fmt.Printf("v1.0: %s\n", v)
	// Output:
	// v1.0: 1.0
	// moved: false
	// v1.0: 1.1
}

func ExampleKV_AddRemote() {
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer kv.Close()
	if err := kv.AddRemote(ctx, "origin", "redis://ops:s3cret@db.example:6379/0"); err != nil {
		log.Fatal(err)
	}
	remotes, _ := kv.Remotes(ctx)
	for _, r := range remotes {
		fmt.Println(r.Name, strata.RedactURL(r.URL)) // the URL holds a password
	}
	// Output:
	// origin redis://ops:xxxxx@db.example:6379/0
}
