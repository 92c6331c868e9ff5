//! SQLite and PostgreSQL implementations of the metadata store traits of `wharf-core`.
//!
//! One set of runtime-checked queries serves both engines through sqlx's `Any` driver: the
//! schema keeps to types both share (64-bit integers, text), times are unix milliseconds and
//! flags are 0/1. The schemas live in `migrations/sqlite` and `migrations/postgres`. SQLite
//! runs in WAL mode with foreign keys on, one writer connection and a pool of readers;
//! PostgreSQL uses one pool for both. sqlx errors never leave this crate.

mod blobs;
mod catalog;
mod downloads;
mod error;
mod files;
mod leases;
mod package_cache;
mod packages;
mod publish_tx;
mod repositories;
mod rows;
mod sessions;
mod tombstones;
mod uploads;
mod upstream_cache;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use wharf_core::store::MetadataStore;
use wharf_core::{Error, Result};

use error::db_err;
use package_cache::PackageCache;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Readers (SQLite) or connections (PostgreSQL).
    pub max_connections: u32,
    /// How long to wait for a connection.
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The metadata store over SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct Db {
    engine: Engine,
    write: AnyPool,
    read: AnyPool,
    /// Package rows cached in this process (SQLite only; see [`package_cache`]).
    packages: Option<Arc<PackageCache>>,
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`). A SQLite file is created when
    /// missing. Migrations are not run; see [`Db::migrate`].
    ///
    /// # Errors
    /// [`Error::Invalid`] for an unsupported URL, [`Error::Internal`] when connecting fails.
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(Error::invalid(
                "database.url must start with sqlite:// or postgres://",
            ));
        };
        let connect = AnyConnectOptions::from_str(url)
            .map_err(|e| Error::internal("parsing database.url", e))?;
        match engine {
            Engine::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(|e| Error::internal("connecting to PostgreSQL", e))?;
                Ok(Self {
                    engine,
                    write: pool.clone(),
                    read: pool,
                    packages: None,
                })
            }
            Engine::Sqlite => {
                let write = sqlite_pool(1, options)
                    .connect_with(connect.clone())
                    .await
                    .map_err(|e| Error::internal("opening the SQLite database", e))?;
                write
                    .execute("PRAGMA journal_mode = WAL")
                    .await
                    .map_err(|e| Error::internal("enabling WAL", e))?;
                let read = sqlite_pool(options.max_connections, options)
                    .connect_with(connect)
                    .await
                    .map_err(|e| Error::internal("opening the SQLite database", e))?;
                Ok(Self {
                    engine,
                    write,
                    read,
                    packages: Some(Arc::default()),
                })
            }
        }
    }

    /// The SQLite URL of `path`, creating the file when missing.
    #[must_use]
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// Brings the schema up to date. On PostgreSQL, concurrent callers are serialized by an
    /// advisory lock, so instances may start together.
    ///
    /// # Errors
    /// [`Error::Internal`] when a migration fails.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.write)
            .await
            .map_err(|e| Error::internal("running database migrations", e))
    }

    /// The engine.
    #[must_use]
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

fn sqlite_pool(max: u32, options: &DbOptions) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(options.acquire_timeout)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                )
                .await?;
                Ok(())
            })
        })
}

#[async_trait]
impl MetadataStore for Db {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}
