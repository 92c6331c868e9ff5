-- A counter bumped by every change to a package's content (publish, delete, property), so
-- documents rendered from it can be cached by any instance and checked with one indexed read.
ALTER TABLE packages ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
