//! The store contract suite: every test body runs on SQLite and, when
//! `WHARF_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod blobs;
mod catalog;
mod downloads;
mod links;
mod packages;
mod reads;
mod repositories;
mod sessions;
mod tombstones;
mod uploads;
mod users;

use wharf_core::model::{NewRepository, RepoKind, RepoPolicy, Repository};
use wharf_core::names::RepoName;
use wharf_core::store::MetadataStore;
use wharf_test_support::test_databases;

/// Runs `body` against every engine.
macro_rules! on_every_engine {
    (|$db:ident| $body:block) => {{
        for test_db in wharf_test_support::test_databases().await {
            let $db: &wharf_db::Db = &test_db.db;
            eprintln!("engine: {}", test_db.engine);
            $body
            test_db.finish().await;
        }
    }};
}
pub(crate) use on_every_engine;

pub(crate) async fn hosted(db: &dyn MetadataStore, name: &str) -> Repository {
    db.create_repository(&NewRepository {
        name: RepoName::new(name).unwrap(),
        format: "generic".into(),
        kind: RepoKind::Hosted,
        upstream: None,
        members: vec![],
        policy: RepoPolicy::default(),
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn postgres_runs_when_configured() {
    let engines: Vec<&str> = test_databases().await.iter().map(|d| d.engine).collect();
    assert!(engines.contains(&"sqlite"));
    if std::env::var_os("WHARF_TEST_POSTGRES_URL").is_some() {
        assert!(engines.contains(&"postgres"));
    }
}
