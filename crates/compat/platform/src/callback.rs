//! The optional `package_callback`: after an upload or a delete, the original POSTs
//! `{"data":[{"id","state","timestamp"}],"timestamp"}` to a configured URL. Sent in the
//! background; a failing receiver is logged and never fails the request.

use serde_json::json;
use wharf_core::time::Timestamp;

/// What happened to the package.
#[derive(Debug, Clone, Copy)]
pub enum PackageEvent {
    /// Uploaded.
    Created,
    /// Deleted.
    NotCreated,
}

/// Sends the event to `url`, in the background.
pub fn notify(client: &reqwest::Client, url: &str, file: &str, event: PackageEvent) {
    let now = Timestamp::now().0;
    let id = file.strip_suffix(".tar.gz").unwrap_or(file);
    let state = match event {
        PackageEvent::Created => "CREATED",
        PackageEvent::NotCreated => "NOTCREATED",
    };
    let body = json!({
        "data": [{"id": id, "state": state, "timestamp": now}],
        "timestamp": now,
    });
    let request = client.post(url).json(&body);
    let url = url.to_owned();
    tokio::spawn(async move {
        match request.send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => tracing::warn!(
                url,
                status = r.status().as_u16(),
                "package callback refused"
            ),
            Err(e) => tracing::warn!(url, error = %e, "package callback failed"),
        }
    });
}
