//! The state every handler shares: the metadata store, the blob store and server settings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wharf_core::blob::{BlobStore, StageOptions, StagedBlob};
use wharf_core::model::{RepoKind, Repository};
use wharf_core::store::MetadataStore;
use wharf_core::usecases::RepositoryRules;
use wharf_core::{Error, Result};

/// Server settings that handlers read (`[server]` and friends, resolved by the binary).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The URL clients reach Wharf at, when it differs from the request's `Host`.
    pub public_url: Option<String>,
    /// Upload limit for repositories that set none, in bytes.
    pub default_max_upload: u64,
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// The seed API mounted at `/` as well (`platform`), if any.
    pub compat_root: Option<String>,
    /// A name for this process in leases.
    pub instance: String,
    /// How long unreferenced blobs are kept.
    pub gc_grace: Duration,
    /// How long a proxy repository uses an upstream metadata document before revalidating it.
    pub proxy_max_age: Duration,
    /// Longest wait for an upstream to send data.
    pub upstream_timeout: Duration,
    /// Whether groups hide proxy members' versions of names that a hosted member has.
    pub dependency_confusion_guard: bool,
    /// Credentials for the upstreams of proxy repositories.
    pub upstream_auth: Vec<crate::upstream::UpstreamAuth>,
    /// How many failed sign-ins are allowed.
    pub login_limits: crate::logins::LoginLimits,
    /// The header a reverse proxy names the client's address in (`x-forwarded-for`; its last
    /// entry is taken), when Wharf is behind one; otherwise the peer's address.
    pub client_address_header: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            default_max_upload: 10 << 30,
            request_timeout: Duration::from_hours(1),
            compat_root: None,
            instance: format!("wharf-{}", uuid::Uuid::new_v4().simple()),
            gc_grace: Duration::from_hours(24),
            proxy_max_age: Duration::from_mins(10),
            upstream_timeout: Duration::from_mins(1),
            dependency_confusion_guard: true,
            upstream_auth: Vec::new(),
            login_limits: crate::logins::LoginLimits::default(),
            client_address_header: None,
        }
    }
}

/// What the server knows of a compiled-in format, for validating repositories.
#[derive(Clone)]
pub struct FormatInfo {
    /// The format key.
    pub name: &'static str,
    /// The repository kinds it implements.
    pub kinds: &'static [RepoKind],
    /// The upstream of a proxy when none is given.
    pub default_upstream: Option<&'static str>,
    /// How the format yanks versions, if it does.
    pub yanks: Option<Arc<dyn crate::format::Yanks>>,
    /// Where its repositories' URLs start ([`crate::Format::url_prefix`]).
    pub url_prefix: String,
    /// Its upkeep, if any ([`crate::format::Upkeep`]).
    pub upkeep: Option<Arc<dyn crate::format::Upkeep>>,
    /// Who may change a package, if it has owners ([`crate::format::Ownership`]).
    pub ownership: Option<Arc<dyn crate::format::Ownership>>,
    /// Whether deletions leave tombstones ([`crate::Format::keeps_tombstones`]).
    pub keeps_tombstones: bool,
    /// What it repairs after deletions ([`crate::format::Removals`]).
    pub removals: Option<Arc<dyn crate::format::Removals>>,
}

impl FormatInfo {
    /// What the format allows of its repositories.
    #[must_use]
    pub fn rules(&self) -> RepositoryRules {
        RepositoryRules {
            format: self.name,
            kinds: self.kinds,
            default_upstream: self.default_upstream,
        }
    }
}

/// Shared state: one pointer, so that the router's per-request clones (one per route and
/// middleware layer) cost one reference count; its parts are read through [`Deref`].
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    /// Metadata.
    pub store: Arc<dyn MetadataStore>,
    /// Blobs.
    pub blobs: BlobStore,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// The compiled-in formats.
    pub formats: Arc<[FormatInfo]>,
    /// Upstream access of proxy repositories.
    pub upstream: crate::upstream::Upstream,
    /// Downloads counted and not yet in the database.
    pub downloads: crate::downloads::Downloads,
    /// Failed sign-ins, counted.
    pub logins: crate::logins::Logins,
    /// Recently read repository definitions, by format and name.
    repositories: Arc<Mutex<RepositoryCache>>,
}

/// Repository definitions by format and name, with when they were read.
type RepositoryCache = HashMap<(String, String), (Repository, Instant)>;

/// How long a repository definition read from the database is used without reading it again.
/// Another instance's change to a repository (policy, deletion) is seen within this time; this
/// instance's own changes at once.
const REPOSITORY_TTL: Duration = Duration::from_secs(1);
/// How long an instance holds a format's upkeep lease.
const UPKEEP_LEASE: Duration = Duration::from_mins(10);

impl AppState {
    /// Builds the state.
    pub fn new(
        store: Arc<dyn MetadataStore>,
        blobs: BlobStore,
        config: ServerConfig,
        formats: &[Arc<dyn crate::Format>],
    ) -> Self {
        Self(Arc::new(Shared {
            store,
            blobs,
            upstream: crate::upstream::Upstream::new(
                config.upstream_timeout,
                &config.upstream_auth,
            ),
            downloads: crate::downloads::Downloads::default(),
            logins: crate::logins::Logins::new(config.login_limits),
            repositories: Arc::default(),
            config: Arc::new(config),
            formats: formats
                .iter()
                .map(|f| FormatInfo {
                    name: f.name(),
                    kinds: f.kinds(),
                    default_upstream: f.default_upstream(),
                    yanks: f.yanks(),
                    url_prefix: f.url_prefix(),
                    upkeep: f.upkeep(),
                    ownership: f.ownership(),
                    keeps_tombstones: f.keeps_tombstones(),
                    removals: f.removals(),
                })
                .collect(),
        }))
    }

    /// Runs every format's upkeep, each under its lease `upkeep:{format}` (skipped while
    /// another instance holds it); how many things they removed. A failing upkeep is logged and
    /// the others run.
    pub async fn run_upkeep(&self, grace: Duration) -> u64 {
        let mut removed = 0;
        for format in self.formats.iter() {
            let Some(upkeep) = &format.upkeep else {
                continue;
            };
            let lease = format!("upkeep:{}", format.name);
            let holder = &self.config.instance;
            let now = wharf_core::time::Timestamp::now();
            match self
                .store
                .try_lease(&lease, holder, now, now.plus(UPKEEP_LEASE))
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::error!(format = format.name, error = %e, "upkeep lease failed");
                    continue;
                }
            }
            match upkeep.run(self, grace).await {
                Ok(n) => removed += n,
                Err(e) => tracing::error!(format = format.name, error = %e, "upkeep failed"),
            }
            if let Err(e) = self.store.release_lease(&lease, holder).await {
                tracing::warn!(format = format.name, error = %e, "upkeep lease not released");
            }
        }
        removed
    }

    /// The compiled-in format named `name`.
    #[must_use]
    pub fn format(&self, name: &str) -> Option<FormatInfo> {
        self.formats.iter().find(|f| f.name == name).cloned()
    }

    /// What each compiled-in format allows of its repositories.
    #[must_use]
    pub fn repository_rules(&self) -> Vec<RepositoryRules> {
        self.formats.iter().map(FormatInfo::rules).collect()
    }

    /// The repository of `format` named `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is none.
    pub async fn repository(&self, format: &str, name: &str) -> Result<Repository> {
        let key = (format.to_owned(), name.to_owned());
        if let Some((repo, read)) = self.cached_repositories().get(&key)
            && read.elapsed() < REPOSITORY_TTL
        {
            return Ok(repo.clone());
        }
        let repo = self
            .store
            .repository(format, name)
            .await?
            .ok_or_else(|| Error::not_found(format!("{format} repository {name} not found")))?;
        let mut cached = self.cached_repositories();
        if cached.len() > 10_000 {
            cached.clear();
        }
        cached.insert(key, (repo.clone(), Instant::now()));
        Ok(repo)
    }

    /// Drops the cached repository definitions, after this instance changed one.
    pub fn forget_repositories(&self) {
        self.cached_repositories().clear();
    }

    fn cached_repositories(&self) -> std::sync::MutexGuard<'_, RepositoryCache> {
        self.repositories
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The URL clients reach this server at: `server.public_url` when set, else the scheme
    /// (`X-Forwarded-Proto`, default http) and `Host` of the request. No trailing slash.
    #[must_use]
    pub fn base_url(&self, headers: &http::HeaderMap) -> String {
        if let Some(url) = &self.config.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let scheme = header("x-forwarded-proto").unwrap_or("http");
        let host = header("host").unwrap_or("localhost");
        format!("{scheme}://{host}")
    }

    /// The upload limit of a repository.
    #[must_use]
    pub fn upload_limit(&self, repository: &Repository) -> u64 {
        repository
            .policy
            .max_upload_size
            .unwrap_or(self.config.default_max_upload)
    }

    /// Streams a request body into a staged blob, refusing it early when `Content-Length`
    /// already exceeds the repository's limit, and counting it in the metrics.
    ///
    /// # Errors
    /// As [`BlobStore::stage`].
    pub async fn stage_body(
        &self,
        repository: &Repository,
        headers: &http::HeaderMap,
        body: axum::body::Body,
        expected_sha256: Option<wharf_core::digest::Sha256>,
    ) -> Result<StagedBlob> {
        let options = StageOptions {
            expected_sha256,
            ..StageOptions::default()
        };
        self.stage_body_with(repository, headers, body, options)
            .await
    }

    /// [`Self::stage_body`] with more `options` (the size limit is the repository's).
    ///
    /// # Errors
    /// As [`BlobStore::stage`].
    pub async fn stage_body_with(
        &self,
        repository: &Repository,
        headers: &http::HeaderMap,
        body: axum::body::Body,
        options: StageOptions,
    ) -> Result<StagedBlob> {
        let limit = self.upload_limit(repository);
        crate::body::check_content_length(headers, limit)?;
        let options = StageOptions {
            max_size: Some(limit),
            ..options
        };
        self.stage_upload(body.into_data_stream(), &options).await
    }

    /// Streams an upload (a request body or a part of one) into a staged blob, within the
    /// limit `options` sets, counting it in the metrics (in flight while it streams, its bytes
    /// once stored) — the one way every format stages what clients send.
    ///
    /// # Errors
    /// As [`BlobStore::stage`].
    pub async fn stage_upload<S, E>(&self, body: S, options: &StageOptions) -> Result<StagedBlob>
    where
        S: futures::Stream<Item = std::result::Result<bytes::Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let _in_flight = crate::metrics::UploadInFlight::start();
        let staged = self.blobs.stage(body, options).await?;
        crate::metrics::bytes_stored(staged.size);
        Ok(staged)
    }
}
