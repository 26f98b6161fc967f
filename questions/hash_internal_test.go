package questions

import (
	"context"
	"errors"
	"testing"
)

// TestHashingWaitsForAFreeSlotAndGivesUpWithItsContext fills every slot:
// a further hash must not run, and must return when its context ends.
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

	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash after its context ended: %v; want context.Canceled", err)
	}
	h.release()
	if _, err := h.Hash(context.Background(), "dubai"); err != nil {
		t.Fatalf("Hash with a free slot: %v", err)
	}
}
