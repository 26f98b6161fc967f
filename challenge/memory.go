package challenge

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
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
// Records past their retention window are invisible at once and are
// reclaimed a few at a time by later writes to the same shard, or all at
// once by [MemoryStore.Sweep]; the work is proportional to the number of
// expired records, never to the number of live ones.
type MemoryStore struct {
	clock     Clock
	retention int64 // microseconds
	seed      maphash.Seed
	shards    [memShards]memShard
}

var _ Store = (*MemoryStore)(nil)

type memKey struct{ kind, id string }

// memEntry is a record as the memory store keeps it: compact, with times as
// Unix microseconds (the contract's precision; the zero time fits too).
type memEntry struct {
	key      memKey
	state    State
	subject  string
	data     []byte
	version  uint64
	attempts int
	created  int64
	updated  int64
	expires  int64 // zeroMicros: never
}

var zeroMicros = time.Time{}.UnixMicro()

type memShard struct {
	mu      sync.RWMutex
	records map[memKey]*memEntry
	expiry  expiryWheel
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
	for i := range s.shards {
		s.shards[i].records = make(map[memKey]*memEntry)
		s.shards[i].expiry.buckets = make(map[int64][]*memEntry)
	}
	return s, nil
}

func (s *MemoryStore) shard(id string) *memShard {
	return &s.shards[maphash.String(s.seed, id)&(memShards-1)]
}

// purgeAt is when the entry stops being visible, or false if never.
func (s *MemoryStore) purgeAt(e *memEntry) (int64, bool) {
	if e.expires == zeroMicros {
		return 0, false
	}
	return e.expires + s.retention, true
}

func (s *MemoryStore) visible(e *memEntry, now int64) bool {
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
	key := memKey{rec.Kind, rec.ID}
	e := &memEntry{key: key, version: 1}
	e.set(rec)
	now := s.clock.Now().UnixMicro()
	sh := s.shard(rec.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.records[key]; ok && s.visible(old, now) {
		return fmt.Errorf("challenge: memory store: create %s/%s: %w", rec.Kind, rec.ID, ErrAlreadyExists)
	}
	sh.records[key] = e
	if at, ok := s.purgeAt(e); ok {
		sh.expiry.add(at, e)
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
	now := s.clock.Now().UnixMicro()
	sh := s.shard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.records[memKey{kind, id}]
	if !ok || !s.visible(e, now) {
		return nil, notFound("get", kind, id)
	}
	return e.record(), nil
}

// Update implements [Store.Update].
func (s *MemoryStore) Update(ctx context.Context, rec *Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("challenge: memory store: update: %w", err)
	}
	// Copy Data before taking the lock: the critical section stays short.
	data := cloneBytes(rec.Data)
	now := s.clock.Now().UnixMicro()
	sh := s.shard(rec.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.records[memKey{rec.Kind, rec.ID}]
	if !ok || !s.visible(e, now) {
		return notFound("update", rec.Kind, rec.ID)
	}
	if e.version != rec.Version {
		return fmt.Errorf("challenge: memory store: update %s/%s: %w", rec.Kind, rec.ID, ErrConflict)
	}
	oldPurge, hadPurge := s.purgeAt(e)
	e.setFields(rec, data)
	e.version++
	if at, ok := s.purgeAt(e); ok && (!hadPurge || expiryBucket(at) != expiryBucket(oldPurge)) {
		sh.expiry.add(at, e)
	}
	s.sweepLocked(sh, now, memSweepBatch)
	rec.Version = e.version
	return nil
}

// Delete implements [Store.Delete].
func (s *MemoryStore) Delete(ctx context.Context, kind, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("challenge: memory store: delete: %w", err)
	}
	now := s.clock.Now().UnixMicro()
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	key := memKey{kind, id}
	e, ok := sh.records[key]
	if !ok || !s.visible(e, now) {
		return notFound("delete", kind, id)
	}
	// The expiry index may still point at e; the sweeper skips entries that
	// are no longer the map's.
	delete(sh.records, key)
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
		n += len(sh.records)
		sh.mu.RUnlock()
	}
	return n
}

// sweepLocked examines up to limit index entries (all due ones if limit < 0)
// and removes the records among them that are past retention.
func (s *MemoryStore) sweepLocked(sh *memShard, now int64, limit int) int {
	removed := 0
	sh.expiry.popDue(now, limit, func(e *memEntry) {
		if cur, ok := sh.records[e.key]; ok && cur == e && !s.visible(e, now) {
			delete(sh.records, e.key)
			removed++
		}
	})
	return removed
}

func (e *memEntry) set(rec *Record) { e.setFields(rec, cloneBytes(rec.Data)) }

func (e *memEntry) setFields(rec *Record, data []byte) {
	e.state = rec.State
	e.subject = rec.Subject
	e.data = data
	e.attempts = rec.Attempts
	e.created = rec.CreatedAt.UnixMicro()
	e.updated = rec.UpdatedAt.UnixMicro()
	e.expires = rec.ExpiresAt.UnixMicro()
}

func (e *memEntry) record() *Record {
	return &Record{
		Kind:      e.key.kind,
		ID:        e.key.id,
		State:     e.state,
		Version:   e.version,
		Subject:   e.subject,
		Attempts:  e.attempts,
		CreatedAt: time.UnixMicro(e.created).UTC(),
		UpdatedAt: time.UnixMicro(e.updated).UTC(),
		ExpiresAt: time.UnixMicro(e.expires).UTC(),
		Data:      cloneBytes(e.data),
	}
}

func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

func notFound(op, kind, id string) error {
	return fmt.Errorf("challenge: memory store: %s %s/%s: %w", op, kind, id, ErrNotFound)
}

// Ping implements [Pinger]: the memory store always answers.
func (s *MemoryStore) Ping(ctx context.Context) error { return ctx.Err() }
