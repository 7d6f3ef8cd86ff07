package bench

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend/redis"
)

// StrataRedis makes strata targets on the Redis server at addr (backend
// redis, prefix "bench"). Each new target empties the server (FLUSHALL):
// give it a server the benchmark started, never a shared one.
func StrataRedis(addr string) Factory {
	return Factory{Name: "strata-redis", New: func(ctx context.Context) (Target, error) {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		err := c.FlushAll(ctx).Err()
		_ = c.Close()
		if err != nil {
			return nil, fmt.Errorf("redis %s: %w", addr, err)
		}
		s, err := redis.Open(ctx, "redis://"+addr+"/0?prefix=bench")
		if err != nil {
			return nil, err
		}
		return NewStrataBackend(s, false, nil), nil
	}}
}
