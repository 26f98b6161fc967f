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
