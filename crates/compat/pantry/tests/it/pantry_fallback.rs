//! The original's npm fallback as Wharf does it: the Pantry API over a group of a hosted
//! repository and a proxy, whose tarballs are fetched once and kept, and whose npm search
//! completes Pantry searches.

use http::Method;
use serde_json::json;
use sha2::Digest as _;
use wharf_compat_pantry::{PantryApi, PantryConfig};
use wharf_test_support::Served;

use crate::{good, publish_as};

#[tokio::test]
async fn pantry_over_a_group_falls_back_to_the_proxy_and_keeps_what_it_fetched() {
    let upstream = crate::app().await;
    let theirs = upstream.admin_token.clone();
    for (name, version) in [("left-pad", "1.3.0"), ("@acme/util", "1.0.0")] {
        let r = publish_as(&upstream, &theirs, name, &good(name, version)).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let mut served = Served::start(upstream.router.clone()).await;
    let app = crate::builder_with(PantryApi::new(PantryConfig {
        repository: "all".into(),
        ..PantryConfig::default()
    }))
    .build()
    .await;
    for body in [
        json!({"name": "npmjs", "format": "npm", "kind": "proxy",
               "upstream": format!("{}/npm/main/", served.url)}),
        json!({"name": "all", "format": "npm", "kind": "group", "members": ["main", "npmjs"]}),
    ] {
        let r = app
            .admin_json(Method::POST, "/api/v1/repositories", &body)
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let ours = app.admin_token.clone();
    let r = publish_as(&app, &ours, "@acme/util", &good("@acme/util", "2.0.0")).await;
    assert_eq!(r.status, 201, "{}", r.text());

    // Nothing fetched yet: the search is completed from the upstream's npm search.
    let searched = app.get("/pantry/search?q=left").await.json();
    assert_eq!(searched["results"][0]["name"], "left-pad", "{searched}");
    assert_eq!(searched["results"][0]["version"], "1.3.0");
    assert_eq!(searched["results"][0]["downloads"], 0);

    let meta = app.get("/pantry/packages/left-pad").await;
    assert_eq!(meta.status, 200, "{}", meta.text());
    let meta = meta.json();
    assert_eq!(meta["version"], "1.3.0");
    assert_eq!(meta["description"], "left-pad things");
    assert!(
        meta["checksum"].as_str().unwrap().starts_with("sha1:"),
        "not fetched yet: the upstream's SHA-1, as the original: {meta}"
    );
    assert_eq!(
        meta["tarballUrl"],
        "http://localhost/pantry/packages/left-pad/1.3.0/tarball"
    );
    let versions = app.get("/pantry/packages/left-pad/versions").await.json();
    assert_eq!(versions, json!({"versions": ["1.3.0"]}));

    let none = app.get("/pantry/packages/nothing-here").await;
    assert_eq!(none.json(), json!({"error": "Package not found"}));

    let tarball = app.get("/pantry/packages/left-pad/1.3.0/tarball").await;
    assert_eq!(tarball.status, 200, "{}", tarball.text());
    let upstream_bytes = upstream
        .get("/npm/main/left-pad/-/left-pad-1.3.0.tgz")
        .await;
    assert_eq!(tarball.body, upstream_bytes.body);
    served.stop();
    let kept = app.get("/pantry/packages/left-pad/1.3.0/tarball").await;
    assert_eq!(kept.status, 200, "kept after the upstream went away");
    let meta = app.get("/pantry/packages/left-pad/1.3.0").await.json();
    assert_eq!(
        meta["checksum"],
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&kept.body)))
    );

    let util = app.get("/pantry/packages/@acme/util/versions").await.json();
    assert_eq!(
        util,
        json!({"versions": ["2.0.0"]}),
        "a name the hosted member has is read from it only"
    );
    app.state
        .downloads
        .flush(app.state.store.as_ref())
        .await
        .unwrap();
    let stats = app.get("/pantry/analytics/left-pad").await.json();
    assert_eq!(stats["totalDownloads"], 2);
    let top = app.get("/pantry/analytics/top").await.json();
    assert_eq!(
        top["packages"][0],
        json!({"name": "left-pad", "downloads": 2})
    );
    let found = app.get("/pantry/search?q=acme").await.json();
    assert_eq!(found["results"][0]["name"], "@acme/util");
    assert_eq!(found["results"][0]["version"], "2.0.0");
    assert_eq!(
        found["results"].as_array().unwrap().len(),
        1,
        "one hit per name, the hosted one (the upstream, now stopped, adds nothing)"
    );
    let down = app.get("/pantry/packages/never-asked").await;
    assert_eq!(
        down.status,
        502,
        "an unreachable upstream is not taken for a missing package: {}",
        down.text()
    );
    app.finish().await;
    upstream.finish().await;
}
