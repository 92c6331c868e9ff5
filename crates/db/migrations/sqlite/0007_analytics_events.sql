-- Analytics events clients report (install, install_on_request, build_error) per repository,
-- package name and UTC day (days since the Unix epoch); instances add to the counts.
CREATE TABLE analytics_events (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    name TEXT NOT NULL,
    day INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (repository_id, category, name, day)
);
