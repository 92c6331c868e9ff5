-- The web UI: when a package last changed (set with every revision bump; lists sort and show
-- it), the newest versions found through an index, users an admin can disable, and sign-in
-- sessions (stored as SHA-256 of their secret, with the CSRF token of their forms).
ALTER TABLE packages ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE packages SET updated_at = COALESCE(
    (SELECT MAX(v.created_at) FROM versions v WHERE v.package_id = packages.id), created_at);
CREATE INDEX packages_updated ON packages (repository_id, updated_at);
CREATE INDEX versions_created ON versions (created_at);
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
