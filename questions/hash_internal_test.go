package questions

import (
	"context"
	"errors"
	"testing"

	"github.com/challengekit/challengekit/challenge"
)

// TestHashingWaitsForAFreeSlotAndGivesUpWithItsContext fills every slot:
// a further hash must not run, and must return when its context ends,
// as the store being unavailable is: nothing was changed.
func TestHashingWaitsForAFreeSlotAndGivesUpWithItsContext(t *testing.T) {
	h, err := NewHasher(Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	if err != nil {
		t.Fatal(err)
	}
	h.slots <- struct{}{}
	h.slots <- struct{}{} // every slot taken
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "dubai")
		done <- err
	}()
	cancel() // with every slot taken, Hash can only end by giving up

	// Overload, not a fault: the adapters answer 503, retry later.
	if err := <-done; !errors.Is(err, context.Canceled) || !errors.Is(err, challenge.ErrUnavailable) {
		t.Fatalf("Hash after its context ended: %v; want context.Canceled and challenge.ErrUnavailable", err)
	}
	h.release()
	if _, err := h.Hash(context.Background(), "dubai"); err != nil {
		t.Fatalf("Hash with a free slot: %v", err)
	}
}
