-- Resumable blob uploads (OCI upload sessions): the parts received so far, so that any
-- instance can continue a session and a restart loses nothing. Parts' bytes are objects
-- under uploads/ in storage; `parts` lists them as JSON, `size` is their total.
CREATE TABLE upload_sessions (
    id TEXT PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    parts TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX upload_sessions_updated ON upload_sessions (updated_at);
