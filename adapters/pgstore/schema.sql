-- challengekit records. purge_at is expires_at plus the store's retention
-- (NULL: never); rows past it are invisible and removed by DeleteExpired,
-- whose cost the partial index keeps proportional to the expired rows.
CREATE TABLE IF NOT EXISTS challengekit_records (
    kind       text        NOT NULL,
    id         text        NOT NULL,
    state      text        NOT NULL,
    version    bigint      NOT NULL,
    subject    text        NOT NULL,
    attempts   integer     NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    expires_at timestamptz,
    purge_at   timestamptz,
    data       bytea       NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS challengekit_records_purge_at
    ON challengekit_records (purge_at) WHERE purge_at IS NOT NULL;

-- The limiter's budgets (pgstore.Limiter). Keys are digests (keyed with
-- the limiter's DigestKey): no caller, subject, source or destination is
-- stored in the clear. Times are microseconds since the Unix epoch, read
-- from the servers' clocks; a row is of no use past purge_at, and
-- Limiter.DeleteExpired removes it.
CREATE TABLE IF NOT EXISTS challengekit_limit_buckets (
    key      text   PRIMARY KEY, -- a start budget: a caller, or a source as a caller reports it
    tat      bigint NOT NULL,    -- the token bucket's theoretical arrival time
    purge_at bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS challengekit_limit_logs (
    key      text     PRIMARY KEY, -- a subject of a kind (its failures), or a destination's deliveries
    times    bigint[] NOT NULL,    -- the events within the budget's period, as charged
    purge_at bigint   NOT NULL
);
-- Each event's charge, beside its time, so that a refund takes back its own.
ALTER TABLE challengekit_limit_logs ADD COLUMN IF NOT EXISTS ids text[] NOT NULL DEFAULT '{}';
CREATE TABLE IF NOT EXISTS challengekit_limit_pairs (
    subject  text    NOT NULL, -- challengekit_limit_logs.key of the subject
    source   text    NOT NULL,
    n        integer NOT NULL, -- failures counted
    last     bigint  NOT NULL, -- when the last was charged
    purge_at bigint  NOT NULL,
    PRIMARY KEY (subject, source)
);

-- How long a pair that has failed n times waits after its last failure.
CREATE OR REPLACE FUNCTION challengekit_limit_hold(n integer, free integer, min_hold bigint, max_hold bigint)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF n < free THEN RETURN 0; END IF;
    IF n - free >= 62 OR min_hold > (max_hold >> (n - free)) THEN RETURN max_hold; END IF;
    RETURN min_hold << (n - free);
END $$;

-- Charges one start to each bucket of keys (sorted, so that concurrent
-- calls lock in one order), or to none: 0, or the wait.
CREATE OR REPLACE FUNCTION challengekit_limit_start(keys text[], intervals bigint[], periods bigint[], now bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    tats bigint[] := '{}';
    wait bigint := 0;
    cur  bigint;
BEGIN
    INSERT INTO challengekit_limit_buckets (key, tat, purge_at)
        SELECT k, 0, 0 FROM unnest(keys) AS k ORDER BY k ON CONFLICT DO NOTHING;
    FOR i IN 1 .. array_length(keys, 1) LOOP
        SELECT tat INTO cur FROM challengekit_limit_buckets WHERE key = keys[i] FOR UPDATE;
        cur := greatest(cur, now) + intervals[i];
        wait := greatest(wait, cur - now - periods[i]);
        tats := tats || cur;
    END LOOP;
    IF wait > 0 THEN RETURN wait; END IF;
    FOR i IN 1 .. array_length(keys, 1) LOOP
        UPDATE challengekit_limit_buckets SET tat = tats[i], purge_at = tats[i] WHERE key = keys[i];
    END LOOP;
    RETURN 0;
END $$;

-- Locks the log k (making it if need be) and returns its events within
-- per, oldest first, as parallel arrays of times and ids.
CREATE OR REPLACE FUNCTION challengekit_limit_lock_log(k text, now bigint, per bigint, OUT times bigint[], OUT ids text[])
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO challengekit_limit_logs (key, times, ids, purge_at) VALUES (k, '{}', '{}', 0) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM challengekit_limit_logs WHERE key = k FOR UPDATE;
    SELECT coalesce(array_agg(e.t ORDER BY e.t), '{}'), coalesce(array_agg(e.id ORDER BY e.t), '{}') INTO times, ids
        FROM challengekit_limit_logs l, unnest(l.times, l.ids) AS e(t, id)
        WHERE l.key = k AND e.t > now - per;
END $$;

-- Charges the attempt id of subj from src: 0, or the wait while the pair
-- is held or the subject is at its cap.
DROP FUNCTION IF EXISTS challengekit_limit_attempt(text, text, bigint, integer, bigint, bigint, bigint, integer, bigint);
CREATE OR REPLACE FUNCTION challengekit_limit_attempt(subj text, src text, id text, now bigint, free integer, min_hold bigint,
    max_hold bigint, win bigint, cap integer, cap_per bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    log   record;
    n     integer;
    pn    integer := 0;
    plast bigint := 0;
    hold  bigint;
    wait  bigint := 0;
BEGIN
    -- The subject's row lock serializes every call about the subject, pairs included.
    SELECT * INTO log FROM challengekit_limit_lock_log(subj, now, cap_per);
    SELECT p.n, p.last INTO pn, plast FROM challengekit_limit_pairs p WHERE p.subject = subj AND p.source = src;
    IF NOT FOUND THEN pn := 0; plast := 0; END IF;
    hold := challengekit_limit_hold(pn, free, min_hold, max_hold);
    IF now >= plast + hold + win THEN pn := 0; ELSE wait := plast + hold - now; END IF;
    n := coalesce(array_length(log.times, 1), 0);
    IF n >= cap THEN wait := greatest(wait, log.times[n - cap + 1] + cap_per - now); END IF;
    IF wait > 0 THEN RETURN wait; END IF;
    UPDATE challengekit_limit_logs SET times = log.times || now, ids = log.ids || id, purge_at = now + cap_per WHERE key = subj;
    INSERT INTO challengekit_limit_pairs (subject, source, n, last, purge_at) VALUES (subj, src, pn + 1, now, now + max_hold + win)
        ON CONFLICT (subject, source) DO UPDATE SET n = EXCLUDED.n, last = EXCLUDED.last, purge_at = EXCLUDED.purge_at;
    RETURN 0;
END $$;

-- Takes back the attempt id of subj from src, if it is still charged.
DROP FUNCTION IF EXISTS challengekit_limit_refund(text, text);
CREATE OR REPLACE FUNCTION challengekit_limit_refund(subj text, src text, id text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    i integer;
BEGIN
    SELECT array_position(ids, id) INTO i FROM challengekit_limit_logs WHERE key = subj FOR UPDATE;
    IF i IS NULL THEN RETURN; END IF;
    UPDATE challengekit_limit_logs SET times = times[:i - 1] || times[i + 1:], ids = ids[:i - 1] || ids[i + 1:] WHERE key = subj;
    UPDATE challengekit_limit_pairs SET n = n - 1 WHERE subject = subj AND source = src AND n > 0;
END $$;

-- Forgets subj's failures, from every source. It locks the subject's log
-- row first, as attempts do (making it if need be: locking a row that is
-- not there locks nothing), and empties it rather than delete it, so that
-- an attempt waiting on the lock finds the row and records its charge.
CREATE OR REPLACE FUNCTION challengekit_limit_reset(subj text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO challengekit_limit_logs (key, times, ids, purge_at) VALUES (subj, '{}', '{}', 0) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM challengekit_limit_logs WHERE key = subj FOR UPDATE;
    DELETE FROM challengekit_limit_pairs WHERE subject = subj;
    UPDATE challengekit_limit_logs SET times = '{}', ids = '{}', purge_at = 0 WHERE key = subj;
END $$;

-- Charges one event to each log of keys (sorted) if fewer than its events
-- fall within its period: 0, or the wait until one leaves the fullest.
DROP FUNCTION IF EXISTS challengekit_limit_log(text, bigint, integer, bigint);
CREATE OR REPLACE FUNCTION challengekit_limit_logs_charge(keys text[], events integer[], periods bigint[], now bigint, id text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    log  record;
    n    integer;
    wait bigint := 0;
BEGIN
    FOR i IN 1 .. array_length(keys, 1) LOOP
        SELECT * INTO log FROM challengekit_limit_lock_log(keys[i], now, periods[i]);
        n := coalesce(array_length(log.times, 1), 0);
        IF n >= events[i] THEN wait := greatest(wait, log.times[n - events[i] + 1] + periods[i] - now); END IF;
        UPDATE challengekit_limit_logs SET times = log.times, ids = log.ids WHERE key = keys[i];
    END LOOP;
    IF wait > 0 THEN RETURN wait; END IF;
    FOR i IN 1 .. array_length(keys, 1) LOOP
        UPDATE challengekit_limit_logs SET times = times || now, ids = ids || id, purge_at = now + periods[i] WHERE key = keys[i];
    END LOOP;
    RETURN 0;
END $$;
