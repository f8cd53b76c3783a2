//! The screens of a CRM frontend, through GraphQL only, from a tenant
//! seeded through the gateway's own mutations: the kanban board, the
//! contact directory, the inbox and the deals list. Expected values come
//! from what the test itself did, never from the read model.

use crate::World;
use deedlog_proto::tenancy::v1::Role;
use deedlog_tests::{Gql, Session};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A deal as the test made it.
#[derive(Debug, Clone, PartialEq)]
struct Card {
    id: String,
    stage: &'static str,
    street: String,
    buyer: String,
    offer: i64,
    agent: String,
}

/// A tenant seeded through the gateway, with what the test knows of it.
struct Crm {
    gql: Gql,
    admin: Session,
    /// The latest position a mutation returned: what reads wait for.
    position: i64,
    cards: Vec<Card>,
    contacts: BTreeMap<String, String>,
}

const CREATE_PROPERTY: &str = "mutation($k: UUID!, $street: String!, $owner: UUID) { createProperty(command: {idempotencyKey: $k}, input: {address: {street: $street, postalCode: \"10969\", city: \"Berlin\", country: \"DE\"}, kind: APARTMENT, askingPrice: {amountMinor: 50000000, currency: \"EUR\"}, ownerContactId: $owner}) { recordId position } }";
const CREATE_CONTACT: &str = "mutation($k: UUID!, $name: String!, $email: String, $phone: String) { createContact(command: {idempotencyKey: $k}, details: {name: $name, email: $email, phone: $phone}) { recordId position } }";
const OPEN_DEAL: &str = "mutation($k: UUID!, $p: UUID!, $b: UUID!, $a: UUID!, $o: Int64!) { openDeal(command: {idempotencyKey: $k}, input: {propertyId: $p, buyerContactId: $b, agentId: $a, offer: {amountMinor: $o, currency: \"EUR\"}}) { recordId position } }";
const MOVE: &str = "mutation($k: UUID!, $d: UUID!, $s: DealStage!) { moveStage(command: {idempotencyKey: $k}, dealId: $d, stage: $s) { position } }";
const WIN: &str = "mutation($k: UUID!, $d: UUID!, $o: Int64!) { winDeal(command: {idempotencyKey: $k}, dealId: $d, finalPrice: {amountMinor: $o, currency: \"EUR\"}) { position } }";
const LOSE: &str = "mutation($k: UUID!, $d: UUID!) { loseDeal(command: {idempotencyKey: $k}, dealId: $d, reason: \"financing fell through\") { position } }";
const CONSENT: &str = "mutation($k: UUID!, $c: UUID!) { grantConsent(command: {idempotencyKey: $k}, contactId: $c, channel: EMAIL, lawfulBasis: CONSENT, source: \"web form\") { position } }";
const SEND: &str = "mutation($k: UUID!, $c: UUID!, $d: UUID) { sendMessage(command: {idempotencyKey: $k}, input: {contactId: $c, channel: EMAIL, subject: \"Viewing\", body: \"Does Friday suit you?\", dealId: $d}) { messageId conversationId result { position } } }";
const REPLY: &str = "mutation($k: UUID!, $c: UUID!, $m: UUID!, $e: String!) { recordReply(command: {idempotencyKey: $k}, input: {contactId: $c, inReplyTo: $m, channel: EMAIL, body: \"Friday is fine\", providerEventId: $e}) { position } }";

const OPEN_STAGES: [&str; 6] = [
    "LEAD",
    "QUALIFIED",
    "VIEWING",
    "OFFER",
    "NEGOTIATION",
    "UNDER_CONTRACT",
];

impl Crm {
    async fn run(&mut self, query: &str, vars: Value, field: &str) -> Value {
        let answer = self.gql.run_as(&self.admin, query, vars).await;
        let data = answer.data()[field].clone();
        let position = [&data["position"], &data["result"]["position"]]
            .into_iter()
            .find_map(int64)
            .expect("a position");
        self.position = self.position.max(position);
        data
    }

    async fn contact(&mut self, name: &str, email: &str, phone: &str) -> String {
        let vars = json!({"k": Uuid::now_v7(), "name": name, "email": email, "phone": phone});
        let id = self.run(CREATE_CONTACT, vars, "createContact").await["recordId"]
            .as_str()
            .expect("id")
            .to_owned();
        self.contacts.insert(id.clone(), name.to_owned());
        id
    }

    async fn property(&mut self, street: &str, owner: Option<&str>) -> String {
        let vars = json!({"k": Uuid::now_v7(), "street": street, "owner": owner});
        self.run(CREATE_PROPERTY, vars, "createProperty").await["recordId"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Opens a deal and moves it to `stage` (a GraphQL stage name, or
    /// CLOSED_WON / CLOSED_LOST).
    async fn deal(
        &mut self,
        (property, street): (&str, &str),
        buyer: &str,
        agent: &str,
        offer: i64,
        stage: &'static str,
    ) -> String {
        let vars = json!({"k": Uuid::now_v7(), "p": property, "b": buyer, "a": agent, "o": offer});
        let id = self.run(OPEN_DEAL, vars, "openDeal").await["recordId"]
            .as_str()
            .expect("id")
            .to_owned();
        let target = match stage {
            "CLOSED_WON" => "UNDER_CONTRACT",
            "CLOSED_LOST" => "QUALIFIED",
            open => open,
        };
        for next in OPEN_STAGES.iter().skip(1) {
            if OPEN_STAGES.iter().position(|s| s == next)
                > OPEN_STAGES.iter().position(|s| *s == target)
            {
                break;
            }
            let vars = json!({"k": Uuid::now_v7(), "d": id, "s": next});
            self.run(MOVE, vars, "moveStage").await;
        }
        match stage {
            "CLOSED_WON" => {
                let vars = json!({"k": Uuid::now_v7(), "d": id, "o": offer});
                self.run(WIN, vars, "winDeal").await;
            }
            "CLOSED_LOST" => {
                let vars = json!({"k": Uuid::now_v7(), "d": id});
                self.run(LOSE, vars, "loseDeal").await;
            }
            _ => {}
        }
        self.cards.push(Card {
            id: id.clone(),
            stage,
            street: street.to_owned(),
            buyer: self.contacts[buyer].clone(),
            offer,
            agent: agent.to_owned(),
        });
        id
    }

    /// `query`'s data once every read model has reached the seed.
    async fn read(&self, query: &str) -> Value {
        let wrapped =
            format!("query($at: Int64!) {{ atLeast(position: $at, timeoutMs: 10000) {query} }}");
        let answer = self
            .gql
            .run_as(&self.admin, &wrapped, json!({"at": self.position}))
            .await;
        answer.data()["atLeast"].clone()
    }
}

/// A tenant with two agents, four contacts, three properties and eight
/// deals across the board, and two email conversations, one answered by
/// the contact.
async fn seeded() -> (World, Crm, Seeded) {
    let (mut w, admin) = World::with_tenant("berg").await;
    let ada = w.colleague(&admin, Role::Agent, "ada").await;
    let ben = w.colleague(&admin, Role::Agent, "ben").await;
    let mut crm = Crm {
        gql: w.gql.clone(),
        admin,
        position: 0,
        cards: Vec::new(),
        contacts: BTreeMap::new(),
    };
    let anna = crm
        .contact("Anna Schmidt", "anna@example.com", "+49 30 1234567")
        .await;
    let bob = crm
        .contact("Bob Stone", "bob@stone.example", "+4940111222")
        .await;
    let carla = crm
        .contact("Carla Weiss", "carla@weiss.example", "+4989555000")
        .await;
    let dora = crm
        .contact("Dora Owner", "dora@owner.example", "+4969777888")
        .await;
    let linden = "Lindenstraße 5";
    let elb = "Elbchaussee 10";
    let kant = "Kantstraße 7";
    let p1 = crm.property(linden, Some(&dora)).await;
    let p2 = crm.property(elb, Some(&dora)).await;
    let p3 = crm.property(kant, None).await;
    let (a, b) = (ada.user_id.clone(), ben.user_id.clone());
    let d1 = crm.deal((&p1, linden), &anna, &a, 41_000_000, "LEAD").await;
    crm.deal((&p2, elb), &anna, &b, 52_000_000, "LEAD").await;
    crm.deal((&p3, kant), &bob, &a, 33_000_000, "QUALIFIED")
        .await;
    crm.deal((&p1, linden), &bob, &b, 44_000_000, "VIEWING")
        .await;
    crm.deal((&p2, elb), &carla, &a, 55_000_000, "VIEWING")
        .await;
    crm.deal((&p3, kant), &carla, &a, 36_000_000, "OFFER").await;
    crm.deal((&p1, linden), &carla, &b, 47_000_000, "CLOSED_WON")
        .await;
    crm.deal((&p2, elb), &bob, &a, 28_000_000, "CLOSED_LOST")
        .await;
    for contact in [&anna, &bob] {
        let vars = json!({"k": Uuid::now_v7(), "c": contact});
        crm.run(CONSENT, vars, "grantConsent").await;
    }
    let vars = json!({"k": Uuid::now_v7(), "c": anna, "d": d1});
    let to_anna = crm.run(SEND, vars, "sendMessage").await;
    let vars = json!({"k": Uuid::now_v7(), "c": bob, "d": null});
    let to_bob = crm.run(SEND, vars, "sendMessage").await;
    let vars = json!({"k": Uuid::now_v7(), "c": anna, "m": to_anna["messageId"], "e": Uuid::now_v7().to_string()});
    crm.run(REPLY, vars, "recordReply").await;
    let seeded = Seeded {
        anna,
        bob,
        carla,
        dora,
        ada: a,
        anna_conversation: to_anna["conversationId"].as_str().expect("id").to_owned(),
        bob_conversation: to_bob["conversationId"].as_str().expect("id").to_owned(),
    };
    (w, crm, seeded)
}

struct Seeded {
    anna: String,
    bob: String,
    carla: String,
    dora: String,
    ada: String,
    anna_conversation: String,
    bob_conversation: String,
}

const CARD: &str = "dealId stage offerMinor agentId property { street } buyer { name }";

fn card_of(node: &Value) -> Card {
    let stage = node["stage"].as_str().expect("stage").to_uppercase();
    Card {
        id: node["dealId"].as_str().expect("id").to_owned(),
        stage: [
            "LEAD",
            "QUALIFIED",
            "VIEWING",
            "OFFER",
            "NEGOTIATION",
            "UNDER_CONTRACT",
            "CLOSED_WON",
            "CLOSED_LOST",
        ]
        .into_iter()
        .find(|s| *s == stage)
        .expect("a stage"),
        street: node["property"]["street"]
            .as_str()
            .expect("street")
            .to_owned(),
        buyer: node["buyer"]["name"].as_str().expect("buyer").to_owned(),
        offer: int64(&node["offerMinor"]).expect("offer"),
        agent: node["agentId"].as_str().expect("agent").to_owned(),
    }
}

/// An Int64 as the gateway writes it (a string of digits).
fn int64(value: &Value) -> Option<i64> {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| value.as_i64())
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn the_board_shows_every_deal_of_the_log_column_by_column_with_property_and_buyer() {
    let (_w, crm, _s) = seeded().await;
    let query = format!(
        "{{ board(order: OFFER_DESC) {{ stage deals(first: 20) {{ totalCount edges {{ node {{ {CARD} }} }} pageInfo {{ hasNextPage hasPreviousPage }} }} }} }}"
    );
    let board = crm.read(&query).await;
    let columns = board["board"].as_array().expect("columns");
    let stages: Vec<&str> = columns
        .iter()
        .map(|c| c["stage"].as_str().expect("stage"))
        .collect();
    assert_eq!(stages, OPEN_STAGES, "the open stages in pipeline order");
    for column in columns {
        let stage = column["stage"].as_str().expect("stage");
        let mut expected: Vec<Card> = crm
            .cards
            .iter()
            .filter(|c| c.stage == stage)
            .cloned()
            .collect();
        expected.sort_by_key(|c| std::cmp::Reverse(c.offer));
        let got: Vec<Card> = nodes(&column["deals"]).iter().map(card_of).collect();
        assert_eq!(got, expected, "column {stage}");
        assert_eq!(
            column["deals"]["totalCount"],
            json!(expected.len()),
            "column {stage}"
        );
        assert_eq!(column["deals"]["pageInfo"]["hasNextPage"], false);
    }

    // A column paged on its own: the two viewing deals, one at a time.
    let one = crm.read("{ deals(filter: {stage: VIEWING}, order: OFFER_DESC, first: 1) { totalCount edges { cursor node { dealId } } pageInfo { hasNextPage endCursor } } }")
        .await;
    assert_eq!(one["deals"]["totalCount"], 2);
    assert_eq!(one["deals"]["pageInfo"]["hasNextPage"], true);

    // Won and lost deals are off the board but in the list.
    let closed = crm.read(&format!("{{ won: deals(filter: {{status: WON}}) {{ edges {{ node {{ {CARD} }} }} }} lost: deals(filter: {{status: LOST}}) {{ edges {{ node {{ {CARD} }} }} }} }}"))
        .await;
    for (alias, stage) in [("won", "CLOSED_WON"), ("lost", "CLOSED_LOST")] {
        let got: Vec<Card> = nodes(&closed[alias]).iter().map(card_of).collect();
        let expected: Vec<Card> = crm
            .cards
            .iter()
            .filter(|c| c.stage == stage)
            .cloned()
            .collect();
        assert_eq!(got, expected, "{alias}");
    }
}

#[tokio::test]
async fn the_deals_list_filters_by_agent_buyer_property_offer_and_stages() {
    let (_w, crm, s) = seeded().await;
    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = nodes(&v["deals"])
            .iter()
            .map(|n| n["dealId"].as_str().expect("id").to_owned())
            .collect();
        ids.sort();
        ids
    };
    let expect = |keep: &dyn Fn(&Card) -> bool| -> Vec<String> {
        let mut ids: Vec<String> = crm
            .cards
            .iter()
            .filter(|c| keep(c))
            .map(|c| c.id.clone())
            .collect();
        ids.sort();
        ids
    };
    let q = "{ deals(filter: $f, first: 100) { totalCount edges { node { dealId } } } }";
    for (filter, keep) in [
        (
            format!("{{agentId: \"{}\", status: OPEN}}", s.ada),
            Box::new(|c: &Card| c.agent == s.ada && !c.stage.starts_with("CLOSED"))
                as Box<dyn Fn(&Card) -> bool>,
        ),
        (
            format!("{{buyerContactId: \"{}\"}}", s.carla),
            Box::new(|c: &Card| c.buyer == "Carla Weiss"),
        ),
        (
            "{stages: [LEAD, VIEWING]}".to_owned(),
            Box::new(|c: &Card| c.stage == "LEAD" || c.stage == "VIEWING"),
        ),
        (
            "{minOffer: 36000000, maxOffer: 47000000}".replace("Offer", "OfferMinor"),
            Box::new(|c: &Card| (36_000_000..=47_000_000).contains(&c.offer)),
        ),
    ] {
        let answer = crm.read(&q.replace("$f", &filter)).await;
        let expected = expect(&*keep);
        assert_eq!(ids(&answer), expected, "{filter}");
        assert_eq!(
            answer["deals"]["totalCount"],
            json!(expected.len()),
            "{filter}"
        );
    }
}

#[tokio::test]
async fn a_contact_is_found_by_name_email_and_phone_with_deals_properties_and_last_message() {
    let (_w, crm, s) = seeded().await;
    let q = "{ contacts(search: $s, first: 10) { totalCount edges { node { contactId name deals { dealId } ownedProperties { street } lastMessage { direction body } } } } }";
    for search in ["schmidt", "ANNA@example.com", "+49 (30) 123-4567"] {
        let answer = crm.read(&q.replace("$s", &format!("{search:?}"))).await;
        let found = nodes(&answer["contacts"]);
        assert_eq!(found.len(), 1, "{search}");
        assert_eq!(found[0]["contactId"], json!(s.anna), "{search}");
        let mut deals: Vec<String> = found[0]["deals"]
            .as_array()
            .expect("deals")
            .iter()
            .map(|d| d["dealId"].as_str().expect("id").to_owned())
            .collect();
        deals.sort();
        let mut expected: Vec<String> = crm
            .cards
            .iter()
            .filter(|c| c.buyer == "Anna Schmidt")
            .map(|c| c.id.clone())
            .collect();
        expected.sort();
        assert_eq!(deals, expected);
        // Anna answered last.
        assert_eq!(found[0]["lastMessage"]["direction"], "inbound");
        assert_eq!(found[0]["lastMessage"]["body"], "Friday is fine");
    }
    let dora = crm.read(&q.replace("$s", "\"dora\"")).await;
    let dora = &nodes(&dora["contacts"])[0];
    assert_eq!(dora["contactId"], json!(s.dora));
    assert_eq!(
        dora["ownedProperties"],
        json!([{"street": "Lindenstraße 5"}, {"street": "Elbchaussee 10"}])
    );
    assert_eq!(dora["lastMessage"], Value::Null);

    let names = |v: &Value| -> Vec<String> {
        nodes(&v["contacts"])
            .iter()
            .map(|n| n["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let f = "{ contacts(filter: $f, first: 10) { totalCount edges { node { name } } } }";
    for (filter, expected) in [
        (
            "{channelConsent: EMAIL}".to_owned(),
            vec!["Anna Schmidt", "Bob Stone"],
        ),
        (
            "{hasOpenDeal: true}".to_owned(),
            vec!["Anna Schmidt", "Bob Stone", "Carla Weiss"],
        ),
        ("{hasOpenDeal: false}".to_owned(), vec!["Dora Owner"]),
        (
            "{suppressed: false}".to_owned(),
            vec!["Anna Schmidt", "Bob Stone", "Carla Weiss", "Dora Owner"],
        ),
        // Ada's deals have Anna, Bob and Carla as buyers; Dora owns none of
        // Ada's properties (they have no agent but the creator's default).
        (
            format!("{{agentId: \"{}\"}}", s.ada),
            vec!["Anna Schmidt", "Bob Stone", "Carla Weiss"],
        ),
    ] {
        let answer = crm.read(&f.replace("$f", &filter)).await;
        assert_eq!(names(&answer), expected, "{filter}");
        assert_eq!(
            answer["contacts"]["totalCount"],
            json!(expected.len()),
            "{filter}"
        );
    }
    let _ = (&s.bob, &s.carla);
}

#[tokio::test]
async fn the_inbox_puts_conversations_awaiting_a_reply_first() {
    let (_w, crm, s) = seeded().await;
    let q = "{ conversations(first: 10) { totalCount edges { node { conversationId unreplied lastDirection contact { name } deal { dealId } } } } }";
    let inbox = crm.read(q).await;
    let got: Vec<(String, bool, String)> = nodes(&inbox["conversations"])
        .iter()
        .map(|n| {
            (
                n["conversationId"].as_str().expect("id").to_owned(),
                n["unreplied"].as_bool().expect("flag"),
                n["contact"]["name"].as_str().expect("name").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (s.anna_conversation.clone(), true, "Anna Schmidt".to_owned()),
            (s.bob_conversation.clone(), false, "Bob Stone".to_owned()),
        ]
    );
    assert_eq!(inbox["conversations"]["totalCount"], 2);
    let unreplied = crm.read("{ conversations(filter: {unreplied: true}) { totalCount edges { node { conversationId } } } }")
        .await;
    assert_eq!(
        unreplied["conversations"]["edges"],
        json!([{"node": {"conversationId": s.anna_conversation}}])
    );
    let of_bob = crm.read(&format!("{{ conversations(filter: {{contactId: \"{}\", channel: EMAIL}}) {{ edges {{ node {{ conversationId }} }} }} }}", s.bob))
        .await;
    assert_eq!(
        of_bob["conversations"]["edges"],
        json!([{"node": {"conversationId": s.bob_conversation}}])
    );
}

/// Walks `list` (a top-level connection field, `args` its other
/// arguments) forwards with `first: size` and backwards with `last: size`, and
/// asserts both walks hold every row of the whole list (read in one page)
/// exactly once, in its order.
async fn walk(crm: &Crm, list: &str, args: &str, id: &str, size: usize) {
    let whole = crm
        .read(&format!(
            "{{ l: {list}({args} first: 100) {{ edges {{ node {{ {id} }} }} }} }}"
        ))
        .await;
    let whole: Vec<Value> = nodes(&whole["l"]).iter().map(|n| n[id].clone()).collect();
    assert!(whole.len() >= 2, "{list}({args}) has rows to page");
    let page = |cursor: &str, forwards: bool| {
        let (way_size, way) = if forwards {
            ("first", "after")
        } else {
            ("last", "before")
        };
        let at = if cursor.is_empty() {
            String::new()
        } else {
            format!("{way}: \"{cursor}\"")
        };
        format!(
            "{{ l: {list}({args} {way_size}: {size} {at}) {{ totalCount edges {{ node {{ {id} }} }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
        )
    };
    for forwards in [true, false] {
        let mut seen: Vec<Value> = Vec::new();
        let mut cursor = String::new();
        for n in 0..whole.len() {
            let got = crm.read(&page(&cursor, forwards)).await;
            let l = &got["l"];
            assert_eq!(l["totalCount"], json!(whole.len()), "{list}({args})");
            let rows: Vec<Value> = nodes(l).iter().map(|n| n[id].clone()).collect();
            let info = &l["pageInfo"];
            // The side the walk came from holds rows from the second page on.
            let behind = if forwards {
                "hasPreviousPage"
            } else {
                "hasNextPage"
            };
            assert_eq!(
                info[behind],
                json!(n > 0),
                "{list}({args}) page {n}: {behind}"
            );
            if forwards {
                seen.extend(rows);
                if info["hasNextPage"] != true {
                    break;
                }
                cursor = info["endCursor"].as_str().expect("end").to_owned();
            } else {
                seen.splice(0..0, rows);
                if info["hasPreviousPage"] != true {
                    break;
                }
                cursor = info["startCursor"].as_str().expect("start").to_owned();
            }
        }
        let way = if forwards { "forwards" } else { "backwards" };
        assert_eq!(
            seen, whole,
            "{list}({args}) {way}: every row once, in order"
        );
    }
}

#[tokio::test]
async fn paging_walks_forwards_and_backwards_hold_every_row_once_in_every_order() {
    let (_w, crm, s) = seeded().await;
    for order in [
        "UPDATED_DESC",
        "CREATED_DESC",
        "OFFER_DESC",
        "EXPECTED_CLOSE_ASC",
        "STAGE_ENTERED_ASC",
    ] {
        walk(&crm, "deals", &format!("order: {order},"), "dealId", 1).await;
    }
    for order in ["CREATED_DESC", "PRICE_ASC", "PRICE_DESC", "UPDATED_DESC"] {
        walk(
            &crm,
            "properties",
            &format!("order: {order},"),
            "propertyId",
            1,
        )
        .await;
    }
    walk(&crm, "contacts", "", "contactId", 1).await;
    for order in ["UNREPLIED_FIRST", "LAST_MESSAGE_DESC"] {
        walk(
            &crm,
            "conversations",
            &format!("order: {order},"),
            "conversationId",
            1,
        )
        .await;
    }
    walk(&crm, "auditEvents", "", "position", 7).await;
    walk(
        &crm,
        "auditEvents",
        &format!("filter: {{record: \"{}\"}},", s.anna),
        "position",
        1,
    )
    .await;
}

#[tokio::test]
async fn bad_pages_filters_and_cursors_are_refused_with_a_clear_message() {
    let (w, crm, _s) = seeded().await;
    let admin = &crm.admin;
    for (query, text) in [
        ("{ deals(first: 2, last: 2) { totalCount } }", "not both"),
        ("{ deals(last: 2, after: \"x\") { totalCount } }", "`after` goes with `first`"),
        ("{ deals(first: 2, before: \"x\") { totalCount } }", "`before` goes with `last`"),
        ("{ deals(last: 0) { totalCount } }", "invalid `last`: a page holds 1 to 100 rows"),
        ("{ deals(first: 101) { totalCount } }", "invalid `first`: a page holds 1 to 100 rows"),
        ("{ deals(after: \"garbage\") { totalCount } }", "is not a cursor of this list"),
        ("{ deals(last: 3, before: \"updated_desc:1:nope\") { totalCount } }", "invalid `before`"),
        ("{ deals(filter: {minOfferMinor: 5, maxOfferMinor: 4}) { totalCount } }", "the lowest offer (5) is above the highest (4)"),
        ("{ deals(filter: {stages: []}) { totalCount } }", "name at least one stage"),
        ("{ deals(filter: {expectedCloseFrom: \"2027-02-01\", expectedCloseTo: \"2027-01-01\"}) { totalCount } }", "starts (2027-02-01) after it ends (2027-01-01)"),
        ("{ board(filter: {stage: LEAD}) { stage } }", "filter.stage picks one column"),
        ("{ board(filter: {stages: []}) { stage } }", "names no column"),
        ("{ conversations(last: 200) { totalCount } }", "invalid `last`"),
        ("{ contacts(before: \"not-a-uuid\") { totalCount } }", "invalid `before`"),
    ] {
        w.gql
            .refused_as(admin, query, json!({}), "BAD_USER_INPUT", text)
            .await;
    }
    // A cursor of one order is refused by another, naming both.
    let first = crm
        .read("{ deals(order: OFFER_DESC, first: 1) { pageInfo { endCursor } } }")
        .await;
    let cursor = first["deals"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor");
    w.gql
        .refused_as(
            admin,
            &format!("{{ deals(order: CREATED_DESC, after: \"{cursor}\") {{ totalCount }} }}"),
            json!({}),
            "BAD_USER_INPUT",
            "ordered by offer_desc, not by created_desc",
        )
        .await;
}

/// The gateway's count of read transactions, from `/metrics`.
async fn read_transactions(gql: &Gql) -> u64 {
    let text = gql.get("/metrics").await.text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix("deedlog_gateway_read_transactions_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("the read transactions counter") as u64
}

#[tokio::test]
async fn a_page_of_cards_with_property_and_buyer_costs_the_same_statements_whatever_its_size() {
    let (_w, crm, _s) = seeded().await;
    // The page's transaction reads the page, then its cards' properties,
    // buyers and agents, one statement per kind; the scenarios loader reads
    // all of the page's scenarios in a transaction and statement of its
    // own. So equal transaction counts here are equal statement counts.
    let query = "query($n: Int!) { deals(first: $n) { edges { node { dealId property { street } buyer { name } agent { displayName } scenarios { name } } } } }";
    crm.read("{ deals(first: 1) { totalCount } }").await;
    let mut costs = Vec::new();
    for n in [1, 3, 8] {
        let before = read_transactions(&crm.gql).await;
        let answer = crm.gql.run_as(&crm.admin, query, json!({"n": n})).await;
        let cards = nodes(&answer.data()["deals"]);
        assert_eq!(cards.len(), n as usize);
        assert!(cards
            .iter()
            .all(|c| c["buyer"]["name"].is_string() && c["property"]["street"].is_string()));
        costs.push(read_transactions(&crm.gql).await - before);
    }
    // The page with its cards' rows, and the scenarios.
    assert_eq!(
        costs,
        [2, 2, 2],
        "transactions per page of 1, 3 and 8 cards"
    );
}

#[tokio::test]
async fn another_tenant_sees_none_of_these_rows_not_even_by_their_ids() {
    let (mut w, crm, s) = seeded().await;
    let other = w.clients.register("other").await;
    let mut answers = Vec::new();
    for list in [
        "deals(first: 100)".to_owned(),
        format!("deals(filter: {{agentId: \"{}\"}})", s.ada),
        format!("contacts(filter: {{agentId: \"{}\"}})", s.ada),
        "contacts(search: \"anna@example.com\")".to_owned(),
        "contacts(last: 10)".to_owned(),
        "conversations(first: 100)".to_owned(),
        format!("conversations(filter: {{contactId: \"{}\"}})", s.anna),
    ] {
        let query = format!(
            "query($at: Int64!) {{ atLeast(position: $at, timeoutMs: 10000) {{ l: {list} {{ totalCount edges {{ cursor }} }} }} }}"
        );
        let answer = w
            .gql
            .run_as(&other, &query, json!({"at": crm.position}))
            .await;
        answers.push((list, answer.data()["atLeast"]["l"].clone()));
    }
    for (list, got) in answers {
        assert_eq!(got, json!({"totalCount": 0, "edges": []}), "{list}");
    }
    let board = w
        .gql
        .run_as(&other, "{ board { deals { totalCount } } }", json!({}))
        .await;
    for column in board.data()["board"].as_array().expect("columns") {
        assert_eq!(column["deals"]["totalCount"], 0);
    }
}
