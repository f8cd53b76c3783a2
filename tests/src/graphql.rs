//! A GraphQL client for tests: POSTs a document with variables and an
//! optional bearer token to the gateway, returns the HTTP status and body.

use crate::Session;
use serde_json::{json, Value};

/// The gateway of a test cluster, over real HTTP.
#[derive(Debug, Clone)]
pub struct Gql {
    pub endpoint: String,
    http: reqwest::Client,
}

/// A GraphQL answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// `data`, asserting there were no errors.
    #[track_caller]
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }

    /// The first error's `extensions.code`.
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// The first error's message.
    pub fn message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or("")
    }

    /// Asserts the first error has `code` and a message containing `text`.
    #[track_caller]
    pub fn assert_error(&self, code: &str, text: &str) {
        assert_eq!(self.code(), Some(code), "{}", self.body);
        assert!(
            self.message().contains(text),
            "expected {text:?} in {:?}",
            self.message()
        );
    }
}

impl Gql {
    /// The gateway at `base` (e.g. `http://127.0.0.1:1234`).
    pub fn new(base: &str) -> Self {
        Self {
            endpoint: format!("{base}/graphql"),
            http: reqwest::Client::new(),
        }
    }

    /// The GraphQL endpoint at `endpoint` (a whole URL, e.g. as a process
    /// printed it).
    pub fn at(endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// The gateway at `base`, called from the local address `from` (e.g.
    /// `127.0.0.2`: all of 127.0.0.0/8 is this host), as another client.
    pub fn from_address(base: &str, from: std::net::IpAddr) -> Self {
        Self {
            endpoint: format!("{base}/graphql"),
            http: reqwest::Client::builder()
                .local_address(from)
                .build()
                .expect("an HTTP client with a local address"),
        }
    }

    /// Runs `query` with `variables` as the holder of `token`, if any.
    pub async fn run(&self, token: Option<&str>, query: &str, variables: Value) -> Answer {
        let mut request = self
            .http
            .post(&self.endpoint)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, body }
    }

    /// POSTs `body`, a request written out as JSON text (as the docs show
    /// it), as the holder of `token`, if any; returns the JSON answer.
    pub async fn post_raw(&self, token: Option<&str>, body: String) -> Value {
        let mut request = self
            .http
            .post(&self.endpoint)
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.expect("the gateway answers");
        response.json().await.expect("a JSON answer")
    }

    /// Runs `query` with `variables` as the signed-in `user`.
    pub async fn run_as(&self, user: &Session, query: &str, variables: Value) -> Answer {
        self.run(Some(&user.access), query, variables).await
    }

    /// Runs `query` with `variables` as `user` and asserts it is refused
    /// with `code` and `text` in the message (see [`Answer::assert_error`]).
    pub async fn refused_as(
        &self,
        user: &Session,
        query: &str,
        variables: Value,
        code: &str,
        text: &str,
    ) -> Answer {
        let answer = self.run_as(user, query, variables).await;
        answer.assert_error(code, text);
        answer
    }

    /// GETs `path` (e.g. `/metrics`) from the gateway, beside its GraphQL
    /// endpoint.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let base = self.endpoint.trim_end_matches("/graphql");
        self.http
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("the gateway answers")
    }

    /// The underlying HTTP client (for raw requests).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}
