//! The README's quick start, followed literally: its first command's
//! arguments start `deedlog`, and its `curl` requests (login with the demo
//! credentials, then the properties and pipeline query with the token) are
//! sent as written. The one deviation: a fresh database instead of
//! `deedlog`, so a developer's own data is never touched.

use crate::shutdown::{database_url, drop_database, spawn_reading};
use deedlog_tests::Gql;
use std::io::{BufRead, BufReader};
use std::process::Command;
use std::time::Duration;
use uuid::Uuid;

const README: &str = include_str!("../../README.md");

/// Where `deedlog up` listens by default, and the settings that move it.
const DEFAULT_PORTS: [u16; 9] = [8080, 7101, 7102, 7103, 7104, 9464, 9465, 9466, 9467];
const LISTENERS: [&str; 8] = [
    "DEEDLOG__GATEWAY__LISTEN",
    "DEEDLOG__SERVICES__TENANCY_LISTEN",
    "DEEDLOG__SERVICES__PROPERTIES_LISTEN",
    "DEEDLOG__SERVICES__DEALS_LISTEN",
    "DEEDLOG__SERVICES__COMMUNICATIONS_LISTEN",
    "DEEDLOG__SERVICES__METRICS_LISTEN",
    "DEEDLOG__PROJECTOR__METRICS_LISTEN",
    "DEEDLOG__SEALING__METRICS_LISTEN",
];

/// The fenced block under "## The two commands".
fn two_commands() -> Vec<&'static str> {
    let section = README
        .split("## The two commands")
        .nth(1)
        .expect("the README has the two commands");
    let block = section.split("```").nth(1).expect("a code block");
    block
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// The README tour's ```graphql blocks, in order.
fn tour_queries() -> Vec<&'static str> {
    README
        .split("```graphql\n")
        .skip(1)
        .map(|block| block.split("```").next().expect("a closed block"))
        .collect()
}

/// The `-d '…'` bodies of the README's curl requests, in order.
fn curl_bodies() -> Vec<String> {
    let mut bodies = Vec::new();
    let mut rest = README;
    while let Some(at) = rest.find("-d '{\"query\"") {
        let body = &rest[at + 4..];
        let end = body.find("}'").expect("the body ends") + 1;
        bodies.push(body[..end].to_owned());
        rest = &body[end..];
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quick_start_works_as_written() {
    let commands = two_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    let up = commands[0].split('#').next().expect("command").trim();
    let args: Vec<&str> = up
        .strip_prefix("cargo run --release --")
        .expect("the first command runs deedlog through cargo")
        .split_whitespace()
        .collect();
    assert!(
        commands[1].starts_with("cargo nextest run --workspace"),
        "{commands:?}"
    );
    assert!(
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run"))
            .expect(".ci/run")
            .contains("cargo nextest run --workspace"),
        "CI runs the README's test command"
    );

    let name = format!("deedlog_test_{}", Uuid::now_v7().simple());
    let mut command = Command::new(env!("CARGO_BIN_EXE_deedlog"));
    command
        .args(&args)
        .env("DEEDLOG__DATABASE__URL", database_url(&name))
        .env("DEEDLOG__LOG__FILTER", "warn");
    // A developer's own `deedlog up` may hold the default ports: then this
    // run takes free ones and follows the addresses it prints.
    let literal = DEFAULT_PORTS
        .iter()
        .all(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok());
    if !literal {
        for key in LISTENERS {
            command.env(key, "127.0.0.1:0");
        }
    }
    let (deedlog, stdout) = spawn_reading(command);
    // Stopped by force if the test fails first: a `deedlog up` left
    // running would hold the default ports for every later test.
    let mut running = Running(Some(deedlog));
    let ready = tokio::task::spawn_blocking(move || {
        let mut printed = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("utf-8");
            printed.push_str(&line);
            printed.push('\n');
            if line.starts_with("demo tenant") {
                return printed;
            }
        }
        panic!("deedlog up ended before loading the demo:\n{printed}");
    });
    let printed = tokio::time::timeout(Duration::from_secs(120), ready)
        .await
        .expect("the demo loads")
        .expect("reader");
    let graphql = if literal {
        assert!(
            printed.contains("http://127.0.0.1:8080/graphql"),
            "{printed}"
        );
        "http://localhost:8080/graphql".to_owned()
    } else {
        printed
            .split_whitespace()
            .find(|word| word.starts_with("http://") && word.ends_with("/graphql"))
            .unwrap_or_else(|| panic!("the gateway's address: {printed}"))
            .to_owned()
    };

    let bodies = curl_bodies();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    let gateway = Gql::at(&graphql);
    let login = gateway.post_raw(None, bodies[0].clone()).await;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{login}"))
        .to_owned();
    let answer = gateway.post_raw(Some(&token), bodies[1].clone()).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let edges = answer["data"]["properties"]["edges"]
        .as_array()
        .expect("edges");
    assert!(
        !edges.is_empty(),
        "the demo has properties in Berlin: {answer}"
    );
    assert!(
        edges[0]["node"]["agent"]["displayName"].is_string(),
        "{answer}"
    );
    assert!(!answer["data"]["pipeline"]
        .as_array()
        .expect("pipeline")
        .is_empty());

    // The tour: every query as written, with its variables.
    let first = gateway.post_raw(Some(&token), serde_json::json!({"query": "{ properties(first: 1, filter: {city: \"Berlin\"}) { edges { node { propertyId } } } }"}).to_string()).await;
    let property = first["data"]["properties"]["edges"][0]["node"]["propertyId"].clone();
    let deals = gateway
        .post_raw(
            Some(&token),
            serde_json::json!({"query": "{ deals(first: 1) { edges { node { dealId } } } }"})
                .to_string(),
        )
        .await;
    let deal = deals["data"]["deals"]["edges"][0]["node"]["dealId"].clone();
    assert!(deal.is_string(), "the demo has deals: {deals}");
    let before = chrono::Utc::now().to_rfc3339();
    let tour = tour_queries();
    assert!(tour.len() >= 5, "{tour:?}");
    for query in tour {
        let mut variables = serde_json::Map::new();
        if query.contains("$propertyId") {
            variables.insert("propertyId".into(), property.clone());
        }
        if query.contains("$deal") {
            variables.insert("deal".into(), deal.clone());
        }
        if query.contains("$before") {
            variables.insert("before".into(), before.clone().into());
        }
        let body = serde_json::json!({"query": query, "variables": variables}).to_string();
        let answer = gateway.post_raw(Some(&token), body).await;
        assert!(answer.get("errors").is_none(), "{query}\n{answer}");
        assert!(answer["data"].is_object(), "{answer}");
        if query.contains("asOf") {
            // As it was before the tour changed its price.
            let state = &answer["data"]["asOf"]["state"];
            assert!(!state.to_string().contains("41900000"), "{answer}");
        }
    }

    let mut deedlog = running.0.take().expect("still running");
    let _ = Command::new("kill")
        .args(["-TERM", &deedlog.id().to_string()])
        .status();
    let exit = tokio::task::spawn_blocking(move || deedlog.wait())
        .await
        .expect("wait")
        .expect("exit");
    assert!(exit.success(), "{exit}");
    drop_database(&name).await;
}

/// A `deedlog up` that is killed when dropped still running.
struct Running(Option<std::process::Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
