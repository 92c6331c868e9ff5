//! Admin commands that work on the database and storage directly, without a running server:
//! repositories, users, tokens, garbage collection and fsck.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use wharf_core::auth::{generate_token, hash_password, hash_token};
use wharf_core::blob::BlobStore;
use wharf_core::model::{NewRepository, NewToken, RepoKind, RepoPolicy, Repository, Scope};
use wharf_core::names::{RepoName, UserName};
use wharf_core::store::{MetadataStore, RepositoryStore, UserStore};
use wharf_core::time::Timestamp;
use wharf_core::usecases;
use wharf_db::{Db, DbOptions};
use wharf_server::Format;

use crate::config::Config;

/// Opens (and migrates) the database and opens the blob store.
///
/// # Errors
/// When either backend cannot be opened.
pub async fn open(config: &Config) -> anyhow::Result<(Db, BlobStore)> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let db = Db::connect(
        &config.database_url(),
        &DbOptions {
            max_connections: config.database.max_connections,
            ..DbOptions::default()
        },
    )
    .await?;
    db.migrate().await?;
    let blobs = BlobStore::from_config(&config.storage, &config.data_dir.join("blobs")).await?;
    Ok((db, blobs))
}

/// Gives every compiled-in format without any repository a hosted repository `main`.
///
/// # Errors
/// A database error.
pub async fn ensure_default_repositories(
    db: &Db,
    formats: &[Arc<dyn Format>],
) -> anyhow::Result<()> {
    let existing = db.list_repositories().await?;
    for format in formats {
        if existing.iter().any(|r| r.format == format.name()) {
            continue;
        }
        match db
            .create_repository(&NewRepository {
                name: RepoName::new("main")?,
                format: format.name().to_owned(),
                kind: RepoKind::Hosted,
                upstream: None,
                members: vec![],
                policy: RepoPolicy::default(),
            })
            .await
        {
            Ok(_) => tracing::info!(format = format.name(), "created hosted repository main"),
            Err(wharf_core::Error::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Tells a fresh installation how to make its first admin token.
///
/// # Errors
/// A database error.
pub async fn hint_first_admin(db: &Db, config: &Config) -> anyhow::Result<()> {
    if db.count_users().await? == 0 {
        let dir = config.data_dir.display();
        tracing::warn!(
            "no users yet: create an admin and a token with\n  \
             echo 'a-long-password' | wharf --data-dir {dir} user create admin --role admin\n  \
             wharf --data-dir {dir} token create --user admin --scope admin"
        );
    }
    Ok(())
}

fn parse_scope(s: &str) -> anyhow::Result<Scope> {
    Scope::parse(s).with_context(|| format!("unknown scope {s:?}: read, write or admin"))
}

/// `wharf repo …`.
#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Create a repository.
    Create {
        /// Repository name.
        name: String,
        /// The repository's format.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(wharf_app::format_names()))]
        format: String,
        /// What it holds: its own packages, a cache of an upstream, or a view over members.
        #[arg(long, default_value = "hosted", value_parser = ["hosted", "proxy", "group"])]
        kind: String,
        /// The upstream URL of a proxy (default: the format's public registry).
        #[arg(long)]
        upstream: Option<String>,
        /// A member of a group, in order (repeat the flag).
        #[arg(long = "member")]
        members: Vec<String>,
        /// Allow re-uploading a file to replace it.
        #[arg(long)]
        allow_overwrite: bool,
        /// Upload limit in bytes.
        #[arg(long)]
        max_upload_size: Option<u64>,
        /// Require a token to read.
        #[arg(long)]
        private: bool,
        /// Remove versions this many days after their publish.
        #[arg(long)]
        retention_days: Option<u32>,
        /// Answer downloads with 307 to a presigned storage URL (S3).
        #[arg(long)]
        redirect_downloads: bool,
    },
    /// List repositories.
    List,
    /// Delete a repository and everything in it.
    Delete {
        /// `format/name`, or a name that is unique across formats.
        repo: String,
    },
}

async fn find_repository(db: &Db, spec: &str) -> anyhow::Result<Repository> {
    let repos = db.list_repositories().await?;
    let matches: Vec<Repository> = match spec.split_once('/') {
        Some((format, name)) => repos
            .into_iter()
            .filter(|r| r.format == format && r.name.as_str() == name)
            .collect(),
        None => repos
            .into_iter()
            .filter(|r| r.name.as_str() == spec)
            .collect(),
    };
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one match")),
        0 => bail!("repository {spec} not found"),
        _ => bail!("several repositories are named {spec}: write it as format/name"),
    }
}

/// Runs a repository command.
///
/// # Errors
/// On invalid input or a database error.
pub async fn repo(config: &Config, cmd: RepoCommand) -> anyhow::Result<ExitCode> {
    let (db, _) = open(config).await?;
    match cmd {
        RepoCommand::Create {
            name,
            format,
            kind,
            upstream,
            members,
            allow_overwrite,
            max_upload_size,
            private,
            retention_days,
            redirect_downloads,
        } => {
            let kind = RepoKind::parse(&kind)
                .with_context(|| format!("unknown kind {kind:?}: hosted, proxy or group"))?;
            let rules: Vec<_> = wharf_app::formats()
                .iter()
                .map(|f| f.repository_rules())
                .collect();
            let repo = usecases::create_repository(
                &db,
                &rules,
                NewRepository {
                    name: RepoName::new(name)?,
                    format,
                    kind,
                    upstream,
                    members,
                    policy: RepoPolicy {
                        allow_overwrite,
                        max_upload_size,
                        anonymous_read: !private,
                        retention_days: retention_days.filter(|d| *d > 0),
                        redirect_downloads,
                    },
                },
            )
            .await?;
            println!("{}/{}", repo.format, repo.name);
        }
        RepoCommand::List => {
            for r in db.list_repositories().await? {
                let source = match r.kind {
                    RepoKind::Proxy => format!("\tupstream={}", r.upstream.unwrap_or_default()),
                    RepoKind::Group => format!("\tmembers={}", r.members.join(",")),
                    RepoKind::Hosted => String::new(),
                };
                println!(
                    "{}/{}\t{}\toverwrite={}\tanonymous_read={}{source}",
                    r.format,
                    r.name,
                    r.kind.as_str(),
                    r.policy.allow_overwrite,
                    r.policy.anonymous_read
                );
            }
        }
        RepoCommand::Delete { repo } => {
            let repo = find_repository(&db, &repo).await?;
            db.delete_repository(repo.id).await?;
            eprintln!("deleted {}/{}", repo.format, repo.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `wharf user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        /// Login name.
        name: String,
        /// `read`, `write` or `admin`.
        #[arg(long, default_value = "write")]
        role: String,
    },
}

/// Runs a user command.
///
/// # Errors
/// On invalid input or a database error.
pub async fn user(config: &Config, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let UserCommand::Create { name, role } = cmd;
    let name = UserName::new(name)?;
    let role = parse_scope(&role)?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']);
    if password.chars().count() < 8 {
        bail!("the password (from standard input) must have at least 8 characters");
    }
    let (db, _) = open(config).await?;
    let hash = hash_password(password)?;
    db.create_user(name.as_str(), &hash, role).await?;
    eprintln!("created user {name} ({})", role.as_str());
    Ok(ExitCode::SUCCESS)
}

/// `wharf token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (only it) on standard output.
    Create {
        /// The user it belongs to.
        #[arg(long)]
        user: String,
        /// `read`, `write` or `admin`.
        #[arg(long, default_value = "write")]
        scope: String,
        /// Limit it to one repository (`format/name`, or a unique name).
        #[arg(long)]
        repo: Option<String>,
        /// A label.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Lifetime such as `90d`; none for a token that does not expire.
        #[arg(long)]
        expires_in: Option<humantime::Duration>,
    },
}

/// Runs a token command.
///
/// # Errors
/// On invalid input or a database error.
pub async fn token(config: &Config, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let TokenCommand::Create {
        user,
        scope,
        repo,
        name,
        expires_in,
    } = cmd;
    let scope = parse_scope(&scope)?;
    let (db, _) = open(config).await?;
    let (user, _) = db
        .user_by_name(&user)
        .await?
        .with_context(|| format!("user {user} not found"))?;
    let repository_id = match repo {
        Some(spec) => Some(find_repository(&db, &spec).await?.id),
        None => None,
    };
    let expires_at = expires_in
        .map(|d| wharf_core::auth::token_expiry(Timestamp::now(), d.into()))
        .transpose()?;
    let secret = generate_token();
    db.create_token(&NewToken {
        user_id: user.id,
        name,
        hash: hash_token(&secret),
        scope,
        repository_id,
        expires_at,
    })
    .await?;
    println!("{secret}");
    Ok(ExitCode::SUCCESS)
}

/// `wharf gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Keep unreferenced blobs younger than this (default: `gc.grace`).
    #[arg(long)]
    grace: Option<humantime::Duration>,
}

/// Collects garbage once.
///
/// # Errors
/// A database or storage error.
pub async fn gc(config: &Config, args: GcArgs) -> anyhow::Result<ExitCode> {
    let (db, blobs) = open(config).await?;
    let grace: Duration = args.grace.map_or(config.gc.grace, Into::into);
    let holder = format!("cli-{}", std::process::id());
    // The formats' upkeep first, as `serve` does (OCI unlinks blobs no manifest took).
    let state = wharf_server::AppState::new(
        std::sync::Arc::new(db.clone()),
        blobs.clone(),
        wharf_server::ServerConfig {
            instance: holder.clone(),
            ..wharf_server::ServerConfig::default()
        },
        &wharf_app::formats(),
    );
    let upkeep_removed = state.run_upkeep(grace).await;
    let collected =
        usecases::collect_garbage(&db as &dyn MetadataStore, &blobs, grace, &holder).await?;
    if let Some(report) = collected {
        let mut shown = serde_json::to_value(&report)?;
        shown["upkeep_removed"] = upkeep_removed.into();
        println!("{shown}");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("another process is collecting garbage; try again later");
        Ok(ExitCode::from(1))
    }
}

/// Checks every blob; exits 1 when anything referenced is damaged.
///
/// # Errors
/// A database or storage error that stops the check.
pub async fn fsck(config: &Config) -> anyhow::Result<ExitCode> {
    let (db, blobs) = open(config).await?;
    let report = usecases::fsck(&db, &blobs).await?;
    for sha in &report.missing {
        println!("missing\tsha256:{sha}");
    }
    for (sha, recorded, found) in &report.wrong_size {
        println!("wrong-size\tsha256:{sha}\trecorded={recorded}\tfound={found}");
    }
    for sha in &report.corrupt {
        println!("corrupt\tsha256:{sha}");
    }
    for sha in &report.orphans {
        println!("orphan\tsha256:{sha}");
    }
    for sha in &report.unfinished {
        println!("unfinished\tsha256:{sha}");
    }
    eprintln!(
        "checked {} blobs: {} missing, {} wrong size, {} corrupt, {} orphans, {} unfinished",
        report.checked,
        report.missing.len(),
        report.wrong_size.len(),
        report.corrupt.len(),
        report.orphans.len(),
        report.unfinished.len()
    );
    Ok(if report.damaged() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
