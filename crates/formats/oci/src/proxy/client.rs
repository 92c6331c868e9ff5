//! Talking to the upstream registry of a proxy repository as docker does: a request goes
//! without credentials first; a `401` with a Bearer challenge sends Wharf to the challenge's
//! realm for a token, which is kept until it expires and sent as `Bearer`; a `401` with a
//! Basic challenge is answered with the credentials themselves. The repository's configured
//! credentials go only to its upstream's origin and to the token service its configuration
//! names (Docker Hub's `auth.docker.io` is another host than the registry, by design); a realm
//! anywhere else is asked for an anonymous token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::{HeaderValue, StatusCode, header};
use reqwest::Method;
use serde::Deserialize;
use wharf_core::model::Repository;
use wharf_core::{Error, Result};
use wharf_server::AppState;
use wharf_server::redact::transport_error;
use wharf_server::upstream::Credentials;

/// How long a token without `expires_in` is used (the token spec's default is 60 s).
const DEFAULT_TOKEN_TTL: Duration = Duration::from_mins(1);

/// Upstream tokens by (repository id, scope), shared by the requests of this process.
#[derive(Debug, Default)]
pub(crate) struct Tokens(Mutex<HashMap<(i64, String), (String, Instant)>>);

impl Tokens {
    fn get(&self, key: &(i64, String)) -> Option<String> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(token, _)| token.clone())
    }

    fn put(&self, key: (i64, String), token: String, ttl: Duration) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(key, (token, Instant::now() + ttl));
    }
}

/// The upstream of one proxy repository: its base URL and the namespace its images live in
/// (`http://host:5000/main` → base `http://host:5000`, prefix `main/`).
pub(crate) struct Remote<'a> {
    pub state: &'a AppState,
    pub tokens: &'a Tokens,
    pub repo: &'a Repository,
    base: String,
    prefix: String,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

impl<'a> Remote<'a> {
    pub fn new(state: &'a AppState, tokens: &'a Tokens, repo: &'a Repository) -> Result<Self> {
        let upstream = repo
            .upstream
            .as_deref()
            .ok_or_else(|| Error::invalid(format!("proxy {} has no upstream", repo.name)))?;
        let url = reqwest::Url::parse(upstream)
            .map_err(|e| Error::invalid(format!("upstream {upstream}: {e}")))?;
        let base = url.origin().ascii_serialization();
        let path = url.path().trim_matches('/');
        let path = path.strip_prefix("v2").unwrap_or(path).trim_matches('/');
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        Ok(Self {
            state,
            tokens,
            repo,
            base,
            prefix,
        })
    }

    /// `{base}/v2/{prefix}{image}/{rest}`.
    pub fn url(&self, image: &str, rest: &str) -> String {
        format!("{}/v2/{}{image}/{rest}", self.base, self.prefix)
    }

    /// Sends `method url` with `accept`, going through the upstream's challenge once.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        accept: &[&str],
    ) -> Result<reqwest::Response> {
        let build = |auth: Option<&HeaderValue>| {
            let mut request = self.state.upstream.request(method.clone(), url);
            for a in accept {
                request = request.header(header::ACCEPT, *a);
            }
            if let Some(auth) = auth {
                request = request.header(header::AUTHORIZATION, auth.clone());
            }
            request
        };
        let err = |e: reqwest::Error| transport_error("upstream", url, e);
        let scope_key = (self.repo.id, scope_of(url));
        let cached = self.tokens.get(&scope_key).and_then(|t| bearer(&t));
        let response = build(cached.as_ref()).send().await.map_err(err)?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = challenge_of(&response);
        let credentials = self.state.upstream.credentials(self.repo);
        let Some(answer) =
            answer_challenge(self.state, url, &challenge, credentials.as_ref()).await?
        else {
            return Ok(response);
        };
        if let Some((token, ttl)) = answer.token {
            self.tokens.put(scope_key, token, ttl);
        }
        build(Some(&answer.authorization)).send().await.map_err(err)
    }
}

/// The `WWW-Authenticate` of a refused request (empty without one).
pub fn challenge_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// How to repeat a request a registry refused with `challenge`.
pub struct Answer {
    /// The `Authorization` to send.
    pub authorization: HeaderValue,
    /// The token behind it and how long it lives, for a Bearer challenge.
    pub token: Option<(String, Duration)>,
}

/// Answers the `WWW-Authenticate` challenge of a request to `url`: a Bearer one with a token
/// from its realm, a Basic one with `credentials`. The credentials go only where they are bound
/// ([`Credentials::for_url`]): a realm elsewhere is asked without them. `None` when there is
/// nothing to answer with.
pub async fn answer_challenge(
    state: &AppState,
    url: &str,
    challenge: &str,
    credentials: Option<&Credentials>,
) -> Result<Option<Answer>> {
    if let Some(params) = challenge.strip_prefix("Bearer ") {
        let params = challenge_params(params);
        let realm = params
            .get("realm")
            .ok_or_else(|| Error::Upstream("the upstream's challenge names no realm".into()))?;
        let bound = credentials.and_then(|c| c.for_url(realm));
        if credentials.is_some() && bound.is_none() {
            tracing::warn!(
                realm,
                "a registry named a token service its credentials are not bound to; asking it anonymously"
            );
        }
        let (token, ttl) = token(state, realm, &params, bound).await?;
        return Ok(bearer(&token).map(|authorization| Answer {
            authorization,
            token: Some((token, ttl)),
        }));
    }
    Ok(credentials.and_then(|c| c.for_url(url)).map(|c| Answer {
        authorization: c.clone(),
        token: None,
    }))
}

/// The realm of a Bearer challenge, if it is one.
pub fn challenge_realm(challenge: &str) -> Option<String> {
    let params = challenge_params(challenge.strip_prefix("Bearer ")?);
    params.get("realm").cloned()
}

/// A token from `realm` for the challenge's service and scope, and how long to use it.
async fn token(
    state: &AppState,
    realm: &str,
    params: &HashMap<String, String>,
    credentials: Option<&HeaderValue>,
) -> Result<(String, Duration)> {
    let mut request = state.upstream.request(Method::GET, realm);
    let query: Vec<(&str, &str)> = ["service", "scope"]
        .iter()
        .filter_map(|k| params.get(*k).map(|v| (*k, v.as_str())))
        .collect();
    request = request.query(&query);
    if let Some(credentials) = credentials {
        request = request.header(header::AUTHORIZATION, credentials.clone());
    }
    let err = |e: reqwest::Error| transport_error("token service", realm, e);
    let response = request.send().await.map_err(err)?;
    if !response.status().is_success() {
        return Err(Error::Upstream(format!(
            "token service {realm} answered {}",
            response.status()
        )));
    }
    let answer: TokenAnswer = response.json().await.map_err(err)?;
    let token = answer
        .token
        .or(answer.access_token)
        .ok_or_else(|| Error::Upstream(format!("token service {realm} gave no token")))?;
    let ttl = answer
        .expires_in
        .map_or(DEFAULT_TOKEN_TTL, Duration::from_secs)
        .saturating_sub(Duration::from_secs(5));
    Ok((token, ttl))
}

pub(crate) fn bearer(token: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The image part of an upstream URL, which the token's scope is for.
fn scope_of(url: &str) -> String {
    let path = url.split_once("/v2/").map_or(url, |(_, p)| p);
    ["/blobs/", "/manifests/", "/tags/"]
        .iter()
        .find_map(|m| path.split_once(m).map(|(name, _)| name.to_owned()))
        .unwrap_or_else(|| path.to_owned())
}

/// `realm="…",service="…",scope="…"` as a map.
fn challenge_params(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((v, n)) => (v.to_owned(), n),
                None => (quoted.to_owned(), ""),
            }
        } else {
            match after.split_once(',') {
                Some((v, n)) => (v.trim().to_owned(), n),
                None => (after.trim().to_owned(), ""),
            }
        };
        out.insert(key, value);
        rest = next.trim_start_matches(',').trim();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_read_with_quoted_commas() {
        let p = challenge_params(
            r#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        );
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:library/alpine:pull,push");
    }

    #[test]
    fn the_scope_is_the_image() {
        assert_eq!(
            scope_of("http://h/v2/main/team/app/manifests/1.0"),
            "main/team/app"
        );
        assert_eq!(
            scope_of("http://h/v2/library/alpine/blobs/sha256:ab"),
            "library/alpine"
        );
    }
}
