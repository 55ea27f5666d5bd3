package gitlab

import (
	"context"
	"errors"
	"sync"
)

// batches runs fn over items in chunks of size, as many at once as the
// client's concurrency allows. A chunk GitLab refuses as too complex is
// split in two and retried (the estimate in package schema can lag behind
// GitLab's own). The first error cancels the rest and is returned.
func batches[T any](ctx context.Context, c *Client, items []T, size int, fn func(ctx context.Context, batch []T) error) error {
	if size < 1 {
		size = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var run func(batch []T) error
	run = func(batch []T) error {
		err := fn(ctx, batch)
		if errors.Is(err, errTooComplex) && len(batch) > 1 {
			mid := len(batch) / 2
			if err := run(batch[:mid]); err != nil {
				return err
			}
			return run(batch[mid:])
		}
		return err
	}
	work := make(chan []T)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range cap(c.sem) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if err := run(b); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := 0; i < len(items); i += size {
		select {
		case work <- items[i:min(i+size, len(items))]:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
