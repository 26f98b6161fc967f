package questions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/challengekit/challengekit/challenge"
)

// A business's catalog is kept as JSON in a record of CatalogKind, whose
// ID is the business: an administrator writes it rarely, and each server
// decodes it once per version of its bytes (catalogCache).
//
// The JSON is a Catalog's, with a member "Version" first:
//
//   - version 1 (no "Version" member) was written before three rules
//     that applied to every question became fields of each
//     (CanContainQuestionWords, CanContainUserID, CanEqualOtherAnswers).
//     It decodes to those fields set to false on every question: the
//     rules stay on, as they were.
//   - version 2 carries the fields; absent (null) means no such rule.
//
// A release before version 2 reads a version 2 catalog, ignoring the
// members it does not know, and applies the three rules to every question,
// as it always did: stricter than the catalog says, never looser, so that
// servers of the two releases may share a store during a rolling deploy.
// A later version is refused, not misread.

const (
	catalogVersion   = 2
	catalogVersionV1 = 1
)

// storedCatalog is a Catalog as stored.
type storedCatalog struct {
	Version int
	Catalog
}

func encodeCatalog(c Catalog) ([]byte, error) {
	data, err := json.Marshal(storedCatalog{Version: catalogVersion, Catalog: c})
	if err != nil {
		return nil, fmt.Errorf("questions: encoding catalog: %w", err)
	}
	return data, nil
}

func decodeCatalog(data []byte) (Catalog, error) {
	var sc storedCatalog
	if err := json.Unmarshal(data, &sc); err != nil {
		return Catalog{}, err
	}
	switch sc.Version {
	case 0, catalogVersionV1:
		off := false
		for i := range sc.Questions {
			q := &sc.Questions[i]
			q.CanContainQuestionWords, q.CanContainUserID, q.CanEqualOtherAnswers = &off, &off, &off
		}
	case catalogVersion:
	default:
		return Catalog{}, fmt.Errorf("catalog version %d is of a later release", sc.Version)
	}
	return sc.Catalog, nil
}

// PutCatalog validates and stores a business's catalog, replacing any
// previous one, and returns it as stored. Invalid catalogs get a *RuleError.
func (s *Service) PutCatalog(ctx context.Context, businessID string, c Catalog) (*Catalog, error) {
	if err := checkID("BusinessID", businessID); err != nil {
		return nil, err
	}
	if vs := c.Validate(); len(vs) > 0 {
		return nil, &RuleError{Violations: vs}
	}
	data, err := encodeCatalog(c)
	if err != nil {
		return nil, err
	}
	if err := s.catalogs.Put(ctx, businessID, "", data); err != nil {
		return nil, err
	}
	return &c, nil
}

// Catalog returns a business's catalog, or ErrUnknownBusiness. The
// catalog is the caller's to change.
func (s *Service) Catalog(ctx context.Context, businessID string) (*Catalog, error) {
	c, err := s.catalog(ctx, businessID)
	if err != nil {
		return nil, err
	}
	return c.clone(), nil
}

// ViewCatalog calls fn with a business's catalog as the service keeps it,
// shared by every caller: fn must not change it, nor anything it points
// to. It is Catalog without the copy, for a caller that only reads the
// catalog, as one that encodes it does. Its errors are Catalog's, and
// fn's error is returned as it is.
func (s *Service) ViewCatalog(ctx context.Context, businessID string, fn func(cat *Catalog) error) error {
	c, err := s.catalog(ctx, businessID)
	if err != nil {
		return err
	}
	return fn(c)
}

// catalog returns a business's catalog, shared: callers must not change it.
// Every call reads the record (so a catalog stored by another server is
// seen at once), but decodes it only when it changed since the cached
// catalog was decoded from it.
//
// The read asks the store to skip the record while it has the stamp the
// cached catalog was read under (challenge.Records.ViewChanged): a store
// that stamps its records, as redisstore does, then sends only the stamp.
// A store that does not lends the record on every read, and its bytes are
// compared with those the cached catalog was decoded from; they are
// copied only to decode a catalog that changed, which the cache then
// keeps.
func (s *Service) catalog(ctx context.Context, businessID string) (*Catalog, error) {
	cached := s.decoded.get(businessID)
	next := cached
	stamp, err := s.catalogs.ViewChanged(ctx, businessID, cached.stamp, func(rec *challenge.Record) error {
		if cached.cat != nil && bytes.Equal(cached.raw, rec.Data) {
			return nil // stored again as it was
		}
		raw := bytes.Clone(rec.Data)
		c, err := decodeCatalog(raw)
		if err != nil {
			return fmt.Errorf("questions: corrupt catalog of %q: %w", businessID, err)
		}
		next = decodedCatalog{raw: raw, cat: &c}
		return nil
	})
	if errors.Is(err, challenge.ErrNotFound) {
		return nil, fmt.Errorf("%w: %.64q", ErrUnknownBusiness, businessID)
	}
	if err != nil {
		return nil, err
	}
	if next.cat != cached.cat || stamp != cached.stamp {
		next.stamp = stamp
		s.decoded.put(businessID, next)
	}
	return next.cat, nil
}

// maxDecodedCatalogs bounds the cache of decoded catalogs; past it, the
// cache starts over.
const maxDecodedCatalogs = 1024

// catalogCache keeps decoded catalogs with the bytes they were decoded
// from and the stamp those bytes were read under. It is safe for
// concurrent use; the catalogs in it are never changed.
type catalogCache struct {
	mu sync.RWMutex
	m  map[string]decodedCatalog
}

// decodedCatalog is a catalog, the store's bytes it was decoded from (its
// own copy), and their stamp (empty if the store stamps nothing).
type decodedCatalog struct {
	raw   []byte
	stamp string
	cat   *Catalog
}

// get returns the business's cached catalog, or the zero decodedCatalog.
func (c *catalogCache) get(business string) decodedCatalog {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[business]
}

func (c *catalogCache) put(business string, d decodedCatalog) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxDecodedCatalogs {
		c.m = make(map[string]decodedCatalog)
	}
	c.m[business] = d
}
