package challenge

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
	"unsafe"
)

// DefaultRetention is how long a [MemoryStore] keeps an expired record
// readable when [MemoryOptions.Retention] is zero: long enough for a client
// that comes back late to be told "expired" rather than "not found".
const DefaultRetention = time.Hour

const (
	memShards = 64 // a power of two
	// memSweepBatch is how many expiry-index entries each write examines.
	// More than one per write keeps reclaiming ahead of inserting.
	memSweepBatch = 4
)

// MemoryOptions configures a [MemoryStore]. The zero value is ready to use.
type MemoryOptions struct {
	// Clock judges expiry and retention. Nil means the system clock.
	Clock Clock
	// Retention is how long a record stays readable after its ExpiresAt.
	// Zero means DefaultRetention; negative is an error.
	Retention time.Duration
}

// MemoryStore is the in-process [Store]: the embedded default and the
// reference implementation of the Store contract. It is safe for concurrent
// use. Records are spread over independently locked shards, so concurrent
// requests on different challenges do not contend on one lock.
//
// The records it holds cost the garbage collector nothing: a shard keeps
// each record's fields in a fixed-size slot of a pointer-free slice, its
// kind, ID, state, subject and Data in a cell of a few large byte chunks,
// and finds it through a map from a hash of its key to its slot (records
// whose keys share a hash are chained and told apart by their bytes). The
// collector's work per cycle does not grow with the number of records.
//
// Records past their retention window are invisible at once and are
// reclaimed a few at a time by later writes to the same shard, or all at
// once by [MemoryStore.Sweep]; the work is proportional to the number of
// expired records, never to the number of live ones.
type MemoryStore struct {
	clock     Clock
	retention int64 // microseconds
	seed      maphash.Seed
	shards    [memShards]memShard
	views     sync.Pool // of *Record, lent to View's functions
}

var (
	_ Store        = (*MemoryStore)(nil)
	_ Viewer       = (*MemoryStore)(nil)
	_ ChangeViewer = (*MemoryStore)(nil)
)

// memSlot is a record as the memory store keeps it, without a pointer:
// times as Unix microseconds (the contract's precision; the zero time fits
// too), and the lengths of what its cell holds, in this order: kind, ID,
// state, subject, Data.
type memSlot struct {
	hash     uint64
	version  uint64 // 0: the slot is free
	stamp    uint64 // the write's (memShard.stamp)
	attempts int64
	created  int64
	updated  int64
	expires  int64 // zeroMicros: never
	cell     uint32
	next     uint32 // the next slot whose key has the same hash, or noSlot
	kindLen  uint32
	idLen    uint32
	stateLen uint32
	subjLen  uint32
	dataLen  uint32
	class    uint8 // the cell's class
}

const noSlot = ^uint32(0)

var zeroMicros = time.Time{}.UnixMicro()

type memShard struct {
	mu        sync.RWMutex
	index     map[uint64]uint32 // key hash -> the first slot with it
	slots     []memSlot
	freeSlots []uint32
	arena     memArena
	expiry    expiryWheel
	// lastStamp is the stamp of the shard's last write. Shard i stamps
	// i+memShards, i+2*memShards, …: no two writes of the store share one,
	// and none is 0.
	lastStamp uint64
}

// stamp returns a new write's stamp. The caller holds sh.mu for writing.
func (sh *memShard) stamp() uint64 {
	sh.lastStamp += memShards
	return sh.lastStamp
}

// NewMemoryStore returns an empty MemoryStore, or an error if opts are
// invalid.
func NewMemoryStore(opts MemoryOptions) (*MemoryStore, error) {
	if opts.Retention < 0 {
		return nil, fmt.Errorf("challenge: memory store: negative retention %v", opts.Retention)
	}
	if opts.Retention == 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	s := &MemoryStore{
		clock:     opts.Clock,
		retention: opts.Retention.Microseconds(),
		seed:      maphash.MakeSeed(),
	}
	s.views.New = func() any { return new(Record) }
	for i := range s.shards {
		s.shards[i].index = make(map[uint64]uint32)
		s.shards[i].expiry.buckets = make(map[int64][]uint32)
		s.shards[i].lastStamp = uint64(i)
	}
	return s, nil
}

// hash returns the hash of a key, and the shard it lives in.
func (s *MemoryStore) hash(kind, id string) (uint64, *memShard) {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(kind)
	h.WriteByte(0)
	h.WriteString(id)
	sum := h.Sum64()
	return sum, &s.shards[sum>>58&(memShards-1)]
}

// purgeAt is when the record stops being visible, or false if never.
func (s *MemoryStore) purgeAt(e *memSlot) (int64, bool) {
	if e.expires == zeroMicros {
		return 0, false
	}
	return e.expires + s.retention, true
}

func (s *MemoryStore) visible(e *memSlot, now int64) bool {
	at, ok := s.purgeAt(e)
	return !ok || now < at
}

// Create implements [Store.Create].
func (s *MemoryStore) Create(ctx context.Context, rec *Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("challenge: memory store: create: %w", err)
	}
	if rec.Kind == "" || rec.ID == "" {
		return fmt.Errorf("challenge: memory store: create: %w: empty kind or id", ErrInvalidRecord)
	}
	h, sh := s.hash(rec.Kind, rec.ID)
	now := s.clock.Now().UnixMicro()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i := sh.find(h, rec.Kind, rec.ID); i != noSlot {
		if s.visible(&sh.slots[i], now) {
			return fmt.Errorf("challenge: memory store: create %s/%s: %w", rec.Kind, rec.ID, ErrAlreadyExists)
		}
		sh.remove(i)
	}
	i := sh.insert(h, rec, sh.stamp())
	if at, ok := s.purgeAt(&sh.slots[i]); ok {
		sh.expiry.add(at, i)
	}
	s.sweepLocked(sh, now, memSweepBatch)
	rec.Version = 1
	return nil
}

// Get implements [Store.Get].
func (s *MemoryStore) Get(ctx context.Context, kind, id string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("challenge: memory store: get: %w", err)
	}
	h, sh := s.hash(kind, id)
	now := s.clock.Now().UnixMicro()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i := sh.find(h, kind, id)
	if i == noSlot || !s.visible(&sh.slots[i], now) {
		return nil, notFound("get", kind, id)
	}
	e := &sh.slots[i]
	rec := &Record{Kind: kind, ID: id}
	e.fields(rec)
	// State, Subject and Data share one allocation: Data is last, so that
	// appending to it cannot reach the strings.
	b := sh.arena.bytes(e.class, e.cell, e.size())[e.kindLen+e.idLen:]
	if len(b) > 0 {
		b = append(make([]byte, 0, len(b)), b...)
	}
	rec.State = State(unsafe.String(unsafe.SliceData(b), e.stateLen))
	rec.Subject = unsafe.String(unsafe.SliceData(b[e.stateLen:]), e.subjLen)
	if e.dataLen > 0 {
		rec.Data = b[e.stateLen+e.subjLen:]
	}
	return rec, nil
}

// View implements [Viewer]. fn runs under the shard's read lock, so it
// must not call the store; rec.Data is the store's own bytes, and rec is
// lent for the call.
func (s *MemoryStore) View(ctx context.Context, kind, id string, fn func(rec *Record) error) error {
	_, err := s.view(ctx, kind, id, 0, fn)
	return err
}

// ViewChanged implements [ChangeViewer], as View does. A stamp is the
// eight bytes of a number each shard counts its writes with.
func (s *MemoryStore) ViewChanged(ctx context.Context, kind, id, seen string, fn func(rec *Record) error) (string, error) {
	var n uint64 // 0: none seen; no write has it
	if len(seen) == 8 {
		n = binary.BigEndian.Uint64([]byte(seen))
	}
	stamp, err := s.view(ctx, kind, id, n, fn)
	if stamp == 0 {
		return "", err
	}
	if stamp == n {
		return seen, err
	}
	return string(binary.BigEndian.AppendUint64(make([]byte, 0, 8), stamp)), err
}

// view is View and ViewChanged: it lends the record to fn unless its
// stamp is seen, and returns its stamp (0 with an error of its own).
func (s *MemoryStore) view(ctx context.Context, kind, id string, seen uint64, fn func(rec *Record) error) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("challenge: memory store: view: %w", err)
	}
	h, sh := s.hash(kind, id)
	now := s.clock.Now().UnixMicro()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i := sh.find(h, kind, id)
	if i == noSlot || !s.visible(&sh.slots[i], now) {
		return 0, notFound("view", kind, id)
	}
	e := &sh.slots[i]
	if e.stamp == seen {
		return seen, nil
	}
	rec := s.views.Get().(*Record)
	defer func() {
		*rec = Record{}
		s.views.Put(rec)
	}()
	*rec = Record{Kind: kind, ID: id}
	e.fields(rec)
	b := sh.arena.bytes(e.class, e.cell, e.size())[e.kindLen+e.idLen:]
	strs := string(b[:e.stateLen+e.subjLen]) // kept by the caller if it likes: its own
	rec.State, rec.Subject = State(strs[:e.stateLen]), strs[e.stateLen:]
	if e.dataLen > 0 {
		rec.Data = b[e.stateLen+e.subjLen:]
	}
	return e.stamp, fn(rec)
}

// Update implements [Store.Update].
func (s *MemoryStore) Update(ctx context.Context, rec *Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("challenge: memory store: update: %w", err)
	}
	h, sh := s.hash(rec.Kind, rec.ID)
	now := s.clock.Now().UnixMicro()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(h, rec.Kind, rec.ID)
	if i == noSlot || !s.visible(&sh.slots[i], now) {
		return notFound("update", rec.Kind, rec.ID)
	}
	e := &sh.slots[i]
	if e.version != rec.Version {
		return fmt.Errorf("challenge: memory store: update %s/%s: %w", rec.Kind, rec.ID, ErrConflict)
	}
	oldPurge, hadPurge := s.purgeAt(e)
	sh.write(e, rec, sh.stamp())
	e.version++
	if at, ok := s.purgeAt(e); ok && (!hadPurge || expiryBucket(at) != expiryBucket(oldPurge)) {
		sh.expiry.add(at, i)
	}
	rec.Version = e.version
	s.sweepLocked(sh, now, memSweepBatch)
	return nil
}

// Delete implements [Store.Delete].
func (s *MemoryStore) Delete(ctx context.Context, kind, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("challenge: memory store: delete: %w", err)
	}
	h, sh := s.hash(kind, id)
	now := s.clock.Now().UnixMicro()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(h, kind, id)
	if i == noSlot || !s.visible(&sh.slots[i], now) {
		return notFound("delete", kind, id)
	}
	// The expiry index may still name the slot; the sweeper skips slots
	// whose records are visible or gone.
	sh.remove(i)
	return nil
}

// Sweep reclaims every record whose retention window has passed and returns
// how many it removed. Calling it is optional: writes reclaim a few expired
// records each, and expired records are invisible either way. Its cost is
// proportional to the number of expired records.
func (s *MemoryStore) Sweep() int {
	now := s.clock.Now().UnixMicro()
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += s.sweepLocked(sh, now, -1)
		sh.mu.Unlock()
	}
	return n
}

// Len returns how many records the store holds, including expired ones that
// have not been reclaimed yet.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.slots) - len(sh.freeSlots)
		sh.mu.RUnlock()
	}
	return n
}

// sweepLocked examines up to limit index entries (all due ones if limit < 0)
// and removes the records among them that are past retention.
func (s *MemoryStore) sweepLocked(sh *memShard, now int64, limit int) int {
	removed := 0
	sh.expiry.popDue(now, limit, func(i uint32) {
		if e := &sh.slots[i]; e.version != 0 && !s.visible(e, now) {
			sh.remove(i)
			removed++
		}
	})
	return removed
}

// find returns the slot of the record with this key, or noSlot.
func (sh *memShard) find(h uint64, kind, id string) uint32 {
	i, ok := sh.index[h]
	if !ok {
		return noSlot
	}
	for ; i != noSlot; i = sh.slots[i].next {
		e := &sh.slots[i]
		if int(e.kindLen) != len(kind) || int(e.idLen) != len(id) {
			continue
		}
		b := sh.arena.bytes(e.class, e.cell, int(e.kindLen+e.idLen))
		if string(b[:e.kindLen]) == kind && string(b[e.kindLen:]) == id {
			return i
		}
	}
	return noSlot
}

// insert stores rec as a new record, version 1, and returns its slot.
func (sh *memShard) insert(h uint64, rec *Record, stamp uint64) uint32 {
	var i uint32
	if k := len(sh.freeSlots); k > 0 {
		i = sh.freeSlots[k-1]
		sh.freeSlots = sh.freeSlots[:k-1]
	} else {
		sh.slots = append(sh.slots, memSlot{})
		i = uint32(len(sh.slots) - 1)
	}
	e := &sh.slots[i]
	*e = memSlot{hash: h, version: 1, next: noSlot, class: memHugeClass + 1}
	sh.write(e, rec, stamp)
	if first, ok := sh.index[h]; ok {
		e.next = first
	}
	sh.index[h] = i
	return i
}

// write stores rec's fields (all but Version) and the write's stamp in
// e, and rec's bytes in e's cell, or in a new cell if they no longer fit.
func (sh *memShard) write(e *memSlot, rec *Record, stamp uint64) {
	size := len(rec.Kind) + len(rec.ID) + len(rec.State) + len(rec.Subject) + len(rec.Data)
	class := memCellClass(size)
	if class != e.class || class == memHugeClass {
		if e.class <= memHugeClass {
			sh.arena.free(e.class, e.cell)
		}
		e.class, e.cell = class, sh.arena.alloc(class, size)
	}
	e.kindLen, e.idLen = uint32(len(rec.Kind)), uint32(len(rec.ID))
	e.stateLen, e.subjLen, e.dataLen = uint32(len(rec.State)), uint32(len(rec.Subject)), uint32(len(rec.Data))
	b := sh.arena.bytes(e.class, e.cell, size)[:0]
	b = append(b, rec.Kind...)
	b = append(b, rec.ID...)
	b = append(b, rec.State...)
	b = append(b, rec.Subject...)
	_ = append(b, rec.Data...)
	e.attempts = int64(rec.Attempts)
	e.created = rec.CreatedAt.UnixMicro()
	e.updated = rec.UpdatedAt.UnixMicro()
	e.expires = rec.ExpiresAt.UnixMicro()
	e.stamp = stamp
}

// remove frees slot i and its cell.
func (sh *memShard) remove(i uint32) {
	e := &sh.slots[i]
	if first := sh.index[e.hash]; first == i {
		if e.next == noSlot {
			delete(sh.index, e.hash)
		} else {
			sh.index[e.hash] = e.next
		}
	} else {
		prev := first
		for sh.slots[prev].next != i {
			prev = sh.slots[prev].next
		}
		sh.slots[prev].next = e.next
	}
	sh.arena.free(e.class, e.cell)
	*e = memSlot{}
	sh.freeSlots = append(sh.freeSlots, i)
}

// size is how many bytes e's cell holds.
func (e *memSlot) size() int {
	return int(e.kindLen + e.idLen + e.stateLen + e.subjLen + e.dataLen)
}

// fields sets rec's Version, Attempts and times from e.
func (e *memSlot) fields(rec *Record) {
	rec.Version = e.version
	rec.Attempts = int(e.attempts)
	rec.CreatedAt = time.UnixMicro(e.created).UTC()
	rec.UpdatedAt = time.UnixMicro(e.updated).UTC()
	rec.ExpiresAt = time.UnixMicro(e.expires).UTC()
}

func notFound(op, kind, id string) error {
	return &memNotFound{op: op, kind: kind, id: id}
}

// memNotFound is the memory store's ErrNotFound, naming the record. It
// is worded only when read: a miss is common on a hot path (the first
// TOTP step a user passes, a record about to be created), and its words
// are rarely read, so it costs one allocation instead of a formatting.
type memNotFound struct{ op, kind, id string }

func (e *memNotFound) Error() string {
	return "challenge: memory store: " + e.op + " " + e.kind + "/" + e.id + ": " + ErrNotFound.Error()
}

func (e *memNotFound) Unwrap() error { return ErrNotFound }

// Ping implements [Pinger]: the memory store always answers.
func (s *MemoryStore) Ping(ctx context.Context) error { return ctx.Err() }
