//! The `wharf` binary: parses flags, loads configuration, picks the backends, lists the
//! compiled-in formats, and runs `serve` or an admin command against the database directly.

mod admin;
mod config;
mod platform_config;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use config::{Config, Overrides};

/// Wharf: one self-hosted registry for every kind of package.
#[derive(Debug, Parser)]
#[command(
    name = "wharf",
    version,
    about = "Wharf: one self-hosted registry for every kind of package — publish, install and cache them with the clients you already use."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Data directory (SQLite database and fs blobs by default).
    #[arg(long, global = true, env = "WHARF_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long, global = true, env = "WHARF_CONFIG")]
    config: Option<PathBuf>,
    /// The Platform Package Repository's `pr-config.json`, read under the configuration file.
    #[arg(long, global = true, env = "WHARF_PLATFORM_CONFIG")]
    platform_config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the registry.
    Serve(ServeArgs),
    /// Show configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Bring the database schema up to date.
    Migrate,
    /// Manage repositories.
    #[command(subcommand)]
    Repo(admin::RepoCommand),
    /// Manage users.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Delete blobs no file references (after the grace period).
    Gc(admin::GcArgs),
    /// Check that every blob exists with the right size and digest.
    Fsck,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WHARF_LISTEN")]
    listen: Option<SocketAddr>,
    /// Also serve a seed API at `/` (`platform`, `pantry` or `image-uploader`).
    #[arg(long, env = "WHARF_COMPAT_ROOT")]
    compat_root: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration as TOML, secrets redacted.
    Print,
}

fn load(global: &Global, serve: Option<&ServeArgs>) -> anyhow::Result<Config> {
    config::load(
        global.config.as_deref(),
        global.platform_config.as_deref(),
        &Overrides {
            data_dir: global.data_dir.clone(),
            listen: serve.and_then(|s| s.listen),
            compat_root: serve.and_then(|s| s.compat_root.clone()),
        },
    )
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let serve_args = match &cli.command {
        Command::Serve(args) => Some(args),
        _ => None,
    };
    let config = load(&cli.global, serve_args)?;
    match cli.command {
        Command::Serve(_) => serve::run(config).await.map(|()| ExitCode::SUCCESS),
        Command::Config(ConfigCommand::Print) => {
            print!("{}", config.to_toml()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            admin::open(&config).await?;
            eprintln!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Repo(cmd) => admin::repo(&config, cmd).await,
        Command::User(cmd) => admin::user(&config, cmd).await,
        Command::Token(cmd) => admin::token(&config, cmd).await,
        Command::Gc(args) => admin::gc(&config, args).await,
        Command::Fsck => admin::fsck(&config).await,
    }
}

/// What this build serves, for `wharf --help`: the formats and seed APIs of the composition
/// root.
fn served() -> String {
    format!(
        "Formats: {} (clients point at http://HOST/{{format}}/{{repository}}/; OCI at HOST/{{repository}}/…).\n\
         Seed APIs: {} (compat.root serves one at /).\n\
         Start with `wharf serve`; the API and its documentation are at /api/v1 and /docs.",
        wharf_app::format_names().join(", "),
        wharf_app::compat_roots().join(", ")
    )
}

fn main() -> ExitCode {
    let matches = Cli::command().after_help(served()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wharf: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wharf: {e:#}");
            ExitCode::from(2)
        }
    }
}
