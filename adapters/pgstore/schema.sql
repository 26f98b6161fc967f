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

-- The limiter's budgets (pgstore.Limiter). Keys are digests: no caller,
-- subject, source or destination is stored in the clear. Times are
-- microseconds since the Unix epoch, read from the servers' clocks; a row
-- is of no use past purge_at, and Limiter.DeleteExpired removes it.
CREATE TABLE IF NOT EXISTS challengekit_limit_buckets (
    key      text   PRIMARY KEY, -- a start budget: a caller, or a source as a caller reports it
    tat      bigint NOT NULL,    -- the token bucket's theoretical arrival time
    purge_at bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS challengekit_limit_logs (
    key      text     PRIMARY KEY, -- a subject of a kind (its failures), or a destination (its deliveries)
    times    bigint[] NOT NULL,    -- the events within the budget's period, oldest first
    purge_at bigint   NOT NULL
);
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

-- Charges one attempt of subj from src: 0, or the wait while the pair is
-- held or the subject is at its cap.
CREATE OR REPLACE FUNCTION challengekit_limit_attempt(subj text, src text, now bigint, free integer, min_hold bigint,
    max_hold bigint, win bigint, cap integer, cap_per bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    log   bigint[];
    pn    integer := 0;
    plast bigint := 0;
    hold  bigint;
    wait  bigint := 0;
BEGIN
    INSERT INTO challengekit_limit_logs (key, times, purge_at) VALUES (subj, '{}', 0) ON CONFLICT DO NOTHING;
    -- The subject's row lock serializes every attempt at the subject, pairs included.
    SELECT times INTO log FROM challengekit_limit_logs WHERE key = subj FOR UPDATE;
    SELECT n, last INTO pn, plast FROM challengekit_limit_pairs WHERE subject = subj AND source = src;
    IF NOT FOUND THEN pn := 0; plast := 0; END IF;
    hold := challengekit_limit_hold(pn, free, min_hold, max_hold);
    IF now >= plast + hold + win THEN pn := 0; ELSE wait := plast + hold - now; END IF;
    log := ARRAY(SELECT t FROM unnest(log) AS t WHERE t > now - cap_per ORDER BY t);
    IF coalesce(array_length(log, 1), 0) >= cap THEN wait := greatest(wait, log[1] + cap_per - now); END IF;
    IF wait > 0 THEN RETURN wait; END IF;
    UPDATE challengekit_limit_logs SET times = log || now, purge_at = now + cap_per WHERE key = subj;
    INSERT INTO challengekit_limit_pairs (subject, source, n, last, purge_at) VALUES (subj, src, pn + 1, now, now + max_hold + win)
        ON CONFLICT (subject, source) DO UPDATE SET n = EXCLUDED.n, last = EXCLUDED.last, purge_at = EXCLUDED.purge_at;
    RETURN 0;
END $$;

-- Takes back the newest attempt of subj, and one of src's.
CREATE OR REPLACE FUNCTION challengekit_limit_refund(subj text, src text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE challengekit_limit_logs SET times = times[1:array_length(times, 1) - 1]
        WHERE key = subj AND array_length(times, 1) > 0;
    UPDATE challengekit_limit_pairs SET n = n - 1 WHERE subject = subj AND source = src AND n > 0;
END $$;

-- Charges one event to the log k if fewer than events fall within per: 0,
-- or the wait until the oldest leaves it.
CREATE OR REPLACE FUNCTION challengekit_limit_log(k text, now bigint, events integer, per bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    log bigint[];
BEGIN
    INSERT INTO challengekit_limit_logs (key, times, purge_at) VALUES (k, '{}', 0) ON CONFLICT DO NOTHING;
    SELECT times INTO log FROM challengekit_limit_logs WHERE key = k FOR UPDATE;
    log := ARRAY(SELECT t FROM unnest(log) AS t WHERE t > now - per ORDER BY t);
    IF coalesce(array_length(log, 1), 0) >= events THEN RETURN log[1] + per - now; END IF;
    UPDATE challengekit_limit_logs SET times = log || now, purge_at = now + per WHERE key = k;
    RETURN 0;
END $$;
