//! Routing and risk, SPEC.md section 9, as scenarios on `tests/fixtures/routing-firm.json` (New
//! York). The clock is the test's: 1 December 2026, 10:00 in New York. Lee has left; his matters
//! are split by practice area, client and listed matter, the rest shared across a pool of three
//! whose loads are Pia 2, Pat 0, Pam 1 (Pat's closed matter does not count).

use crate::common::*;
use crate::on_both_databases;
use crate::reassign_rules::{accepted, refused};
use chrono::{DateTime, TimeZone, Utc};
use entity::{
    ExclusionReason, ItemOutcome, RiskReason, WorkKind, calendar_event, matter, matter_permitted_user, notification,
    reassignment, reassignment_item, task, user,
};
use handover::auth::Viewer;
use handover::notify::Live;
use handover::reassign::rules::route::Strategy;
use handover::reassign::{self, Applied, CategoryChoice, Preview, Request, RouteRequest};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::BTreeMap;

const ROUTING_FIRM: &str = include_str!("../fixtures/routing-firm.json");

/// 10:00 on Tuesday 1 December 2026 in New York.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap()
}

struct Firm {
    db: DatabaseConnection,
    live: Live,
    ada: Viewer,
    _dir: tempfile::TempDir,
}

async fn routing_firm(backend: Backend) -> Firm {
    let (db, live, dir) = fixture_firm(backend, ROUTING_FIRM).await;
    let ada = viewer_where(&db, user::Column::Key.eq("ada")).await;
    Firm {
        db,
        live,
        ada,
        _dir: dir,
    }
}

fn route(areas: &[&str], clients: &[&str], matters: Option<Vec<i64>>) -> RouteRequest {
    let list = |v: &[&str]| (!v.is_empty()).then(|| v.iter().map(|s| s.to_string()).collect());
    RouteRequest {
        practice_areas: list(areas),
        clients: list(clients),
        matter_ids: matters.map(|ids| ids.into_iter().map(Ok).collect()),
        to_user_id: None,
        pool: None,
        strategy: Strategy::LeastLoaded,
    }
}

impl Firm {
    async fn id(&self, key: &str) -> i64 {
        one::<user::Entity>(&self.db, user::Column::Key.eq(key)).await.id
    }

    async fn matter_id(&self, key: &str) -> i64 {
        one::<matter::Entity>(&self.db, matter::Column::Key.eq(key)).await.id
    }

    async fn key_of(&self, id: i64) -> String {
        one::<user::Entity>(&self.db, user::Column::Id.eq(id)).await.key
    }

    async fn attorney(&self, matter_key: &str) -> String {
        let m = one::<matter::Entity>(&self.db, matter::Column::Key.eq(matter_key)).await;
        self.key_of(m.responsible_attorney_id.unwrap()).await
    }

    async fn assignee(&self, key: &str) -> String {
        let t = one::<task::Entity>(&self.db, task::Column::Key.eq(key)).await;
        self.key_of(t.assignee_id).await
    }

    async fn assigner(&self, key: &str) -> String {
        let t = one::<task::Entity>(&self.db, task::Column::Key.eq(key)).await;
        self.key_of(t.assigner_id.unwrap()).await
    }

    async fn calendar_owner(&self, key: &str) -> String {
        let e = one::<calendar_event::Entity>(&self.db, calendar_event::Column::Key.eq(key)).await;
        let c = one::<entity::calendar::Entity>(&self.db, entity::calendar::Column::Id.eq(e.calendar_id)).await;
        self.key_of(c.owner_user_id.unwrap()).await
    }

    /// Record id → key, for every kind.
    async fn keys(&self) -> BTreeMap<(WorkKind, i64), String> {
        let mut out = BTreeMap::new();
        for m in matter::Entity::find().all(&self.db).await.unwrap() {
            out.insert((WorkKind::Matter, m.id), m.key);
        }
        for t in task::Entity::find().all(&self.db).await.unwrap() {
            out.insert((WorkKind::Task, t.id), t.key.clone());
            out.insert((WorkKind::TaskAssigner, t.id), t.key);
        }
        for e in calendar_event::Entity::find().all(&self.db).await.unwrap() {
            out.insert((WorkKind::CalendarEvent, e.id), e.key);
        }
        out
    }

    /// Lee's work: litigation to Liz, Acme to Andy, m-listed to Lou, the rest across the pool by
    /// `strategy`; Dee takes what no route takes; risks acknowledged.
    async fn split(&self, strategy: Strategy) -> Request {
        let pool = vec![
            Ok(self.id("p1").await),
            Ok(self.id("p2").await),
            Ok(self.id("p3").await),
        ];
        let listed = self.matter_id("m-listed").await;
        Request {
            from_user_id: Some(Ok(self.id("lee").await)),
            to_user_id: Some(Ok(self.id("dft").await)),
            acknowledge_risks: true,
            routes: vec![
                RouteRequest {
                    to_user_id: Some(Ok(self.id("lit").await)),
                    ..route(&["Litigation"], &[], None)
                },
                RouteRequest {
                    to_user_id: Some(Ok(self.id("acme").await)),
                    ..route(&[], &["acme"], None)
                },
                RouteRequest {
                    to_user_id: Some(Ok(self.id("lou").await)),
                    ..route(&[], &[], Some(vec![listed]))
                },
                RouteRequest {
                    pool: Some(pool),
                    strategy,
                    ..route(&[], &[], None)
                },
            ],
            ..Default::default()
        }
    }

    async fn preview(&self, request: &Request) -> Preview {
        accepted(
            reassign::preview(&self.db, &self.live, &self.ada, request, now()).await,
            "preview",
        )
    }

    async fn apply(&self, request: &Request) -> Applied {
        accepted(
            reassign::reassign(&self.db, &self.live, &self.ada, request, now()).await,
            "reassignment",
        )
    }

    /// Each record of `kind` in the plan: key → (receiver key or "-", reason or "MOVE").
    async fn planned(&self, preview: &Preview, kind: WorkKind) -> BTreeMap<String, (String, String)> {
        let keys = self.keys().await;
        let plan = match kind {
            WorkKind::Matter => &preview.plan.matters,
            WorkKind::Task => &preview.plan.tasks,
            WorkKind::CalendarEvent => &preview.plan.events,
            WorkKind::TaskAssigner => &preview.plan.assigners,
        };
        let mut out = BTreeMap::new();
        for item in plan.as_ref().expect("category planned").items() {
            let to = match (item.moves(), item.to) {
                (true, Some(to)) => self.key_of(to).await,
                _ => "-".to_string(),
            };
            let what = item.reason().map_or("MOVE".to_string(), |r| format!("{r:?}"));
            out.insert(keys[&(kind, item.record_id)].clone(), (to, what));
        }
        out
    }
}

fn moves(to: &str) -> (String, String) {
    (to.to_string(), "MOVE".to_string())
}

fn skips(reason: &str) -> (String, String) {
    ("-".to_string(), reason.to_string())
}

fn expect(pairs: &[(&str, (String, String))]) -> BTreeMap<String, (String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// The hand-computed split of Lee's matters, `LEAST_LOADED` over Pia 2, Pat 0, Pam 1:
/// r1 → Pat (0), r2 → Pat (1; ties Pam, lower id), r3 → Pam (1), r4 → Pia (all at 2: lowest),
/// r5 → Pat (Pia 3, Pat 2, Pam 2), r6 (only Pia and Pam may see it) → Pam (Pia 3, Pam 2).
fn least_loaded_matters() -> BTreeMap<String, (String, String)> {
    expect(&[
        ("m-lit1", moves("lit")),
        ("m-acme-lit", moves("lit")), // first match wins: Litigation before Acme
        ("m-acme", moves("acme")),    // "ACME " matches "acme": trimmed, case-folded
        ("m-listed", moves("lou")),
        ("m-lit-p1", skips("TargetNoAccess")), // Liz may not see it: her own check
        ("m-lit-nobody", skips("TargetNoAccess")),
        ("m-r1", moves("p2")),
        ("m-r2", moves("p2")),
        ("m-r3", moves("p3")),
        ("m-r4", moves("p1")),
        ("m-r5", moves("p2")),
        ("m-r6", moves("p3")),
        ("m-closed", skips("ClosedMatter")),
        ("m-private", skips("PrivateMatter")),
    ])
}

async fn routes_split_the_work_and_work_follows_its_matter(backend: Backend) {
    let firm = routing_firm(backend).await;
    let request = firm.split(Strategy::LeastLoaded).await;
    let preview = firm.preview(&request).await;
    assert_eq!(firm.planned(&preview, WorkKind::Matter).await, least_loaded_matters());
    assert_eq!(
        firm.planned(&preview, WorkKind::Task).await,
        expect(&[
            ("t-r1", moves("p2")), // follows m-r1
            ("t-lit1", moves("lit")),
            ("t-day8", moves("acme")),
            ("t-today", moves("p2")),
            ("t-sol", moves("p3")),
            ("t-past", skips("PastDue")),
            ("t-nomatter", skips("NoMatter")),
            ("t-other", moves("dft")), // its matter does not move: the tasks' target
            // Its matter stays (Liz may not see it), so it goes to Dee, who may not either.
            ("t-lit-p1", skips("TargetNoAccess")),
        ])
    );
    assert_eq!(
        firm.planned(&preview, WorkKind::CalendarEvent).await,
        expect(&[
            ("e-r5", moves("p2")),
            ("e-late-day7", moves("acme")),
            ("e-day8", moves("acme")),
        ])
    );

    // Loads before and after, per receiver.
    let targets = preview.targets(&firm.db).await.unwrap();
    let mut loads = BTreeMap::new();
    for t in &targets {
        loads.insert(
            firm.key_of(t.user_id).await,
            (
                t.before.open_matters,
                t.after.open_matters,
                t.after.open_tasks - t.before.open_tasks,
            ),
        );
    }
    assert_eq!(loads["p1"], (2, 3, 0));
    assert_eq!(loads["p2"], (0, 3, 2), "Pat: r1, r2, r5 and their two tasks");
    assert_eq!(loads["p3"], (1, 3, 1));
    assert_eq!(loads["dft"], (0, 0, 1), "Dee receives only t-other");
    assert!(!loads.contains_key("sup"), "no one receives nothing");

    // Apply does what the preview showed, item by item.
    let applied = firm.apply(&request).await;
    for (key, (to, _)) in least_loaded_matters().into_iter().filter(|(_, v)| v.1 == "MOVE") {
        assert_eq!(firm.attorney(&key).await, to, "{key}");
    }
    assert_eq!(firm.assignee("t-r1").await, "p2");
    assert_eq!(firm.assignee("t-other").await, "dft");
    assert_eq!(firm.assignee("t-lit-p1").await, "lee");
    assert_eq!(firm.calendar_owner("e-r5").await, "p2");
    assert_eq!(firm.calendar_owner("e-day8").await, "acme");
    let items = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::ReassignmentId.eq(applied.reassignment.id))
        .filter(reassignment_item::Column::Outcome.eq(ItemOutcome::Reassigned))
        .count(&firm.db)
        .await
        .unwrap();
    let planned_moves = [&preview.plan.matters, &preview.plan.tasks, &preview.plan.events]
        .iter()
        .map(|c| c.as_ref().unwrap().moving().count() as u64)
        .sum::<u64>();
    assert_eq!(items, planned_moves);

    // One digest per receiver, risks marked.
    let body = |key: &'static str| {
        let db = firm.db.clone();
        async move {
            let u = one::<user::Entity>(&db, user::Column::Key.eq(key)).await;
            one::<notification::Entity>(&db, notification::Column::UserId.eq(u.id))
                .await
                .body
        }
    };
    let pat = body("p2").await;
    assert!(
        pat.starts_with("3 matters, 2 tasks and 1 calendar event are now yours."),
        "{pat}"
    );
    assert!(
        pat.contains("Needs attention first: 1 task due within 7 days, 1 event starting within 7 days."),
        "{pat}"
    );
    assert!(body("p3").await.contains("1 statute-of-limitations task"));
    let andy = body("acme").await;
    assert!(
        andy.contains("1 event starting within 7 days") && !andy.contains("task due"),
        "{andy}"
    );
}

async fn round_robin_skips_who_may_not_see_and_grant_lets_everyone(backend: Backend) {
    let firm = routing_firm(backend).await;
    let (p3, p1) = (firm.id("p3").await, firm.id("p1").await);
    let request = Request {
        from_user_id: Some(Ok(firm.id("lee").await)),
        to_user_id: Some(Ok(firm.id("dft").await)),
        acknowledge_risks: true,
        routes: vec![RouteRequest {
            pool: Some(vec![Ok(p3), Ok(p1)]),
            strategy: Strategy::RoundRobin,
            ..route(&["litigation"], &[], None)
        }],
        follow_matter: Some(false),
        ..Default::default()
    };
    let matters = firm.planned(&firm.preview(&request).await, WorkKind::Matter).await;
    // In id order: lit1 → Pam, acme-lit → Pia, lit-p1 (Pam may not see it) → Pia, lit-nobody
    // (neither may) → no one; the rest (no route) → Dee.
    assert_eq!(matters["m-lit1"], moves("p3"));
    assert_eq!(matters["m-acme-lit"], moves("p1"));
    assert_eq!(matters["m-lit-p1"], moves("p1"));
    assert_eq!(matters["m-lit-nobody"], skips("TargetNoAccess"));
    assert_eq!(matters["m-acme"], moves("dft"));
    assert_eq!(matters["m-r6"], skips("TargetNoAccess"), "Dee may not see r6");

    // With grantMatterAccess nobody is skipped: the cycle goes on from Pam.
    let granted = Request {
        grant_matter_access: true,
        ..request.clone()
    };
    let preview = firm.preview(&granted).await;
    let matters = firm.planned(&preview, WorkKind::Matter).await;
    assert_eq!(matters["m-lit-p1"], moves("p3"));
    assert_eq!(matters["m-lit-nobody"], moves("p1"));
    assert_eq!(matters["m-r6"], moves("dft"));
    // followMatter off: every task goes to the tasks' target.
    let tasks = firm.planned(&preview, WorkKind::Task).await;
    assert_eq!(tasks["t-lit1"], moves("dft"));
    assert_eq!(tasks["t-r1"], moves("dft"));

    firm.apply(&granted).await;
    assert_eq!(firm.attorney("m-lit-nobody").await, "p1");
    let nobody = firm.matter_id("m-lit-nobody").await;
    let access = matter_permitted_user::Entity::find()
        .filter(matter_permitted_user::Column::MatterId.eq(nobody))
        .filter(matter_permitted_user::Column::UserId.eq(p1))
        .count(&firm.db)
        .await
        .unwrap();
    assert_eq!(access, 1, "Pia was given access to the matter routed to her");
}

/// The risks of Lee's split, by reason: key → reason.
async fn risks_of(firm: &Firm, preview: &Preview) -> BTreeMap<String, RiskReason> {
    let keys = firm.keys().await;
    let mut out = BTreeMap::new();
    for (reason, items) in preview.plan.risks() {
        for (kind, item) in items {
            out.insert(keys[&(kind, item.record_id)].clone(), reason);
        }
    }
    out
}

async fn risks_are_listed_and_gate_the_apply(backend: Backend) {
    let firm = routing_firm(backend).await;
    let request = Request {
        past_due_tasks: Some(CategoryChoice {
            include: true,
            to_user_id: Some(Ok(firm.id("sup").await)),
        }),
        ..firm.split(Strategy::LeastLoaded).await
    };
    let preview = firm.preview(&request).await;
    let risks = risks_of(&firm, &preview).await;
    let expected: BTreeMap<String, RiskReason> = [
        ("t-today", RiskReason::DueSoon),            // due today
        ("t-lit1", RiskReason::DueSoon),             // day 7
        ("t-past", RiskReason::DueSoon),             // moved by the sweep
        ("t-sol", RiskReason::StatuteOfLimitations), // due in March, a limitation deadline
        ("e-r5", RiskReason::StartsSoon),
        ("e-late-day7", RiskReason::StartsSoon), // 23:59 in New York on day 7
    ]
    .into_iter()
    .map(|(k, r)| (k.to_string(), r))
    .collect();
    assert_eq!(risks, expected, "t-day8 and e-day8 (day 8) are not risks");

    // A window of 8 days takes in day 8.
    let wider = firm
        .preview(&Request {
            risk_window_days: Some(8),
            ..request.clone()
        })
        .await;
    let wider = risks_of(&firm, &wider).await;
    assert_eq!(wider.get("t-day8"), Some(&RiskReason::DueSoon));
    assert_eq!(wider.get("e-day8"), Some(&RiskReason::StartsSoon));

    // Without acknowledgement: refused, nothing changed.
    let before = snapshot(&firm.db).await;
    let unacknowledged = Request {
        acknowledge_risks: false,
        ..request.clone()
    };
    let refusals = refused(
        reassign::reassign(&firm.db, &firm.live, &firm.ada, &unacknowledged, now()).await,
        "an unacknowledged apply",
    );
    assert_eq!(refusals[0].code, "RISK_NOT_ACKNOWLEDGED");
    assert!(
        refusals[0].message.contains("1 STATUTE_OF_LIMITATIONS"),
        "{}",
        refusals[0].message
    );
    assert_eq!(snapshot(&firm.db).await, before, "nothing changed");

    // Acknowledged: applied, and the report keeps the marks.
    let applied = firm.apply(&request).await;
    assert_eq!(firm.assignee("t-past").await, "sup");
    let keys = firm.keys().await;
    let items = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::ReassignmentId.eq(applied.reassignment.id))
        .all(&firm.db)
        .await
        .unwrap();
    let mut marked = BTreeMap::new();
    for i in &items {
        if let Some(r) = i.risk {
            marked.insert(keys[&(i.kind, i.record_id)].clone(), r);
        }
    }
    assert_eq!(marked, expected, "the report marks each risk");
    let past = items.iter().find(|i| keys[&(i.kind, i.record_id)] == "t-past").unwrap();
    assert_eq!(
        (past.outcome, past.reason),
        (ItemOutcome::Reassigned, Some(ExclusionReason::PastDue)),
        "moved by the sweep, with its reason"
    );
}

async fn sweeps_and_undo_take_everything_back(backend: Backend) {
    let firm = routing_firm(backend).await;
    let sup = firm.id("sup").await;
    let request = Request {
        grant_matter_access: true,
        past_due_tasks: Some(CategoryChoice {
            include: true,
            to_user_id: Some(Ok(sup)),
        }),
        assigner: Some(CategoryChoice {
            include: true,
            to_user_id: Some(Ok(sup)),
        }),
        ..firm.split(Strategy::LeastLoaded).await
    };
    let preview = firm.preview(&request).await;
    assert_eq!(
        firm.planned(&preview, WorkKind::TaskAssigner).await,
        expect(&[("t-by-lee", moves("sup")), ("t-by-lee-private", moves("sup"))]),
        "every open task Lee assigned, whatever its matter; not the completed one"
    );
    let before = snapshot(&firm.db).await;
    let applied = firm.apply(&request).await;
    assert_eq!(firm.assigner("t-by-lee").await, "sup");
    assert_eq!(firm.assigner("t-by-lee-private").await, "sup");
    assert_eq!(firm.assigner("t-by-lee-done").await, "lee");
    assert_eq!(firm.assignee("t-by-lee").await, "p1", "only the assigner changes");
    assert_eq!(firm.attorney("m-lit-p1").await, "lit", "granted");
    let sup_told = one::<notification::Entity>(&firm.db, notification::Column::UserId.eq(sup)).await;
    assert!(
        sup_told.body.contains("You are now the assigner of 2 open tasks"),
        "{}",
        sup_told.body
    );

    let undo = accepted(
        reassign::undo(&firm.db, &firm.live, &firm.ada, applied.reassignment.id, now()).await,
        "undo",
    );
    let skipped = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::ReassignmentId.eq(undo.reassignment.id))
        .filter(reassignment_item::Column::Outcome.eq(ItemOutcome::Skipped))
        .all(&firm.db)
        .await
        .unwrap();
    assert!(skipped.is_empty(), "everything went back: {skipped:?}");
    assert_eq!(firm.assignee("t-past").await, "lee", "the past-due task too");
    assert_eq!(firm.assigner("t-by-lee").await, "lee");
    // Everything is as it was, but for the history itself.
    let after = snapshot(&firm.db).await;
    assert_eq!(strip_history(&after), strip_history(&before));
}

/// A firm dump without the tables that record history (reassignments, their items and grants,
/// notifications, emails).
fn strip_history(dump: &str) -> String {
    dump.lines()
        .filter(|l| {
            !["reassignment", "notification", "outbox_email"]
                .iter()
                .any(|t| l.starts_with(t))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn the_preview_token_covers_the_routing(backend: Backend) {
    let firm = routing_firm(backend).await;
    let preview = firm.preview(&firm.split(Strategy::LeastLoaded).await).await;
    // Pat takes on another matter elsewhere: the pool balances differently now.
    let p2 = firm.id("p2").await;
    matter::Entity::update_many()
        .col_expr(matter::Column::ResponsibleAttorneyId, Expr::value(p2))
        .filter(matter::Column::Key.eq("m-other"))
        .exec(&firm.db)
        .await
        .unwrap();
    let request = Request {
        preview_token: Some(preview.token.clone()),
        ..firm.split(Strategy::LeastLoaded).await
    };
    let refusals = refused(
        reassign::reassign(&firm.db, &firm.live, &firm.ada, &request, now()).await,
        "an apply of a stale routing",
    );
    assert_eq!(refusals[0].code, "PREVIEW_STALE");
    let again = firm.preview(&firm.split(Strategy::LeastLoaded).await).await;
    assert_ne!(again.token, preview.token);
    assert_eq!(
        reassignment::Entity::find().count(&firm.db).await.unwrap(),
        0,
        "nothing was written"
    );
}

async fn bad_routes_are_refused_with_codes(backend: Backend) {
    let firm = routing_firm(backend).await;
    let base = firm.split(Strategy::LeastLoaded).await;
    let (lit, sup, lee) = (firm.id("lit").await, firm.id("sup").await, firm.id("lee").await);
    let olga = one::<user::Entity>(&firm.db, user::Column::Email.eq("olga@other.test"))
        .await
        .id;
    let other_matter = one::<matter::Entity>(&firm.db, matter::Column::FirmId.ne(firm.ada.firm_id()))
        .await
        .id;
    let with_route = |r: RouteRequest| Request {
        routes: vec![r],
        ..base.clone()
    };
    let cases: Vec<(&str, Request, &str, Vec<&str>)> = vec![
        (
            "both receivers",
            with_route(RouteRequest {
                to_user_id: Some(Ok(lit)),
                pool: Some(vec![Ok(lit)]),
                ..route(&["x"], &[], None)
            }),
            "ONE_OF",
            vec!["input", "routes", "0"],
        ),
        (
            "no receiver",
            with_route(route(&["x"], &[], None)),
            "ONE_OF",
            vec!["input", "routes", "0"],
        ),
        (
            "empty pool",
            with_route(RouteRequest {
                pool: Some(vec![]),
                ..route(&["x"], &[], None)
            }),
            "POOL_SIZE",
            vec!["input", "routes", "0", "pool"],
        ),
        (
            "a member twice",
            with_route(RouteRequest {
                pool: Some(vec![Ok(lit), Ok(lit)]),
                ..route(&["x"], &[], None)
            }),
            "DUPLICATE",
            vec!["input", "routes", "0", "pool", "1"],
        ),
        (
            "a non-attorney",
            with_route(RouteRequest {
                pool: Some(vec![Ok(lit), Ok(sup)]),
                ..route(&["x"], &[], None)
            }),
            "TARGET_NOT_ATTORNEY",
            vec!["input", "routes", "0", "pool", "1"],
        ),
        (
            "the source (deactivated)",
            with_route(RouteRequest {
                to_user_id: Some(Ok(lee)),
                ..route(&["x"], &[], None)
            }),
            "TARGET_DISABLED",
            vec!["input", "routes", "0", "toUserId"],
        ),
        (
            "another firm's user",
            with_route(RouteRequest {
                to_user_id: Some(Ok(olga)),
                ..route(&["x"], &[], None)
            }),
            "NOT_FOUND",
            vec!["input", "routes", "0", "toUserId"],
        ),
        (
            "another firm's matter",
            with_route(RouteRequest {
                to_user_id: Some(Ok(lit)),
                ..route(&[], &[], Some(vec![other_matter]))
            }),
            "NOT_FOUND",
            vec!["input", "routes", "0", "when", "matterIds", "0"],
        ),
        (
            "a blank name with a NUL",
            with_route(RouteRequest {
                to_user_id: Some(Ok(lit)),
                ..route(&["  ", "a\0b"], &[], None)
            }),
            "INVALID",
            vec!["input", "routes", "0", "when", "practiceAreas", "0"],
        ),
        (
            "101 routes",
            Request {
                routes: (0..101)
                    .map(|_| RouteRequest {
                        to_user_id: Some(Ok(lit)),
                        ..route(&["x"], &[], None)
                    })
                    .collect(),
                ..base.clone()
            },
            "TOO_MANY",
            vec!["input", "routes"],
        ),
        (
            "a pool of 101",
            with_route(RouteRequest {
                pool: Some((0..101).map(|_| Ok(lit)).collect()),
                ..route(&["x"], &[], None)
            }),
            "POOL_SIZE",
            vec!["input", "routes", "0", "pool"],
        ),
        (
            "routes without matters",
            Request {
                matters: CategoryChoice {
                    include: false,
                    to_user_id: None,
                },
                ..base.clone()
            },
            "MATTERS_EXCLUDED",
            vec!["input", "routes"],
        ),
        (
            "a past-due sweep without tasks",
            Request {
                tasks: CategoryChoice {
                    include: false,
                    to_user_id: None,
                },
                past_due_tasks: Some(CategoryChoice::default()),
                ..base.clone()
            },
            "TASKS_EXCLUDED",
            vec!["input", "pastDueTasks"],
        ),
        (
            "a negative window",
            Request {
                risk_window_days: Some(-1),
                ..base.clone()
            },
            "OUT_OF_RANGE",
            vec!["input", "riskWindowDays"],
        ),
        (
            "the assigner sweep to the source",
            Request {
                assigner: Some(CategoryChoice {
                    include: true,
                    to_user_id: Some(Ok(lee)),
                }),
                ..base.clone()
            },
            "TARGET_DISABLED",
            vec!["input", "assigner", "toUserId"],
        ),
    ];
    let before = snapshot(&firm.db).await;
    for (what, request, code, field) in cases {
        let refusals = refused(
            reassign::reassign(&firm.db, &firm.live, &firm.ada, &request, now()).await,
            what,
        );
        assert!(
            refusals.iter().any(|e| e.code == code
                && e.field.as_deref() == Some(&field.iter().map(|s| s.to_string()).collect::<Vec<_>>()[..])),
            "{what}: expected {code} at {field:?}, got {refusals:?}"
        );
    }
    assert_eq!(snapshot(&firm.db).await, before, "nothing changed");
}

async fn a_planned_handover_routes_at_its_start_and_the_gate_holds_there(backend: Backend) {
    use handover::planned::{self, PlanRequest, schedule};
    let firm = routing_firm(backend).await;
    let day = chrono::Duration::days(1);
    let plan = |work: Request, starts: DateTime<Utc>| PlanRequest {
        work,
        starts_at: Some(starts),
        ..Default::default()
    };
    // Planned without acknowledging risks: at its start there are some, so it fails and
    // changes nothing.
    let unacknowledged = Request {
        acknowledge_risks: false,
        ..firm.split(Strategy::LeastLoaded).await
    };
    let first = accepted(
        planned::plan(
            &firm.db,
            &firm.live,
            &firm.ada,
            &plan(unacknowledged, now() + day),
            now(),
        )
        .await,
        "a plan",
    );
    let before = snapshot(&firm.db).await;
    schedule::tick(&firm.db, &firm.live, now() + day).await.unwrap();
    let first =
        one::<entity::planned_handover::Entity>(&firm.db, entity::planned_handover::Column::Id.eq(first.id)).await;
    assert_eq!(first.status, entity::PlannedHandoverStatus::Failed);
    let reasons = planned::failure(&first);
    assert_eq!(reasons[0].code, "RISK_NOT_ACKNOWLEDGED", "{reasons:?}");
    assert_eq!(snapshot(&firm.db).await, before);

    // Acknowledged: the routes decide at the start, as a preview then would.
    let request = Request {
        assigner: Some(CategoryChoice {
            include: true,
            to_user_id: Some(Ok(firm.id("sup").await)),
        }),
        ..firm.split(Strategy::LeastLoaded).await
    };
    let second = accepted(
        planned::plan(
            &firm.db,
            &firm.live,
            &firm.ada,
            &plan(request.clone(), now() + day * 2),
            now(),
        )
        .await,
        "a plan",
    );
    let expected = accepted(
        reassign::preview(&firm.db, &firm.live, &firm.ada, &request, now() + day * 2).await,
        "the preview at the start",
    );
    schedule::tick(&firm.db, &firm.live, now() + day * 2).await.unwrap();
    let second =
        one::<entity::planned_handover::Entity>(&firm.db, entity::planned_handover::Column::Id.eq(second.id)).await;
    assert_eq!(
        second.status,
        entity::PlannedHandoverStatus::Done,
        "{:?}",
        second.failure
    );
    for (key, (to, what)) in firm.planned(&expected, WorkKind::Matter).await {
        if what == "MOVE" {
            assert_eq!(firm.attorney(&key).await, to, "{key}");
        }
    }
    assert_eq!(firm.assignee("t-r1").await, "p2", "work followed its matter");
    assert_eq!(firm.assigner("t-by-lee").await, "sup", "the sweep ran too");
}

on_both_databases!(
    a_planned_handover_routes_at_its_start_and_the_gate_holds_there,
    routes_split_the_work_and_work_follows_its_matter,
    round_robin_skips_who_may_not_see_and_grant_lets_everyone,
    risks_are_listed_and_gate_the_apply,
    sweeps_and_undo_take_everything_back,
    the_preview_token_covers_the_routing,
    bad_routes_are_refused_with_codes,
);
