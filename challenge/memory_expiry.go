package challenge

import "container/heap"

// expiryBucketWidth groups purge times into one-second buckets: sweeping
// walks whole buckets, so its cost follows the number of expired records,
// not the number of live ones (a heap over every record would cost
// log(live) per record).
const expiryBucketWidth = 1_000_000 // microseconds

// expiryBucket is the bucket whose sweep is due once every purge time in it
// has passed (the ceiling of at / width).
func expiryBucket(at int64) int64 {
	b := at / expiryBucketWidth
	if at%expiryBucketWidth > 0 {
		b++
	}
	return b
}

// expiryWheel indexes a shard's slots by the second their records'
// retention ends. A slot may sit in several buckets after its record's
// expiry moved, or after the record was deleted and the slot reused;
// whoever pops it checks whether the record in it is past retention. Its
// entries are slot numbers, so the collector has nothing to follow in
// them.
type expiryWheel struct {
	buckets map[int64][]uint32
	due     bucketHeap // the keys of buckets, earliest first
}

func (w *expiryWheel) add(purgeAt int64, slot uint32) {
	b := expiryBucket(purgeAt)
	list, ok := w.buckets[b]
	if !ok {
		heap.Push(&w.due, b)
	}
	w.buckets[b] = append(list, slot)
}

// popDue hands each slot of every bucket due at now to fn, examining at
// most limit entries (no limit if limit < 0).
func (w *expiryWheel) popDue(now int64, limit int, fn func(slot uint32)) {
	for limit != 0 && len(w.due) > 0 {
		b := w.due[0]
		if b*expiryBucketWidth > now {
			return
		}
		list := w.buckets[b]
		for len(list) > 0 && limit != 0 {
			last := len(list) - 1
			slot := list[last]
			list = list[:last]
			limit--
			fn(slot)
		}
		if len(list) > 0 {
			w.buckets[b] = list
			return
		}
		delete(w.buckets, b)
		heap.Pop(&w.due)
	}
}

type bucketHeap []int64

func (h bucketHeap) Len() int           { return len(h) }
func (h bucketHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h bucketHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *bucketHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *bucketHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
