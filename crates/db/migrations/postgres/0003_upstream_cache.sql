-- Metadata documents fetched from the upstream of a proxy repository (index files,
-- packuments, simple pages): shared by every instance, revalidated with their validators.
CREATE TABLE upstream_cache (
    repository_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    status BIGINT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    fetched_at BIGINT NOT NULL,
    body BYTEA NOT NULL,
    PRIMARY KEY (repository_id, key)
);
