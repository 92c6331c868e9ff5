-- A format-defined canonical form of each package name (cargo: lower case with '_' as '-';
-- PyPI: PEP 503), so formats can find clashing names in one indexed lookup.
ALTER TABLE packages ADD COLUMN canonical_name TEXT;
UPDATE packages SET canonical_name = lower_name;
CREATE INDEX packages_canonical ON packages (repository_id, canonical_name);
