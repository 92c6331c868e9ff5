-- Downloads per version and UTC day (days since the Unix epoch); instances add to the counts.
CREATE TABLE downloads (
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    day INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (version_id, day)
);
