//! Configuration: defaults < the Platform's `pr-config.json` (`--platform-config`) < TOML file <
//! `WHARF_*` environment (`WHARF_SECTION__KEY`) < flags.
//! Any key may be read from a file instead with a `_FILE` suffix on its variable
//! (`WHARF_DATABASE__URL_FILE=/run/secrets/db`). Secrets are redacted when printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use wharf_app::{PantryConfig, PlatformConfig, Settings, UploaderConfig};
use wharf_core::Secret;
use wharf_core::blob::StorageConfig;

const ENV_PREFIX: &str = "WHARF_";
/// Variables that are flags of their own, not configuration keys.
const NOT_KEYS: &[&str] = &["config", "platform_config", "listen", "compat_root"];
/// `WHARF_TEST_*` variables belong to the test suite (databases, tools), never to the server.
const TEST_PREFIX: &str = "test_";

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database and the fs blobs live by default.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `[server]`.
    #[serde(default)]
    pub server: ServerSection,
    /// `[database]`.
    #[serde(default)]
    pub database: DatabaseSection,
    /// `[storage]`.
    #[serde(default)]
    pub storage: StorageConfig,
    /// `[gc]`.
    #[serde(default)]
    pub gc: GcSection,
    /// `[proxy]`.
    #[serde(default)]
    pub proxy: ProxySection,
    /// `[compat]`.
    #[serde(default)]
    pub compat: CompatSection,
    /// `[platform]`: the Platform Package Repository API.
    #[serde(default)]
    pub platform: PlatformConfig,
    /// `[pantry]`: the Pantry registry API.
    #[serde(default)]
    pub pantry: PantryConfig,
    /// `[image_uploader]`: the package image uploader.
    #[serde(default)]
    pub image_uploader: UploaderConfig,
    /// `[auth]`: sign-ins.
    #[serde(default)]
    pub auth: AuthSection,
    /// `[log]`.
    #[serde(default)]
    pub log: LogSection,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./wharf-data")
}

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL clients use, when Wharf is behind a proxy.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Upload limit in bytes for repositories that set none.
    #[serde(default = "default_max_upload")]
    pub max_upload_size: u64,
    /// Longest a request may take.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How long a client has to send a request's headers.
    #[serde(default = "default_header_read_timeout", with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// How long a connection with no request in flight stays open.
    #[serde(default = "default_idle_timeout", with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// How many connections are served at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_max_upload() -> u64 {
    10 << 30
}
fn default_timeout() -> Duration {
    Duration::from_hours(1)
}
fn default_header_read_timeout() -> Duration {
    wharf_server::connections::ConnectionLimits::default().header_read_timeout
}
fn default_idle_timeout() -> Duration {
    wharf_server::connections::ConnectionLimits::default().idle_timeout
}
fn default_max_connections() -> usize {
    wharf_server::connections::ConnectionLimits::default().max_connections
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            public_url: None,
            max_upload_size: default_max_upload(),
            request_timeout: default_timeout(),
            header_read_timeout: default_header_read_timeout(),
            idle_timeout: default_idle_timeout(),
            max_connections: default_max_connections(),
        }
    }
}

/// `[auth]`: how many failed sign-ins with a password are allowed, and where the client's
/// address comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// Failed sign-ins of one user within `failed_login_window`.
    #[serde(default = "default_failed_per_user")]
    pub max_failed_logins_per_user: u32,
    /// Failed sign-ins from one client address within `failed_login_window`.
    #[serde(default = "default_failed_per_address")]
    pub max_failed_logins_per_address: u32,
    /// The window, and how long a locked user or address waits.
    #[serde(default = "default_failed_window", with = "humantime_serde")]
    pub failed_login_window: Duration,
    /// Behind a reverse proxy: the header it names the client's address in
    /// (`x-forwarded-for`; the last entry is taken).
    #[serde(default)]
    pub client_address_header: Option<String>,
}

fn default_failed_per_user() -> u32 {
    wharf_server::logins::LoginLimits::default().per_user
}
fn default_failed_per_address() -> u32 {
    wharf_server::logins::LoginLimits::default().per_address
}
fn default_failed_window() -> Duration {
    wharf_server::logins::LoginLimits::default().window
}

impl Default for AuthSection {
    fn default() -> Self {
        Self {
            max_failed_logins_per_user: default_failed_per_user(),
            max_failed_logins_per_address: default_failed_per_address(),
            failed_login_window: default_failed_window(),
            client_address_header: None,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    /// `sqlite://…` or `postgres://…`; default: SQLite at `<data_dir>/wharf.db`.
    #[serde(default)]
    pub url: Option<Secret>,
    /// Reader connections (SQLite) or connections (PostgreSQL).
    #[serde(default = "default_connections")]
    pub max_connections: u32,
}

fn default_connections() -> u32 {
    8
}

impl Default for DatabaseSection {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: default_connections(),
        }
    }
}

/// `[gc]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcSection {
    /// Whether `serve` collects in the background.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Keep unreferenced blobs this long.
    #[serde(default = "default_grace", with = "humantime_serde")]
    pub grace: Duration,
    /// How often to collect.
    #[serde(default = "default_interval", with = "humantime_serde")]
    pub interval: Duration,
}

fn yes() -> bool {
    true
}
fn default_grace() -> Duration {
    Duration::from_hours(24)
}
fn default_interval() -> Duration {
    Duration::from_hours(1)
}

impl Default for GcSection {
    fn default() -> Self {
        Self {
            enabled: true,
            grace: default_grace(),
            interval: default_interval(),
        }
    }
}

/// `[proxy]`: proxy and group repositories.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySection {
    /// How long an upstream metadata document is used before it is revalidated.
    #[serde(default = "default_max_age", with = "humantime_serde")]
    pub metadata_max_age: Duration,
    /// Longest wait for an upstream to send data.
    #[serde(default = "default_upstream_timeout", with = "humantime_serde")]
    pub upstream_timeout: Duration,
    /// Whether a group hides proxy members' versions of a name that a hosted member has.
    #[serde(default = "yes")]
    pub dependency_confusion_guard: bool,
    /// Credentials a proxy repository sends its upstream, by `format/name`
    /// (`[proxy.credentials."npm/private"]`).
    #[serde(default)]
    pub credentials: std::collections::BTreeMap<String, UpstreamCredential>,
}

/// How a proxy repository signs in to its upstream: a token (sent as `Bearer`), or a user
/// name and password (sent as `Basic`); secrets may be read from files.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamCredential {
    /// A token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// A file holding the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// A user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// That user's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// A file holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// A token service on another origin than the upstream that may receive the credentials
    /// when the upstream's challenge names it (OCI: `https://auth.docker.io` for Docker Hub).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_service: Option<String>,
}

impl UpstreamCredential {
    /// The `Authorization` header value.
    ///
    /// # Errors
    /// When neither or both kinds are given, or a file cannot be read.
    pub fn authorization(&self, repository: &str) -> anyhow::Result<String> {
        let read = |path: &Path| -> anyhow::Result<String> {
            Ok(std::fs::read_to_string(path)
                .with_context(|| {
                    format!(
                        "reading {} for proxy.credentials.{repository:?}",
                        path.display()
                    )
                })?
                .trim_end_matches(['\r', '\n'])
                .to_owned())
        };
        let token = match (&self.token, &self.token_file) {
            (Some(t), _) => Some(t.0.clone()),
            (None, Some(path)) => Some(read(path)?),
            (None, None) => None,
        };
        let password = match (&self.password, &self.password_file) {
            (Some(p), _) => Some(p.0.clone()),
            (None, Some(path)) => Some(read(path)?),
            (None, None) => None,
        };
        match (token, &self.username, password) {
            (Some(token), None, None) => Ok(format!("Bearer {token}")),
            (None, Some(user), Some(password)) => {
                use base64::Engine as _;
                let pair =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                Ok(format!("Basic {pair}"))
            }
            _ => bail!(
                "proxy.credentials.{repository:?} needs either a token (token or token_file) or a username with a password (password or password_file)"
            ),
        }
    }
}

fn default_max_age() -> Duration {
    Duration::from_mins(10)
}
fn default_upstream_timeout() -> Duration {
    Duration::from_mins(1)
}

impl Default for ProxySection {
    fn default() -> Self {
        Self {
            metadata_max_age: default_max_age(),
            upstream_timeout: default_upstream_timeout(),
            dependency_confusion_guard: true,
            credentials: std::collections::BTreeMap::new(),
        }
    }
}

/// `[compat]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompatSection {
    /// A seed API to serve at `/` as well: `platform`, `pantry` or `image-uploader`.
    #[serde(default)]
    pub root: Option<String>,
}

/// `[log]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `text` or `json`.
    #[serde(default = "default_log_format")]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `wharf=debug` (`RUST_LOG` wins when set).
    #[serde(default = "default_log_level")]
    pub level: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

fn default_log_format() -> LogFormat {
    LogFormat::Text
}
fn default_log_level() -> String {
    "info".into()
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            format: default_log_format(),
            level: default_log_level(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
            server: ServerSection::default(),
            database: DatabaseSection::default(),
            storage: StorageConfig::default(),
            gc: GcSection::default(),
            proxy: ProxySection::default(),
            compat: CompatSection::default(),
            platform: PlatformConfig::default(),
            pantry: PantryConfig::default(),
            image_uploader: UploaderConfig::default(),
            auth: AuthSection::default(),
            log: LogSection::default(),
        }
    }
}

/// Values given as flags, the top layer.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--compat-root`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compat_root: Option<String>,
}

/// Reads `KEY_FILE` variables into their keys.
fn file_variables() -> anyhow::Result<Figment> {
    let mut layer = Figment::new();
    for (name, _) in std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))) {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some(key) = rest.strip_suffix("_FILE") else {
            continue;
        };
        let path = std::env::var(&name).with_context(|| format!("{name} is not UTF-8"))?;
        let value =
            std::fs::read_to_string(&path).with_context(|| format!("{name}: reading {path}"))?;
        let dotted = key.to_lowercase().replace("__", ".");
        layer = layer.merge(Serialized::global(
            &dotted,
            value.trim_end_matches(['\n', '\r']),
        ));
    }
    Ok(layer)
}

/// Loads the configuration from every layer.
///
/// # Errors
/// A message naming the file, key or value that is wrong.
pub fn load(
    file: Option<&Path>,
    platform: Option<&Path>,
    overrides: &Overrides,
) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(platform) = platform {
        figment = figment.merge(Serialized::defaults(crate::platform_config::layer(
            platform,
        )?));
    }
    if let Some(file) = file {
        if !file.is_file() {
            bail!("config file {} does not exist", file.display());
        }
        figment = figment.merge(Toml::file_exact(file));
    }
    figment = figment
        .merge(
            Env::prefixed(ENV_PREFIX)
                .split("__")
                .ignore(NOT_KEYS)
                .filter(|k| {
                    let key = k.as_str().to_ascii_lowercase();
                    !key.ends_with("_file") && !key.starts_with(TEST_PREFIX)
                }),
        )
        .merge(file_variables()?);
    if let Some(dir) = &overrides.data_dir {
        figment = figment.merge(Serialized::global("data_dir", dir));
    }
    if let Some(listen) = overrides.listen {
        figment = figment.merge(Serialized::global("server.listen", listen.to_string()));
    }
    if let Some(root) = &overrides.compat_root {
        figment = figment.merge(Serialized::global("compat.root", root));
    }
    let config: Config = figment.extract().map_err(|e| {
        let details: Vec<String> = e.into_iter().map(|error| format!("\n  {error}")).collect();
        anyhow::anyhow!("invalid configuration:{}", details.concat())
    })?;
    let roots = wharf_app::compat_roots();
    if let Some(root) = &config.compat.root
        && !roots.contains(&root.as_str())
    {
        bail!(
            "invalid configuration: compat.root = {root:?}; compatibility roots are {}",
            roots.join(", ")
        );
    }
    Ok(config)
}

impl Config {
    /// The settings of the seed APIs.
    #[must_use]
    pub fn settings(&self) -> Settings {
        Settings {
            platform: self.platform.clone(),
            pantry: self.pantry.clone(),
            image_uploader: self.image_uploader.clone(),
        }
    }

    /// The database URL: the configured one, or SQLite in the data directory.
    #[must_use]
    pub fn database_url(&self) -> String {
        self.database.url.as_ref().map_or_else(
            || wharf_db::Db::sqlite_url(&self.data_dir.join("wharf.db")),
            |s| s.0.clone(),
        )
    }

    /// The configuration as TOML, secrets redacted.
    ///
    /// # Errors
    /// Never in practice; TOML serialization of these types cannot fail.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::{Secret, UpstreamCredential};

    #[test]
    fn upstream_credentials_become_one_authorization_header() {
        let token = UpstreamCredential {
            token: Some(Secret("t0ken".into())),
            ..UpstreamCredential::default()
        };
        assert_eq!(token.authorization("npm/p").unwrap(), "Bearer t0ken");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "pass\n").unwrap();
        let basic = UpstreamCredential {
            username: Some("user".into()),
            password_file: Some(file),
            ..UpstreamCredential::default()
        };
        assert_eq!(basic.authorization("npm/p").unwrap(), "Basic dXNlcjpwYXNz");
        let both = UpstreamCredential {
            username: Some("user".into()),
            ..token
        };
        let err = both.authorization("npm/p").unwrap_err().to_string();
        assert!(err.contains("either a token"), "{err}");
        assert!(
            UpstreamCredential::default()
                .authorization("npm/p")
                .is_err()
        );
    }
}
