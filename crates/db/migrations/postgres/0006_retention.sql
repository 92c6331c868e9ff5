-- Days a version is kept after it was published (NULL: for ever); a leased job removes older ones.
ALTER TABLE repositories ADD COLUMN retention_days BIGINT;
