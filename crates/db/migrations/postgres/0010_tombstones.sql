-- What deleted versions held, for formats whose versions may never come back with other
-- content (cargo, npm, PyPI): one row per deleted file, keyed by the package's canonical name
-- (and its lower-case name, for purges by name) and the lower-case version and file names,
-- with the SHA-256 it had. A publish of the same name, version and file with another SHA-256
-- is refused; an admin's purge removes the rows.
CREATE TABLE tombstones (
    repository_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    package_key TEXT NOT NULL,
    package_lower TEXT NOT NULL,
    version_key TEXT NOT NULL,
    file_key TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    deleted_at BIGINT NOT NULL,
    PRIMARY KEY (repository_id, package_key, version_key, file_key)
);
