package challenge

import (
	"bytes"
	"context"
	"testing"
)

// Keys whose hashes collide share an index entry and are told apart by
// their bytes; removing one leaves the others findable.
func TestMemoryShardKeepsKeysWhoseHashesCollide(t *testing.T) {
	var sh memShard
	sh.index = make(map[uint64]uint32)
	const h = 42
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		sh.insert(h, &Record{Kind: "k", ID: id, State: "s", Data: []byte("data of " + id)}, 1)
	}
	if got := len(sh.index); got != 1 {
		t.Fatalf("index has %d entries for one hash, want 1", got)
	}
	for _, id := range ids {
		if sh.find(h, "k", id) == noSlot {
			t.Fatalf("find(%s) = noSlot", id)
		}
	}
	if sh.find(h, "k", "d") != noSlot || sh.find(h, "other", "a") != noSlot {
		t.Fatal("find matched a key that was never inserted")
	}
	sh.remove(sh.find(h, "k", "b")) // the middle of the chain
	if sh.find(h, "k", "b") != noSlot {
		t.Fatal("b still found after remove")
	}
	for _, id := range []string{"a", "c"} {
		i := sh.find(h, "k", id)
		if i == noSlot {
			t.Fatalf("%s lost when b was removed", id)
		}
		e := &sh.slots[i]
		if got := sh.arena.bytes(e.class, e.cell, e.size())[e.kindLen+e.idLen+e.stateLen:]; string(got) != "data of "+id {
			t.Fatalf("%s holds %q", id, got)
		}
	}
	sh.remove(sh.find(h, "k", "c"))
	sh.remove(sh.find(h, "k", "a"))
	if len(sh.index) != 0 {
		t.Fatalf("index keeps %d entries after every key was removed", len(sh.index))
	}
}

// A record's bytes move between cell classes, and to and from a blob of
// its own, as its Data grows and shrinks; a freed cell serves the next
// record of its size.
func TestMemoryStoreDataChangesSize(t *testing.T) {
	s, err := NewMemoryStore(MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := &Record{Kind: "k", ID: "id", State: "s"}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 100, 5000, 70_000, 80_000, 10, 0, 300} {
		rec.Data = bytes.Repeat([]byte{byte(n)}, n)
		if err := s.Update(ctx, rec); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "k", "id")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Data, rec.Data) || got.State != "s" || got.Version != rec.Version {
			t.Fatalf("after storing %d bytes: Get = %d bytes, state %q, version %d", n, len(got.Data), got.State, got.Version)
		}
	}
	var cells int
	for i := range s.shards {
		a := &s.shards[i].arena
		for c := range a.classes {
			cells += int(a.classes[c].next) - len(a.classes[c].free)
		}
		cells += len(a.huge) - len(a.hugeFree)
	}
	if cells != 1 {
		t.Fatalf("%d cells in use for one record", cells)
	}
}

func TestMemoryCellClassesFitTheirBlobs(t *testing.T) {
	for n := 1; n <= int(memCellSizes[len(memCellSizes)-1]); n++ {
		c := memCellClass(n)
		size := int(memCellSizes[c])
		if size < n || (c > 0 && int(memCellSizes[c-1]) >= n) || (n > 16 && size-n > size/5) {
			t.Fatalf("a blob of %d bytes goes in class %d of %d bytes", n, c, size)
		}
	}
	if memCellClass(int(memCellSizes[len(memCellSizes)-1])+1) != memHugeClass {
		t.Fatal("a blob bigger than every cell is not huge")
	}
}
