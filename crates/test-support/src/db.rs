//! Databases for tests: a fresh SQLite file, and — whenever `WHARF_TEST_POSTGRES_URL` is set —
//! a fresh PostgreSQL database created for the test and dropped afterwards.

use sqlx::Executor;
use sqlx::any::AnyPoolOptions;
use wharf_db::{Db, DbOptions};

/// A migrated test database that cleans up after itself.
pub struct TestDb {
    /// The store.
    pub db: Db,
    /// `sqlite` or `postgres`.
    pub engine: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh SQLite database in a temporary directory.
    ///
    /// # Panics
    /// When the database cannot be created.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = Db::sqlite_url(&dir.path().join("wharf.db"));
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .expect("sqlite");
        db.migrate().await.expect("migrate sqlite");
        Self {
            db,
            engine: "sqlite",
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh PostgreSQL database on the server named by `WHARF_TEST_POSTGRES_URL`.
    ///
    /// # Panics
    /// When the variable is unset or the server cannot be reached: tests that ask for
    /// PostgreSQL fail loudly rather than skip.
    pub async fn postgres() -> Self {
        let db = Self::postgres_unmigrated().await;
        db.db.migrate().await.expect("migrate postgres");
        db
    }

    /// A fresh, empty PostgreSQL database (no schema yet), for tests of how servers migrate it.
    ///
    /// # Panics
    /// As [`Self::postgres`].
    pub async fn postgres_unmigrated() -> Self {
        let admin_url = std::env::var("WHARF_TEST_POSTGRES_URL")
            .expect("WHARF_TEST_POSTGRES_URL must name a PostgreSQL server");
        let name = format!("wharf_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::any::install_default_drivers();
        let admin = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&admin_url)
            .await
            .expect("connect to WHARF_TEST_POSTGRES_URL");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        admin.close().await;
        let url = replace_database(&admin_url, &name);
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .expect("postgres");
        Self {
            db,
            engine: "postgres",
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// The database URL, for spawning a real server on the same database.
    #[must_use]
    pub fn url(&self) -> String {
        match &self.cleanup {
            Cleanup::Sqlite(dir) => Db::sqlite_url(&dir.path().join("wharf.db")),
            Cleanup::Postgres { admin_url, name } => replace_database(admin_url, name),
        }
    }

    /// Closes connections and drops the PostgreSQL database.
    pub async fn finish(self) {
        self.db.close().await;
        if let Cleanup::Postgres { admin_url, name } = self.cleanup
            && let Ok(admin) = AnyPoolOptions::new()
                .max_connections(1)
                .connect(&admin_url)
                .await
        {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
            admin.close().await;
        }
    }
}

/// Every engine the contract suite must run on: SQLite always, PostgreSQL when
/// `WHARF_TEST_POSTGRES_URL` is set (CI always sets it).
pub async fn test_databases() -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite().await];
    if std::env::var_os("WHARF_TEST_POSTGRES_URL").is_some() {
        dbs.push(TestDb::postgres().await);
    }
    dbs
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}
