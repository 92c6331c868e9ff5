//! A real `wharf` process on a free port, for end-to-end tests with real clients.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `wharf serve`, killed when dropped.
pub struct WharfProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Where its output goes.
    pub log_path: PathBuf,
    bin: PathBuf,
    env: Vec<(String, String)>,
}

/// A port nobody listens on right now.
///
/// # Panics
/// When no port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl WharfProcess {
    /// Starts `bin serve` with `--data-dir data_dir`, extra arguments and environment, and
    /// waits until `/readyz` answers.
    ///
    /// # Panics
    /// When the process does not become ready within 20 s; its log is printed.
    #[must_use]
    pub fn start(bin: &Path, data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let port = free_port();
        let log_path = crate::logs::file("wharf")
            .unwrap_or_else(|| data_dir.join(format!("wharf-{port}.log")));
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut command = Command::new(bin);
        command
            .arg("--data-dir")
            .arg(data_dir)
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .env_remove("WHARF_CONFIG")
            .env("RUST_LOG", crate::logs::FILTER)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("spawn wharf");
        let process = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_path_buf(),
            log_path,
            bin: bin.to_path_buf(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        process.wait_ready();
        process
    }

    fn wait_ready(&self) {
        let client = reqwest::blocking::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(r) = client.get(format!("{}/readyz", self.base_url)).send()
                && r.status().is_success()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("wharf did not become ready:\n{}", self.log());
    }

    /// What the process printed so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Runs another `wharf` command on the same data directory and environment (database,
    /// storage); returns stdout.
    ///
    /// # Panics
    /// When the command fails.
    #[must_use]
    pub fn admin(&self, args: &[&str], stdin: Option<&str>) -> String {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        run_admin_with(&self.bin, &self.data_dir, args, stdin, &env)
    }

    /// Kills the process at once (`SIGKILL`): no graceful shutdown, as a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Creates user `name` with role admin and returns an admin token.
    #[must_use]
    pub fn admin_token(&self, name: &str) -> String {
        let _ = self.admin(
            &["user", "create", name, "--role", "admin"],
            Some("correct-horse-battery"),
        );
        self.admin(
            &["token", "create", "--user", name, "--scope", "admin"],
            None,
        )
        .trim()
        .to_owned()
    }
}

/// Runs `bin --data-dir dir args…` and returns stdout.
///
/// # Panics
/// When the command exits non-zero.
#[must_use]
pub fn run_admin(bin: &Path, data_dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    run_admin_with(bin, data_dir, args, stdin, &[])
}

fn run_admin_with(
    bin: &Path,
    data_dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> String {
    use std::io::Write;
    let mut child = Command::new(bin)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("WHARF_CONFIG")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wharf");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "wharf {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

impl Drop for WharfProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
