//! [`TestApp`]: the router of the formats and seed APIs a test names, in process, over a
//! temporary SQLite database and in-memory (or temporary fs) blobs, with helpers so tests read
//! like user stories.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use tower::ServiceExt;
use wharf_core::auth::{generate_token, hash_password, hash_token};
use wharf_core::blob::{Backend, BlobStore, StorageConfig};
use wharf_core::model::{NewRepository, NewToken, RepoKind, RepoPolicy, Scope};
use wharf_core::names::RepoName;
use wharf_server::{AppState, Components, Format, SeedApi, ServerConfig, build_router};

use crate::db::TestDb;

/// Builds a [`TestApp`].
#[derive(Default)]
pub struct TestAppBuilder {
    config: ServerConfig,
    components: Components,
    fs_blobs: bool,
}

impl TestAppBuilder {
    /// Serves `format`.
    #[must_use]
    pub fn format(mut self, format: impl Format + 'static) -> Self {
        self.components.formats.push(Arc::new(format));
        self
    }

    /// Serves the seed API `seed`.
    #[must_use]
    pub fn seed(mut self, seed: impl SeedApi + 'static) -> Self {
        self.components.seeds.push(Arc::new(seed));
        self
    }

    /// Serves `components` (a whole Wharf, as the composition root lists it).
    #[must_use]
    pub fn components(mut self, components: Components) -> Self {
        self.components = components;
        self
    }

    /// Serves a seed API at `/` too.
    #[must_use]
    pub fn compat_root(mut self, root: &str) -> Self {
        self.config.compat_root = Some(root.to_owned());
        self
    }

    /// Sets the server-wide upload limit.
    #[must_use]
    pub fn max_upload(mut self, bytes: u64) -> Self {
        self.config.default_max_upload = bytes;
        self
    }

    /// Gives proxy repositories credentials for their upstreams.
    #[must_use]
    pub fn upstream_auth(mut self, auth: Vec<wharf_server::upstream::UpstreamAuth>) -> Self {
        self.config.upstream_auth = auth;
        self
    }

    /// Sets how long proxies use upstream documents before revalidating.
    #[must_use]
    pub fn proxy_max_age(mut self, age: std::time::Duration) -> Self {
        self.config.proxy_max_age = age;
        self
    }

    /// Turns the groups' dependency-confusion guard on or off.
    #[must_use]
    pub fn confusion_guard(mut self, on: bool) -> Self {
        self.config.dependency_confusion_guard = on;
        self
    }

    /// Keeps blobs in a temporary directory instead of memory.
    #[must_use]
    pub fn fs_blobs(mut self) -> Self {
        self.fs_blobs = true;
        self
    }

    /// Starts the app with a hosted repository `main` per format and an admin token.
    ///
    /// # Panics
    /// When the test database cannot be set up.
    pub async fn build(self) -> TestApp {
        crate::logs::init();
        let db = TestDb::sqlite().await;
        let blob_dir = tempfile::tempdir().expect("tempdir");
        let blobs = if self.fs_blobs {
            BlobStore::from_config(
                &StorageConfig {
                    backend: Backend::Fs,
                    root: Some(blob_dir.path().to_path_buf()),
                    ..StorageConfig::default()
                },
                blob_dir.path(),
            )
            .await
            .expect("fs blobs")
        } else {
            BlobStore::memory()
        };
        let components = self.components;
        let state = AppState::new(
            Arc::new(db.db.clone()),
            blobs,
            self.config,
            &components.formats,
        );
        for format in &components.formats {
            state
                .store
                .create_repository(&NewRepository {
                    name: RepoName::new("main").expect("valid"),
                    format: format.name().into(),
                    kind: RepoKind::Hosted,
                    upstream: None,
                    members: vec![],
                    policy: RepoPolicy::default(),
                })
                .await
                .expect("main repository");
        }
        let admin = state
            .store
            .create_user(
                "admin",
                &hash_password("admin-password").expect("hash"),
                Scope::Admin,
            )
            .await
            .expect("admin user");
        let admin_token = generate_token();
        state
            .store
            .create_token(&NewToken {
                user_id: admin.id,
                name: "test".into(),
                hash: hash_token(&admin_token),
                scope: Scope::Admin,
                repository_id: None,
                expires_at: None,
            })
            .await
            .expect("admin token");
        TestApp {
            router: build_router(state.clone(), &components),
            state,
            admin_token,
            blob_dir,
            db,
        }
    }
}

/// The app under test.
pub struct TestApp {
    /// The router, called in process.
    pub router: Router,
    /// Its state, for looking behind the API.
    pub state: AppState,
    /// A token of user `admin` (password `admin-password`) with admin scope.
    pub admin_token: String,
    /// Where fs blobs live when asked for.
    pub blob_dir: tempfile::TempDir,
    db: TestDb,
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl TestResponse {
    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The body as text.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A router served on a loopback port until dropped.
pub struct Served {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Served {
    /// Serves `router` on a free loopback port.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start(router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            url,
            stop: Some(stop),
        }
    }

    /// Stops serving.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Every request a counted server answered: method, path and status.
pub type Seen = Arc<std::sync::Mutex<Vec<(String, String, u16)>>>;

impl Served {
    /// Serves `router` on a free loopback port, recording every request it answers (how
    /// proxy tests count upstream traffic).
    pub async fn counted(router: Router) -> (Self, Seen) {
        let seen: Seen = Arc::default();
        let record = seen.clone();
        let router = router.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let record = record.clone();
                async move {
                    let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
                    let response = next.run(req).await;
                    record
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((method, path, response.status().as_u16()));
                    response
                }
            },
        ));
        (Self::start(router).await, seen)
    }
}

impl Served {
    /// Serves `router`, but answers every request whose path `tampered` selects with other
    /// bytes than the real ones (how proxy tests prove upstream artifacts are verified).
    pub async fn tampering(router: Router, tampered: fn(&str) -> bool) -> Self {
        let router = router.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| async move {
                let lie = tampered(req.uri().path());
                let response = next.run(req).await;
                if lie {
                    axum::response::IntoResponse::into_response("not the real bytes")
                } else {
                    response
                }
            },
        ));
        Self::start(router).await
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop();
    }
}

impl TestApp {
    /// A builder, serving nothing until formats and seed APIs are named.
    #[must_use]
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// Sends a request.
    ///
    /// # Panics
    /// When the request cannot be built or the body cannot be read.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(builder.body(body.into()).expect("request"))
            .await
            .expect("infallible");
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// `GET` without credentials.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, &[], Body::empty()).await
    }

    /// A request with `Authorization: Bearer token`.
    pub async fn send_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: impl Into<Body>,
    ) -> TestResponse {
        let auth = format!("Bearer {token}");
        self.request(method, path, &[("authorization", &auth)], body)
            .await
    }

    /// A request with the admin token.
    pub async fn admin(&self, method: Method, path: &str, body: impl Into<Body>) -> TestResponse {
        self.send_as(&self.admin_token.clone(), method, path, body)
            .await
    }

    /// A JSON request with the admin token.
    pub async fn admin_json(
        &self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
    ) -> TestResponse {
        let auth = format!("Bearer {}", self.admin_token);
        self.request(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }

    /// Creates a user with `role` and returns a token with `scope`, optionally limited to the
    /// repository `format/name`.
    ///
    /// # Panics
    /// When the user or token cannot be created.
    pub async fn token(&self, user: &str, role: Scope, scope: Scope, repo: Option<&str>) -> String {
        let user = self
            .state
            .store
            .create_user(user, "not-a-password-hash", role)
            .await
            .expect("user");
        let repository_id = match repo {
            Some(spec) => {
                let (format, name) = spec.split_once('/').expect("format/name");
                Some(
                    self.state
                        .repository(format, name)
                        .await
                        .expect("repository")
                        .id,
                )
            }
            None => None,
        };
        let secret = generate_token();
        self.state
            .store
            .create_token(&NewToken {
                user_id: user.id,
                name: "test".into(),
                hash: hash_token(&secret),
                scope,
                repository_id,
                expires_at: None,
            })
            .await
            .expect("token");
        secret
    }

    /// The properties of package `name` of the repository `format/repo`, sorted by name.
    ///
    /// # Panics
    /// When the repository or the package does not exist.
    pub async fn package_properties(&self, spec: &str, name: &str) -> Vec<(String, String)> {
        let (format, repo) = spec.split_once('/').expect("format/name");
        let repo = self
            .state
            .repository(format, repo)
            .await
            .expect("repository");
        let package = self
            .state
            .store
            .package(repo.id, name)
            .await
            .expect("store")
            .expect("package");
        let mut properties = self
            .state
            .store
            .properties(wharf_core::model::PropertyOwner::Package(package.id))
            .await
            .expect("store");
        properties.sort();
        properties
    }

    /// What lists and search show of package `name` of `format/repo`: its description and
    /// keywords.
    pub async fn listing(&self, spec: &str, name: &str) -> (String, String) {
        let properties = self.package_properties(spec, name).await;
        let get = |key: &str| {
            properties
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        (
            get(wharf_core::catalog::DESCRIPTION),
            get(wharf_core::catalog::KEYWORDS),
        )
    }

    /// Closes the database.
    pub async fn finish(self) {
        self.db.finish().await;
    }
}
