//! `wharf serve`: open the backends, make sure every format has a repository, start the
//! background collector, and serve until SIGINT or SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use wharf_core::usecases::collect_garbage;
use wharf_server::connections::ConnectionLimits;
use wharf_server::{AppState, ServerConfig, build_router};

use crate::admin;
use crate::config::{Config, LogFormat};

fn init_logging(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Runs the server.
///
/// # Errors
/// When a backend cannot be opened or the address cannot be bound.
pub async fn run(config: Config) -> anyhow::Result<()> {
    init_logging(&config);
    let (db, blobs) = admin::open(&config).await?;
    let components = wharf_app::components(&config.settings());
    admin::ensure_default_repositories(&db, &components.formats).await?;
    admin::hint_first_admin(&db, &config).await?;
    let server = ServerConfig {
        public_url: config.server.public_url.clone(),
        default_max_upload: config.server.max_upload_size,
        request_timeout: config.server.request_timeout,
        compat_root: config.compat.root.clone(),
        gc_grace: config.gc.grace,
        proxy_max_age: config.proxy.metadata_max_age,
        upstream_timeout: config.proxy.upstream_timeout,
        dependency_confusion_guard: config.proxy.dependency_confusion_guard,
        upstream_auth: upstream_auth(&config)?,
        login_limits: wharf_server::logins::LoginLimits {
            per_user: config.auth.max_failed_logins_per_user,
            per_address: config.auth.max_failed_logins_per_address,
            window: config.auth.failed_login_window,
        },
        client_address_header: config.auth.client_address_header.clone(),
        ..ServerConfig::default()
    };
    let state = AppState::new(Arc::new(db), blobs, server, &components.formats);
    if config.gc.enabled {
        tokio::spawn(collect_periodically(state.clone(), config.gc.interval));
    }
    tokio::spawn(flush_downloads_periodically(state.clone()));
    let app = build_router(state.clone(), &components);
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("binding {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "wharf is listening on http://{addr}");
    let limits = ConnectionLimits {
        header_read_timeout: config.server.header_read_timeout,
        idle_timeout: config.server.idle_timeout,
        max_connections: config.server.max_connections,
    };
    wharf_server::connections::serve(listener, app, limits, shutdown())
        .await
        .context("serving")?;
    if let Err(e) = state.downloads.flush(state.store.as_ref()).await {
        tracing::error!(error = %e, "download counts could not be saved");
    }
    tracing::info!("wharf stopped");
    Ok(())
}

/// The proxy credentials of the configuration, read.
fn upstream_auth(config: &Config) -> anyhow::Result<Vec<wharf_server::upstream::UpstreamAuth>> {
    config
        .proxy
        .credentials
        .iter()
        .map(|(repository, credential)| {
            let Some((format, name)) = repository.split_once('/') else {
                anyhow::bail!("proxy.credentials keys are format/name, not {repository:?}");
            };
            Ok(wharf_server::upstream::UpstreamAuth {
                format: format.to_owned(),
                name: name.to_owned(),
                authorization: credential.authorization(repository)?,
                token_service: credential.token_service.clone(),
            })
        })
        .collect()
}

async fn collect_periodically(state: AppState, interval: std::time::Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        state.run_upkeep(state.config.gc_grace).await;
        if let Err(e) = collect_garbage(
            state.store.as_ref(),
            &state.blobs,
            state.config.gc_grace,
            &state.config.instance,
        )
        .await
        {
            tracing::error!(error = %e, "garbage collection failed");
        }
    }
}

async fn flush_downloads_periodically(state: AppState) {
    let mut ticker = tokio::time::interval(wharf_server::downloads::FLUSH_EVERY);
    loop {
        ticker.tick().await;
        if let Err(e) = state.downloads.flush(state.store.as_ref()).await {
            tracing::warn!(error = %e, "download counts could not be saved; kept for the next try");
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
