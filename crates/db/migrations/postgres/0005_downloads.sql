-- Downloads per version and UTC day (days since the Unix epoch); instances add to the counts.
CREATE TABLE downloads (
    version_id BIGINT NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (version_id, day)
);
