-- Wharf's metadata schema (SQLite). Times are unix milliseconds; flags are 0/1 integers so
-- that one set of queries serves SQLite and PostgreSQL.
CREATE TABLE repositories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    kind TEXT NOT NULL,
    upstream TEXT,
    members TEXT NOT NULL DEFAULT '[]',
    allow_overwrite INTEGER NOT NULL DEFAULT 0,
    max_upload_size INTEGER,
    anonymous_read INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (format, name)
);

CREATE TABLE packages (
    id INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    lower_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (repository_id, lower_name)
);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    lower_version TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (package_id, lower_version)
);

CREATE TABLE blobs (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    sha1 TEXT NOT NULL,
    md5 TEXT NOT NULL,
    sha512 TEXT NOT NULL,
    size INTEGER NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    claim_seq INTEGER NOT NULL DEFAULT 0,
    claimed_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE blob_pins (
    id INTEGER PRIMARY KEY,
    blob_id INTEGER NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX blob_pins_blob ON blob_pins (blob_id);

CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    blob_id INTEGER NOT NULL REFERENCES blobs (id),
    name TEXT NOT NULL,
    lower_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (version_id, lower_name)
);
CREATE INDEX files_blob ON files (blob_id);

CREATE TABLE package_properties (
    owner_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (owner_id, name)
);

CREATE TABLE version_properties (
    owner_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (owner_id, name)
);

CREATE TABLE file_properties (
    owner_id INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (owner_id, name)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    repository_id INTEGER REFERENCES repositories (id) ON DELETE CASCADE,
    expires_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
