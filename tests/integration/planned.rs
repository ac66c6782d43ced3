//! Planned handovers, SPEC.md section 8, as scenarios on `tests/fixtures/cover-firm.json` (New
//! York). The clock is the test's: it is 1 December 2026, 10:00 in New York; Pat goes on leave
//! from Monday 7 December to Monday 28 December and Bob covers. Nothing here waits for a date:
//! each step is the scheduler's tick at an instant the test chooses.

use crate::common::*;
use crate::on_both_databases;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use entity::{
    ItemOutcome, NotificationKind, PlannedHandoverStatus as Status, TaskStatus, calendar_event, notification,
    planned_handover, reassignment_item, task, user,
};
use handover::auth::Viewer;
use handover::notify::Live;
use handover::planned::{self, PlanRequest, deactivate, schedule};
use handover::reassign::{CategoryChoice, Request, UserError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::BTreeSet;

const COVER_FIRM: &str = include_str!("../fixtures/cover-firm.json");

/// 10:00 on Tuesday 1 December 2026 in New York.
fn today() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Midnight in New York (EST, UTC-5) of a December or January day, plus `seconds`.
fn ny_midnight(date: NaiveDate, seconds: i64) -> DateTime<Utc> {
    date.and_hms_opt(5, 0, 0).unwrap().and_utc() + chrono::Duration::seconds(seconds)
}

struct Firm {
    db: DatabaseConnection,
    live: Live,
    _dir: tempfile::TempDir,
}

async fn cover_firm(backend: Backend) -> Firm {
    let (db, live, dir) = fixture_firm(backend, COVER_FIRM).await;
    Firm { db, live, _dir: dir }
}

impl Firm {
    async fn user(&self, key: &str) -> user::Model {
        one::<user::Entity>(&self.db, user::Column::Key.eq(key)).await
    }

    async fn viewer(&self, key: &str) -> Viewer {
        viewer_where(&self.db, user::Column::Key.eq(key)).await
    }

    async fn assignee(&self, key: &str) -> String {
        let t = one::<task::Entity>(&self.db, task::Column::Key.eq(key)).await;
        one::<user::Entity>(&self.db, user::Column::Id.eq(t.assignee_id))
            .await
            .key
    }

    /// Pat's work to Bob, every category.
    async fn pat_to(&self, target: &str) -> Request {
        Request {
            from_user_id: Some(Ok(self.user("pat").await.id)),
            acknowledge_risks: true,
            to_user_id: Some(Ok(self.user(target).await.id)),
            ..Default::default()
        }
    }

    /// Pat's leave: from Monday 7 December to Monday 28 December, Bob covering.
    async fn leave(&self) -> PlanRequest {
        PlanRequest {
            work: self.pat_to("bob").await,
            starts_on: Some(day(2026, 12, 7)),
            returns_on: Some(day(2026, 12, 28)),
            ..Default::default()
        }
    }

    async fn plan(&self, request: &PlanRequest, at: DateTime<Utc>) -> Result<planned_handover::Model, Vec<UserError>> {
        planned::plan(&self.db, &self.live, &self.viewer("ada").await, request, at)
            .await
            .unwrap_or_else(|e| panic!("planHandover failed: {} ({})", e.code(), e.detail()))
    }

    async fn planned(&self, request: &PlanRequest) -> planned_handover::Model {
        self.plan(request, today())
            .await
            .unwrap_or_else(|refused| panic!("plan refused: {refused:?}"))
    }

    async fn tick(&self, at: DateTime<Utc>) -> usize {
        schedule::tick(&self.db, &self.live, at)
            .await
            .unwrap_or_else(|e| panic!("tick failed: {} ({})", e.code(), e.detail()))
    }

    async fn reload(&self, plan: &planned_handover::Model) -> planned_handover::Model {
        one::<planned_handover::Entity>(&self.db, planned_handover::Column::Id.eq(plan.id)).await
    }

    /// The keys of the records of `kind` a reassignment left with `outcome`.
    async fn items(&self, reassignment_id: i64, outcome: ItemOutcome) -> BTreeSet<(String, Option<String>)> {
        let items = reassignment_item::Entity::find()
            .filter(reassignment_item::Column::ReassignmentId.eq(reassignment_id))
            .filter(reassignment_item::Column::Outcome.eq(outcome))
            .all(&self.db)
            .await
            .unwrap();
        let mut out = BTreeSet::new();
        for i in items {
            let key = match i.kind {
                entity::WorkKind::Matter => {
                    one::<entity::matter::Entity>(&self.db, entity::matter::Column::Id.eq(i.record_id))
                        .await
                        .key
                }
                entity::WorkKind::Task | entity::WorkKind::TaskAssigner => {
                    one::<task::Entity>(&self.db, task::Column::Id.eq(i.record_id))
                        .await
                        .key
                }
                entity::WorkKind::CalendarEvent => {
                    one::<calendar_event::Entity>(&self.db, calendar_event::Column::Id.eq(i.record_id))
                        .await
                        .key
                }
            };
            let reason = i.reason.map(|r| {
                use sea_orm::ActiveEnum;
                r.to_value()
            });
            out.insert((key, reason));
        }
        out
    }

    /// Kinds of the notifications `key` has received, oldest first.
    async fn told(&self, key: &str) -> Vec<NotificationKind> {
        let id = self.user(key).await.id;
        let mut rows = notification::Entity::find()
            .filter(notification::Column::UserId.eq(id))
            .all(&self.db)
            .await
            .unwrap();
        rows.sort_by_key(|n| n.id);
        rows.into_iter().map(|n| n.kind).collect()
    }

    async fn set_task(&self, key: &str, column: task::Column, value: impl Into<sea_orm::Value>) {
        task::Entity::update_many()
            .col_expr(column, Expr::value(value))
            .filter(task::Column::Key.eq(key))
            .exec(&self.db)
            .await
            .unwrap();
    }

    async fn deactivate(&self, key: &str, handover: Option<&Request>, force: bool) -> deactivate::Deactivation {
        let id = self.user(key).await.id;
        deactivate::deactivate(
            &self.db,
            &self.live,
            &self.viewer("ada").await,
            id,
            handover,
            force,
            today(),
        )
        .await
        .unwrap_or_else(|e| panic!("deactivateUser failed: {} ({})", e.code(), e.detail()))
    }
}

fn set(items: &[(&str, Option<&str>)]) -> BTreeSet<(String, Option<String>)> {
    items
        .iter()
        .map(|(k, r)| (k.to_string(), r.map(str::to_string)))
        .collect()
}

fn codes(errors: &[UserError]) -> Vec<&'static str> {
    errors.iter().map(|e| e.code).collect()
}

async fn a_cover_starts_and_returns_exactly_the_right_records(backend: Backend) {
    let firm = cover_firm(backend).await;
    let plan = firm.planned(&firm.leave().await).await;
    assert_eq!(plan.status, Status::Scheduled);
    assert_eq!(
        plan.starts_at,
        ny_midnight(day(2026, 12, 7), 0),
        "startsOn is 00:00 in New York"
    );
    assert_eq!(
        firm.told("bob").await,
        [NotificationKind::HandoverPlanned],
        "a heads-up"
    );
    let heads_up = notification::Entity::find()
        .filter(notification::Column::PlannedHandoverId.eq(plan.id))
        .all(&firm.db)
        .await
        .unwrap();
    assert_eq!(
        heads_up[0].title,
        "From 7 December 2026 you will cover Pat Parent's work"
    );
    assert_eq!(
        (heads_up[0].matters, heads_up[0].tasks, heads_up[0].calendar_events),
        (2, 5, 2)
    );

    // Nothing is due the second before the start; at the start, the work moves once.
    assert_eq!(firm.tick(ny_midnight(day(2026, 12, 7), -1)).await, 0);
    assert_eq!(firm.tick(ny_midnight(day(2026, 12, 7), 1)).await, 1);
    assert_eq!(
        firm.tick(ny_midnight(day(2026, 12, 7), 2)).await,
        0,
        "a start runs once"
    );
    let plan = firm.reload(&plan).await;
    assert_eq!(plan.status, Status::Active);
    let start = plan.start_reassignment_id.expect("the start is linked");
    let batch = entity::reassignment::Entity::find_by_id(start)
        .one(&firm.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        batch.created_at,
        ny_midnight(day(2026, 12, 7), 1),
        "the batch is stamped with the scheduler's clock"
    );
    assert_eq!(
        firm.items(start, ItemOutcome::Reassigned).await,
        set(&[
            ("m1", None),
            ("m2", None),
            ("t-due-dec10", None),
            ("t-due-jan", None),
            ("t-nodue", None),
            ("t-done-by-bob", None),
            ("t-passed", None),
            ("e-dec15", None),
            ("e-jan", None),
        ])
    );
    assert_eq!(
        firm.told("bob").await,
        [NotificationKind::HandoverPlanned, NotificationKind::WorkAssigned]
    );

    // During the cover Bob completes one task, passes one to Cat, and is given Cat's task.
    firm.set_task("t-done-by-bob", task::Column::Status, TaskStatus::Complete)
        .await;
    let cat = firm.user("cat").await.id;
    firm.set_task("t-passed", task::Column::AssigneeId, cat).await;
    let bob = firm.user("bob").await.id;
    firm.set_task("t-cat", task::Column::AssigneeId, bob).await;

    // The return, on 28 December: t-due-dec10 is past due by then and goes back all the same;
    // e-dec15 is over and stays.
    assert_eq!(firm.tick(ny_midnight(day(2026, 12, 28), -1)).await, 0);
    assert_eq!(firm.tick(ny_midnight(day(2026, 12, 28), 1)).await, 1);
    let plan = firm.reload(&plan).await;
    assert_eq!(plan.status, Status::Returned);
    let back = plan.return_reassignment_id.expect("the return is linked");
    assert_eq!(
        firm.items(back, ItemOutcome::Reassigned).await,
        set(&[
            ("m1", None),
            ("m2", None),
            ("t-due-dec10", None),
            ("t-due-jan", None),
            ("t-nodue", None),
            ("e-jan", None),
        ])
    );
    assert_eq!(
        firm.items(back, ItemOutcome::Skipped).await,
        set(&[
            ("t-done-by-bob", Some("COMPLETED")),
            ("t-passed", Some("CHANGED")),
            ("e-dec15", Some("PAST_EVENT")),
        ])
    );
    for (key, holder) in [
        ("t-due-dec10", "pat"),
        ("t-due-jan", "pat"),
        ("t-nodue", "pat"),
        ("t-done-by-bob", "bob"),
        ("t-passed", "cat"),
        ("t-cat", "bob"),
    ] {
        assert_eq!(firm.assignee(key).await, holder, "{key}");
    }
    assert_eq!(
        firm.told("pat").await,
        [NotificationKind::WorkAssigned],
        "Pat hears what came back"
    );
    assert_eq!(
        firm.told("bob").await,
        [
            NotificationKind::HandoverPlanned,
            NotificationKind::WorkAssigned,
            NotificationKind::CoverEnded
        ]
    );
    assert_eq!(
        firm.tick(ny_midnight(day(2026, 12, 29), 0)).await,
        0,
        "a return runs once"
    );
}

async fn a_plan_cancelled_before_its_start_moves_nothing(backend: Backend) {
    let firm = cover_firm(backend).await;
    let plan = firm.planned(&firm.leave().await).await;
    let ada = firm.viewer("ada").await;
    let cancelled = planned::cancel(&firm.db, &firm.live, &ada, plan.id, today())
        .await
        .unwrap()
        .expect("cancelled");
    assert_eq!(cancelled.status, Status::Cancelled);
    let before = snapshot(&firm.db).await;
    assert_eq!(firm.tick(ny_midnight(day(2026, 12, 31), 0)).await, 0);
    assert_eq!(snapshot(&firm.db).await, before, "nothing ever moves");
    let again = planned::cancel(&firm.db, &firm.live, &ada, plan.id, today())
        .await
        .unwrap();
    assert_eq!(codes(&again.expect_err("refused")), ["NOT_CANCELLABLE"]);
}

async fn a_cover_ended_early_returns_at_once(backend: Backend) {
    let firm = cover_firm(backend).await;
    let plan = firm.planned(&firm.leave().await).await;
    assert_eq!(firm.tick(ny_midnight(day(2026, 12, 7), 0)).await, 1);
    let ended_at = ny_midnight(day(2026, 12, 9), 0);
    let ada = firm.viewer("ada").await;
    let ended = planned::cancel(&firm.db, &firm.live, &ada, plan.id, ended_at)
        .await
        .unwrap()
        .expect("ended");
    assert_eq!(ended.status, Status::Returned);
    for key in ["t-due-dec10", "t-due-jan", "t-nodue", "t-done-by-bob", "t-passed"] {
        assert_eq!(firm.assignee(key).await, "pat", "{key}");
    }
    assert_eq!(
        firm.tick(ny_midnight(day(2026, 12, 28), 1)).await,
        0,
        "the planned return does not run again"
    );
}

async fn a_start_whose_target_was_deactivated_fails_and_tells_the_administrators(backend: Backend) {
    let firm = cover_firm(backend).await;
    let plan = firm
        .planned(&PlanRequest {
            work: firm.pat_to("dee").await,
            starts_on: Some(day(2026, 12, 7)),
            ..Default::default()
        })
        .await;
    let gone = firm.deactivate("dee", None, false).await;
    assert!(gone.user_errors.is_empty(), "{:?}", gone.user_errors);
    let before = snapshot(&firm.db).await;
    assert_eq!(firm.tick(ny_midnight(day(2026, 12, 7), 0)).await, 1);
    let plan = firm.reload(&plan).await;
    assert_eq!(plan.status, Status::Failed);
    assert_eq!(codes(&planned::failure(&plan)), ["TARGET_DISABLED"; 3]);
    assert_eq!(plan.start_reassignment_id, None);
    for admin in ["ada", "abe"] {
        assert_eq!(firm.told(admin).await, [NotificationKind::HandoverFailed], "{admin}");
    }
    for key in ["t-due-dec10", "t-nodue"] {
        assert_eq!(firm.assignee(key).await, "pat", "nothing moved");
    }
    assert_eq!(snapshot(&firm.db).await, before, "the firm's records are as they were");
}

async fn a_return_to_a_deactivated_source_fails_with_source_disabled(backend: Backend) {
    let firm = cover_firm(backend).await;
    let plan = firm.planned(&firm.leave().await).await;
    assert_eq!(firm.tick(ny_midnight(day(2026, 12, 7), 0)).await, 1);
    // Pat holds nothing that would move any more (past due, closed): no force needed.
    let gone = firm.deactivate("pat", None, false).await;
    assert!(gone.user_errors.is_empty(), "{:?}", gone.user_errors);
    assert_eq!(firm.tick(ny_midnight(day(2026, 12, 28), 0)).await, 1);
    let plan = firm.reload(&plan).await;
    assert_eq!(plan.status, Status::Failed);
    assert_eq!(codes(&planned::failure(&plan)), ["SOURCE_DISABLED"]);
    assert_eq!(
        firm.assignee("t-due-jan").await,
        "bob",
        "the work stays with the delegate"
    );
    assert_eq!(
        firm.told("ada").await,
        [NotificationKind::HandoverFailed],
        "the administrators are told"
    );
}

async fn planning_refuses_overlaps_and_impossible_dates(backend: Backend) {
    let firm = cover_firm(backend).await;
    firm.planned(&firm.leave().await).await;
    let work = firm.pat_to("cat").await;
    let same_user = Request {
        to_user_id: Some(Ok(firm.user("pat").await.id)),
        ..work.clone()
    };
    let with_token = Request {
        preview_token: Some("t".into()),
        ..work.clone()
    };
    let on = |starts: Option<NaiveDate>, returns: Option<NaiveDate>, work: &Request| PlanRequest {
        work: work.clone(),
        starts_on: starts,
        returns_on: returns,
        ..Default::default()
    };
    let cases: Vec<(&str, PlanRequest, &[&str])> = vec![
        (
            "a cover inside Bob's cover of Pat",
            on(Some(day(2026, 12, 20)), Some(day(2027, 1, 5)), &work),
            &["OVERLAPS"],
        ),
        (
            "a handover for good overlaps every later period",
            on(Some(day(2026, 12, 20)), None, &work),
            &["OVERLAPS"],
        ),
        ("yesterday", on(Some(day(2026, 11, 30)), None, &work), &["IN_PAST"]),
        (
            "a return at the start",
            on(Some(day(2027, 2, 1)), Some(day(2027, 2, 1)), &work),
            &["RETURN_BEFORE_START"],
        ),
        ("no start", on(None, None, &work), &["REQUIRED"]),
        (
            "a preview token",
            on(Some(day(2027, 2, 1)), None, &with_token),
            &["NOT_ACCEPTED"],
        ),
        (
            "the work is validated as reassignWork's",
            on(Some(day(2027, 2, 1)), None, &same_user),
            &["SAME_USER"; 3],
        ),
    ];
    for (case, request, expected) in cases {
        let refused = firm.plan(&request, today()).await.expect_err(case);
        assert_eq!(codes(&refused), expected, "{case}");
    }
    // Right after the cover returns is free; today starts at once.
    let next = firm
        .plan(
            &PlanRequest {
                work: work.clone(),
                starts_on: Some(day(2026, 12, 28)),
                returns_on: Some(day(2027, 1, 4)),
                ..Default::default()
            },
            today(),
        )
        .await
        .expect("adjacent periods do not overlap");
    assert_eq!(next.status, Status::Scheduled);
    let other = Request {
        from_user_id: Some(Ok(firm.user("cat").await.id)),
        acknowledge_risks: true,
        to_user_id: Some(Ok(firm.user("bob").await.id)),
        matters: CategoryChoice::default(),
        ..Default::default()
    };
    let at_once = firm
        .plan(
            &PlanRequest {
                work: other,
                starts_on: Some(day(2026, 12, 1)),
                ..Default::default()
            },
            today(),
        )
        .await
        .expect("today is accepted");
    assert_eq!(at_once.status, Status::Done, "a plan starting today starts at once");
}

async fn deactivation_is_guarded(backend: Backend) {
    let firm = cover_firm(backend).await;
    let before = snapshot(&firm.db).await;
    let refused = firm.deactivate("pat", None, false).await;
    assert_eq!(codes(&refused.user_errors), ["HOLDS_WORK"]);
    let open = refused.open_work.expect("the open work is shown");
    let count = |c: &Option<handover::reassign::CategoryPlan>| c.as_ref().map_or(0, |c| c.moving().count());
    assert_eq!(
        (
            count(&open.plan.matters),
            count(&open.plan.tasks),
            count(&open.plan.events)
        ),
        (2, 5, 2)
    );
    assert_eq!(snapshot(&firm.db).await, before, "refused: nothing changes");

    // With a handover: the work moves and Pat is deactivated, in one transaction.
    let done = firm.deactivate("pat", Some(&firm.pat_to("bob").await), false).await;
    assert!(done.user_errors.is_empty(), "{:?}", done.user_errors);
    assert!(!done.user.expect("the user").enabled);
    assert_eq!(firm.assignee("t-nodue").await, "bob");

    // A handover of someone else's work is refused.
    let wrong = firm.deactivate("cat", Some(&firm.pat_to("bob").await), false).await;
    assert_eq!(codes(&wrong.user_errors), ["NOT_THE_USER"]);

    // Yourself; the last administrator.
    assert_eq!(codes(&firm.deactivate("ada", None, true).await.user_errors), ["SELF"]);
    let abe = firm.deactivate("abe", None, false).await;
    assert!(abe.user_errors.is_empty(), "{:?}", abe.user_errors);
    assert_eq!(
        codes(&firm.deactivate("ada", None, true).await.user_errors),
        ["LAST_ADMIN"]
    );

    // Reactivation lets Pat in again; the work stays where it went.
    let pat = firm.user("pat").await.id;
    let back = deactivate::reactivate(&firm.db, &firm.live, &firm.viewer("ada").await, pat)
        .await
        .unwrap();
    assert!(back.user.expect("the user").enabled);
    assert_eq!(firm.assignee("t-nodue").await, "bob");
}

on_both_databases!(
    a_cover_starts_and_returns_exactly_the_right_records,
    a_plan_cancelled_before_its_start_moves_nothing,
    a_cover_ended_early_returns_at_once,
    a_start_whose_target_was_deactivated_fails_and_tells_the_administrators,
    a_return_to_a_deactivated_source_fails_with_source_disabled,
    planning_refuses_overlaps_and_impossible_dates,
    deactivation_is_guarded,
);

/// The same, through the API: a plan made, listed with its preview, started by the scheduler,
/// ended early, and the deactivation guard, as an administrator's client sees them.
async fn planned_handovers_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let carol = app.user_id(&admin, "carol@demo.test").await;
    let bob = app.user_id(&admin, "bob@demo.test").await;
    let starts = Utc::now() + chrono::Duration::days(2);
    let work =
        serde_json::json!({ "fromUserId": carol, "acknowledgeRisks": true, "toUserId": bob, "note": "parental leave" });
    // Bob is in the app: the heads-up reaches him live.
    let mut socket = connect(&app).await;
    init(&mut socket, &app.token("bob@demo.test").await).await;
    send(
        &mut socket,
        serde_json::json!({ "id": "1", "type": "subscribe",
            "payload": { "query": "subscription { workAssigned { kind title } }" } }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let data = app
        .data(
            &admin,
            "mutation($i: PlanHandoverInput!) { planHandover(input: $i) { userErrors { code field }
               plannedHandover { id status startsAt returnsAt fromUser { name } createdBy { name } } } }",
            serde_json::json!({ "i": { "work": work, "startsAt": starts.to_rfc3339(),
                                      "returnsAt": (starts + chrono::Duration::days(7)).to_rfc3339() } }),
        )
        .await;
    let plan = &data["planHandover"]["plannedHandover"];
    assert_eq!(data["planHandover"]["userErrors"], serde_json::json!([]));
    assert_eq!(plan["status"], "SCHEDULED");
    assert_eq!(plan["fromUser"]["name"], "Carol Counsel");
    let id = plan["id"].clone();
    let live = next(&mut socket).await;
    assert_eq!(
        live["payload"]["data"]["workAssigned"]["kind"], "HANDOVER_PLANNED",
        "{live}"
    );

    // Listed, with what would move if it started now: the preview of its work.
    let listed = app
        .data(
            &admin,
            "{ plannedHandovers(status: [SCHEDULED]) { totalCount nodes { id previewNow { tasks { count } matters { count } } } } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(listed["plannedHandovers"]["totalCount"], 1);
    let preview = app.preview(&admin, &work, "tasks { count } matters { count }").await;
    assert!(
        preview["tasks"]["count"].as_i64().unwrap() > 0,
        "Carol holds tasks: {preview}"
    );
    assert_eq!(listed["plannedHandovers"]["nodes"][0]["previewNow"], preview);

    // Bob was told in advance.
    let bob_token = app.token("bob@demo.test").await;
    let mine = app
        .data(
            &bob_token,
            "{ notifications { nodes { kind title plannedHandoverId reassignmentId } } }",
            serde_json::json!({}),
        )
        .await;
    let heads_up = &mine["notifications"]["nodes"][0];
    assert_eq!(heads_up["kind"], "HANDOVER_PLANNED");
    assert_eq!(heads_up["plannedHandoverId"], id);
    assert_eq!(heads_up["reassignmentId"], serde_json::Value::Null);

    // The scheduler starts it; an administrator ends the cover early.
    let ran = schedule::tick(&app.db, &app.live, starts + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(ran, 1);
    let started = app
        .data(
            &admin,
            "query($id: ID!) { plannedHandover(id: $id) { status startReassignment { tasks { reassigned } } } }",
            serde_json::json!({ "id": id }),
        )
        .await;
    assert_eq!(started["plannedHandover"]["status"], "ACTIVE");
    assert_eq!(
        started["plannedHandover"]["startReassignment"]["tasks"]["reassigned"],
        preview["tasks"]["count"]
    );
    let ended = app
        .data(
            &admin,
            "mutation($id: ID!) { cancelPlannedHandover(id: $id) { userErrors { code }
               plannedHandover { status returnReassignment { id } } } }",
            serde_json::json!({ "id": id }),
        )
        .await;
    assert_eq!(ended["cancelPlannedHandover"]["plannedHandover"]["status"], "RETURNED");

    // Carol holds her work again: deactivating her is refused with what she holds.
    let refused = app
        .data(
            &admin,
            "mutation($id: ID!) { deactivateUser(id: $id) { userErrors { code } user { enabled }
               openWork { tasks { count excluded { reason count } } } } }",
            serde_json::json!({ "id": carol }),
        )
        .await;
    let payload = &refused["deactivateUser"];
    assert_eq!(payload["userErrors"][0]["code"], "HOLDS_WORK");
    assert_eq!(payload["user"]["enabled"], true);
    assert_eq!(payload["openWork"]["tasks"]["count"], preview["tasks"]["count"]);

    // IDs that name nothing (garbage, another kind, NUL-free nonsense) are NOT_FOUND, with a code.
    for garbage in ["nonsense", "", carol.as_str()] {
        let data = app
            .data(
                &admin,
                "mutation($id: ID!) { cancelPlannedHandover(id: $id) { userErrors { code } } }",
                serde_json::json!({ "id": garbage }),
            )
            .await;
        assert_eq!(
            user_error_codes(&data["cancelPlannedHandover"]),
            ["NOT_FOUND"],
            "{garbage}"
        );
        let (_, body) = app
            .gql(
                &admin,
                "query($id: ID!) { plannedHandover(id: $id) { id } }",
                serde_json::json!({ "id": garbage }),
            )
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{garbage}");
    }
    for mutation in ["deactivateUser", "reactivateUser"] {
        let data = app
            .data(
                &admin,
                &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ userErrors {{ code }} }} }}"),
                serde_json::json!({ "id": id }),
            )
            .await;
        assert_eq!(
            user_error_codes(&data[mutation]),
            ["NOT_FOUND"],
            "{mutation} with a plan's ID"
        );
    }
}

on_both_databases!(planned_handovers_through_the_api);

/// Exactly once: two `handover serve` processes on one PostgreSQL, 200 plans due in the same
/// second. Both schedulers tick with the wall clock; every start runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set HANDOVER_TEST_POSTGRES_URL (.ci/run starts a throwaway cluster)"]
async fn two_instances_run_each_of_200_due_starts_once() {
    use sea_orm::{ActiveValue::Set, PaginatorTrait};
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = fresh_database_url(Backend::Postgres, dir.path()).await;
    handover::import::import_text(&db, COVER_FIRM, false).await.unwrap();
    let (ada, bob) = (
        one::<user::Entity>(&db, user::Column::Key.eq("ada")).await,
        one::<user::Entity>(&db, user::Column::Key.eq("bob")).await,
    );
    let pat = one::<user::Entity>(&db, user::Column::Key.eq("pat")).await;
    let work = serde_json::json!({ "from": pat.id, "matters_to": bob.id, "tasks_to": bob.id,
        "events_to": bob.id, "matter_ids": null, "grant_matter_access": false, "note": null });
    // The plans are written as planning would write them (planning refuses overlaps, so the
    // rows go in directly), all due the same second.
    let due = Utc::now() + chrono::Duration::seconds(3);
    let rows: Vec<planned_handover::ActiveModel> = (0..200)
        .map(|_| planned_handover::ActiveModel {
            firm_id: Set(ada.firm_id),
            created_by_user_id: Set(ada.id),
            from_user_id: Set(pat.id),
            work: Set(work.to_string()),
            starts_at: Set(due),
            returns_at: Set(None),
            deactivate_source: Set(false),
            status: Set(Status::Scheduled),
            start_reassignment_id: Set(None),
            return_reassignment_id: Set(None),
            failure: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .collect();
    planned_handover::Entity::insert_many(rows).exec(&db).await.unwrap();

    let serve = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_handover"))
            .args(["serve", "--database-url", &url, "--listen", "127.0.0.1:0"])
            .env("HANDOVER_JWT_SECRET", "a-test-secret-a-test-secret-a-test-secret")
            .env("HANDOVER_LOG", "warn")
            .env("HANDOVER_MAIL_DIR", dir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("serve")
    };
    let mut servers = [serve(), serve()];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let left = planned_handover::Entity::find()
            .filter(planned_handover::Column::Status.eq(Status::Scheduled))
            .count(&db)
            .await
            .unwrap();
        if left == 0 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for s in &mut servers {
        s.kill().unwrap();
        s.wait().unwrap();
    }
    let plans = planned_handover::Entity::find().all(&db).await.unwrap();
    let done = plans.iter().filter(|p| p.status == Status::Done).count();
    assert_eq!(
        done,
        200,
        "every start ran: {:?}",
        plans.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    let starts: BTreeSet<i64> = plans.iter().filter_map(|p| p.start_reassignment_id).collect();
    assert_eq!(starts.len(), 200, "each plan has a reassignment of its own");
    let batches = entity::reassignment::Entity::find().count(&db).await.unwrap();
    assert_eq!(batches, 200, "and no start ran twice");
    let moved = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::Outcome.eq(ItemOutcome::Reassigned))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(moved, 9, "Pat's work moved once, by the first start");
}
