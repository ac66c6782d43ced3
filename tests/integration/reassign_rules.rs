//! SPEC.md section 3 as scenarios. The firm is `tests/fixtures/rules-firm.json` (New York);
//! the clock is pinned at 23:30 on 30 November in New York, which is already 1 December in UTC,
//! so "today" and "past due" are only right if they are taken in the firm's time zone.
//!
//! Given that firm, when the administrator Ada previews or applies Sam's work (Sam is
//! deactivated) to Tia, then exactly these records move and these are excluded, for this reason.

use crate::common::*;
use crate::on_both_databases;
use chrono::{DateTime, TimeZone, Utc};
use entity::{
    ExclusionReason as R, ItemOutcome, WorkKind, calendar_event, event_attendee, matter, reassignment_item, task, user,
};
use handover::auth::Viewer;
use handover::error::AppResult;
use handover::notify::Live;
use handover::reassign::{self, Applied, CategoryChoice, Outcome, Plan, Preview, Request};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};
use std::collections::{BTreeMap, BTreeSet};

pub const RULES_FIRM: &str = include_str!("../fixtures/rules-firm.json");

/// 23:30 on 30 November 2026 in New York.
fn cutoff() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 4, 30, 0).unwrap()
}

pub struct Firm {
    pub db: DatabaseConnection,
    pub live: Live,
    _dir: tempfile::TempDir,
}

/// The value of an accepted outcome; a refusal or an error fails the test, saying which.
pub fn accepted<T>(outcome: AppResult<Outcome<T>>, what: &str) -> T {
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(refusals)) => panic!("{what} was refused: {refusals:?}"),
        Err(e) => panic!("{what} failed: {} ({})", e.code(), e.detail()),
    }
}

/// The refusals of an outcome; an acceptance or an error fails the test, saying which.
pub fn refused<T>(outcome: AppResult<Outcome<T>>, what: &str) -> Vec<reassign::UserError> {
    match outcome {
        Ok(Ok(_)) => panic!("{what} was accepted; it must be refused"),
        Ok(Err(refusals)) => refusals,
        Err(e) => panic!("{what} failed: {} ({})", e.code(), e.detail()),
    }
}

pub async fn rules_firm(backend: Backend) -> Firm {
    let (db, live, dir) = fixture_firm(backend, RULES_FIRM).await;
    Firm { db, live, _dir: dir }
}

impl Firm {
    /// A preview at the pinned clock.
    pub async fn try_preview(&self, viewer: &Viewer, request: &Request) -> AppResult<Outcome<Preview>> {
        reassign::preview(&self.db, &self.live, viewer, request, cutoff()).await
    }

    /// A preview that must be accepted.
    pub async fn preview(&self, viewer: &Viewer, request: &Request) -> Preview {
        accepted(self.try_preview(viewer, request).await, "preview")
    }

    /// An apply at `at`.
    pub async fn try_reassign(
        &self,
        viewer: &Viewer,
        request: &Request,
        at: DateTime<Utc>,
    ) -> AppResult<Outcome<Applied>> {
        reassign::reassign(&self.db, &self.live, viewer, request, at).await
    }

    /// An apply at the pinned clock that must be accepted.
    pub async fn reassign(&self, viewer: &Viewer, request: &Request) -> Applied {
        accepted(self.try_reassign(viewer, request, cutoff()).await, "reassignment")
    }

    /// An undo at the pinned clock.
    pub async fn try_undo(&self, viewer: &Viewer, reassignment_id: i64) -> AppResult<Outcome<Applied>> {
        reassign::undo(&self.db, &self.live, viewer, reassignment_id, cutoff()).await
    }

    /// An undo that must be accepted.
    pub async fn undo(&self, viewer: &Viewer, reassignment_id: i64) -> Applied {
        accepted(self.try_undo(viewer, reassignment_id).await, "undo")
    }

    pub async fn viewer(&self, email: &str) -> Viewer {
        viewer_where(&self.db, user::Column::Email.eq(email)).await
    }

    pub async fn user(&self, key: &str) -> i64 {
        one::<user::Entity>(&self.db, user::Column::Key.eq(key)).await.id
    }

    async fn keys(&self) -> BTreeMap<(WorkKind, i64), String> {
        let mut out = BTreeMap::new();
        for m in matter::Entity::find().all(&self.db).await.unwrap() {
            out.insert((WorkKind::Matter, m.id), m.key);
        }
        for t in task::Entity::find().all(&self.db).await.unwrap() {
            out.insert((WorkKind::Task, t.id), t.key);
        }
        for e in calendar_event::Entity::find().all(&self.db).await.unwrap() {
            out.insert((WorkKind::CalendarEvent, e.id), e.key);
        }
        out
    }

    /// Sam's work to Tia, every category.
    pub async fn sam_to_tia(&self) -> Request {
        Request {
            from_user_id: Some(Ok(self.user("sam").await)),
            acknowledge_risks: true,
            to_user_id: Some(Ok(self.user("tia").await)),
            ..Default::default()
        }
    }

    pub async fn task_assignee(&self, key: &str) -> i64 {
        one::<task::Entity>(&self.db, task::Column::Key.eq(key))
            .await
            .assignee_id
    }
}

/// What a plan does, by import key: per category, the keys that move and the keys per reason.
#[derive(Debug, PartialEq, Eq, Default)]
pub struct Outline {
    pub moving: BTreeSet<String>,
    pub excluded: BTreeMap<R, BTreeSet<String>>,
}

fn none_choice() -> CategoryChoice {
    CategoryChoice {
        include: false,
        to_user_id: None,
    }
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn outline(keys: &BTreeMap<(WorkKind, i64), String>, kind: WorkKind, plan: Option<&reassign::CategoryPlan>) -> Outline {
    let Some(plan) = plan else { return Outline::default() };
    let key = |id: i64| keys[&(kind, id)].clone();
    let mut excluded: BTreeMap<_, BTreeSet<String>> = BTreeMap::new();
    for item in plan.items() {
        if let Some(reason) = item.reason() {
            excluded.entry(reason).or_default().insert(key(item.record_id));
        }
    }
    Outline {
        moving: plan.moving().map(|i| key(i.record_id)).collect(),
        excluded,
    }
}

async fn outlines(firm: &Firm, plan: &Plan) -> [Outline; 3] {
    let keys = firm.keys().await;
    [
        outline(&keys, WorkKind::Matter, plan.matters.as_ref()),
        outline(&keys, WorkKind::Task, plan.tasks.as_ref()),
        outline(&keys, WorkKind::CalendarEvent, plan.events.as_ref()),
    ]
}

fn expected_matters() -> Outline {
    Outline {
        moving: set(&["m-group-in", "m-listed", "m-open", "m-pending"]),
        excluded: BTreeMap::from([
            (R::ClosedMatter, set(&["m-closed"])),
            (R::PrivateMatter, set(&["m-private-sam", "m-single-group"])),
            (R::TargetNoAccess, set(&["m-group-out"])),
        ]),
    }
}

fn expected_tasks() -> Outline {
    Outline {
        // Due today (in New York) and due tomorrow move; no due date moves; a task on a matter
        // someone else is responsible for moves too.
        moving: set(&[
            "t-due-today",
            "t-due-tomorrow",
            "t-group-in",
            "t-listed",
            "t-no-due",
            "t-on-otto-matter",
        ]),
        excluded: BTreeMap::from([
            (R::ClosedMatter, set(&["t-closed"])),
            (R::NoMatter, set(&["t-no-matter"])),
            // Sam's own private matter, Otto's private matter, and a group of one.
            (
                R::PrivateMatter,
                set(&["t-private-otto", "t-private-sam", "t-single-group"]),
            ),
            (R::PastDue, set(&["t-due-yesterday"])),
            (R::Completed, set(&["t-complete"])),
            (R::TargetNoAccess, set(&["t-group-out"])),
        ]),
    }
}

fn expected_events() -> Outline {
    Outline {
        moving: set(&["e-allday-today", "e-at-cutoff", "e-later", "e-target-attends"]),
        excluded: BTreeMap::from([
            (R::ClosedMatter, set(&["e-closed"])),
            (R::NoMatter, set(&["e-no-matter"])),
            (R::PrivateMatter, set(&["e-private"])),
            (R::PastEvent, set(&["e-allday-yesterday", "e-started"])),
            (R::AttendeeOnly, set(&["e-on-firm-calendar", "e-on-otto-calendar"])),
            (R::TargetNoAccess, set(&["e-group-out"])),
        ]),
    }
}

async fn preview_reports_every_rule_and_reason(backend: Backend) {
    let firm = rules_firm(backend).await;
    let before = snapshot(&firm.db).await;
    let ada = firm.viewer("ada@rules.test").await;
    let preview = firm.preview(&ada, &firm.sam_to_tia().await).await;
    let [m, t, e] = outlines(&firm, &preview.plan).await;
    assert_eq!(m, expected_matters());
    assert_eq!(t, expected_tasks());
    assert_eq!(e, expected_events());
    assert_eq!(snapshot(&firm.db).await, before, "a preview writes nothing");
}

async fn apply_moves_exactly_what_the_preview_showed(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let (sam, tia, nina, ada_id) = (
        firm.user("sam").await,
        firm.user("tia").await,
        firm.user("nina").await,
        firm.user("ada").await,
    );
    let mut request = firm.sam_to_tia().await;
    let preview = firm.preview(&ada, &request).await;
    request.preview_token = Some(preview.token.clone());
    let applied = firm.reassign(&ada, &request).await;
    let batch = applied.reassignment;
    assert_eq!(
        (
            batch.matters_reassigned,
            batch.tasks_reassigned,
            batch.events_reassigned
        ),
        (4, 6, 4)
    );
    assert_eq!(batch.cutoff_at, cutoff());
    assert_eq!(batch.time_zone, "America/New_York");

    // The report: one item per record the preview considered, with the same verdicts.
    let items = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::ReassignmentId.eq(batch.id))
        .all(&firm.db)
        .await
        .unwrap();
    let keys = firm.keys().await;
    let by_outcome = |kind: WorkKind| {
        let mut o = Outline::default();
        for i in items.iter().filter(|i| i.kind == kind) {
            let key = keys[&(kind, i.record_id)].clone();
            assert_eq!(i.previous_holder_id, sam);
            match i.outcome {
                ItemOutcome::Reassigned => {
                    assert_eq!(i.new_holder_id, Some(tia));
                    o.moving.insert(key);
                }
                ItemOutcome::Skipped => {
                    assert_eq!(i.new_holder_id, None);
                    o.excluded.entry(i.reason.unwrap()).or_default().insert(key);
                }
            }
        }
        o
    };
    assert_eq!(by_outcome(WorkKind::Matter), expected_matters());
    assert_eq!(by_outcome(WorkKind::Task), expected_tasks());
    assert_eq!(by_outcome(WorkKind::CalendarEvent), expected_events());

    // The records themselves.
    for m in matter::Entity::find()
        .all(&firm.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.firm_id == ada.firm_id())
    {
        let moved = expected_matters().moving.contains(&m.key);
        if moved {
            assert_eq!(m.responsible_attorney_id, Some(tia), "{}", m.key);
        } else if m.key != "m-private-otto" && m.key != "m-otto" {
            assert_eq!(m.responsible_attorney_id, Some(sam), "{}", m.key);
        }
        assert_eq!(
            m.originating_attorney_id,
            Some(ada_id),
            "the originating attorney never changes ({})",
            m.key
        );
    }
    for t in task::Entity::find()
        .all(&firm.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.firm_id == ada.firm_id())
    {
        let expected = if expected_tasks().moving.contains(&t.key) {
            tia
        } else if t.key == "t-otto-own" {
            firm.user("otto").await
        } else {
            sam
        };
        assert_eq!(t.assignee_id, expected, "{}", t.key);
    }
    // Status, due date and assigner are left as they were.
    let moved_task = one::<task::Entity>(&firm.db, task::Column::Key.eq("t-due-tomorrow")).await;
    assert_eq!(moved_task.status, entity::TaskStatus::InProgress);
    assert_eq!(moved_task.due_date, chrono::NaiveDate::from_ymd_opt(2026, 12, 1));
    assert_eq!(moved_task.assigner_id, Some(ada_id));

    // Events: on Tia's calendar now; Tia took Sam's place among the attendees, once.
    let tia_calendar = handover::firm::work::personal_calendar(&firm.db, ada.firm_id(), tia)
        .await
        .unwrap()
        .unwrap();
    let attendees = |key: &'static str| {
        let db = firm.db.clone();
        async move {
            let e = one::<calendar_event::Entity>(&db, calendar_event::Column::Key.eq(key)).await;
            let mut a: Vec<i64> = event_attendee::Entity::find()
                .filter(event_attendee::Column::EventId.eq(e.id))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.user_id)
                .collect();
            a.sort();
            (e.calendar_id, a)
        }
    };
    let mut later = vec![tia, nina];
    later.sort();
    assert_eq!(attendees("e-later").await, (tia_calendar, later));
    assert_eq!(attendees("e-target-attends").await, (tia_calendar, vec![tia]));
    // Attendee-only events stay where they are, and Sam stays an attendee.
    let (cal, att) = attendees("e-on-otto-calendar").await;
    assert_ne!(cal, tia_calendar);
    assert!(att.contains(&sam));
}

async fn grant_matter_access_moves_group_work_and_adds_the_target(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let tia = firm.user("tia").await;
    let mut request = firm.sam_to_tia().await;
    request.grant_matter_access = true;
    let preview = firm.preview(&ada, &request).await;
    let [m, t, e] = outlines(&firm, &preview.plan).await;
    assert!(m.moving.contains("m-group-out") && !m.excluded.contains_key(&R::TargetNoAccess));
    assert!(t.moving.contains("t-group-out"));
    assert!(e.moving.contains("e-group-out"));
    // Private stays private, grant or not.
    assert_eq!(
        t.excluded[&R::PrivateMatter],
        set(&["t-private-otto", "t-private-sam", "t-single-group"])
    );

    firm.reassign(&ada, &request).await;
    let group_out = one::<matter::Entity>(&firm.db, matter::Column::Key.eq("m-group-out")).await;
    assert_eq!(group_out.responsible_attorney_id, Some(tia));
    let granted = entity::matter_permitted_user::Entity::find()
        .filter(entity::matter_permitted_user::Column::MatterId.eq(group_out.id))
        .filter(entity::matter_permitted_user::Column::UserId.eq(tia))
        .one(&firm.db)
        .await
        .unwrap();
    assert!(granted.is_some(), "Tia was added to the matter's permission");
}

async fn per_category_targets_and_left_out_categories(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let (tia, nina, sam) = (firm.user("tia").await, firm.user("nina").await, firm.user("sam").await);
    let request = Request {
        from_user_id: Some(Ok(sam)),
        acknowledge_risks: true,
        to_user_id: Some(Ok(tia)),
        // A non-attorney may take tasks, never matters.
        tasks: CategoryChoice {
            include: true,
            to_user_id: Some(Ok(nina)),
        },
        calendar_events: CategoryChoice {
            include: false,
            to_user_id: None,
        },
        ..Default::default()
    };
    let batch = firm.reassign(&ada, &request).await.reassignment;
    assert_eq!(
        (
            batch.matters_to_user_id,
            batch.tasks_to_user_id,
            batch.events_to_user_id
        ),
        (Some(tia), Some(nina), None)
    );
    assert_eq!(firm.task_assignee("t-due-today").await, nina);
    // Nina is listed on m-listed but not in the "with-tia" group: that task is TARGET_NO_ACCESS
    // for her.
    assert_eq!(firm.task_assignee("t-group-in").await, sam);
    assert_eq!(firm.task_assignee("t-listed").await, nina);
    assert_eq!(batch.events_reassigned, 0);
    let event_items = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::ReassignmentId.eq(batch.id))
        .filter(reassignment_item::Column::Kind.eq(WorkKind::CalendarEvent))
        .all(&firm.db)
        .await
        .unwrap();
    assert!(event_items.is_empty(), "a left-out category is not considered at all");
}

async fn restricting_to_matters(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let pending = one::<matter::Entity>(&firm.db, matter::Column::Key.eq("m-pending")).await;
    let mut request = firm.sam_to_tia().await;
    request.matter_ids = Some(vec![Ok(pending.id)]);
    let preview = firm.preview(&ada, &request).await;
    let [m, t, e] = outlines(&firm, &preview.plan).await;
    assert_eq!(
        m,
        Outline {
            moving: set(&["m-pending"]),
            excluded: BTreeMap::new()
        }
    );
    assert_eq!(
        t,
        Outline {
            moving: set(&["t-no-due"]),
            excluded: BTreeMap::new()
        }
    );
    assert_eq!(
        e,
        Outline {
            moving: set(&["e-target-attends"]),
            excluded: BTreeMap::new()
        }
    );
}

async fn invalid_input_is_refused_and_changes_nothing(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let before = snapshot(&firm.db).await;
    let (sam, nina, dee) = (firm.user("sam").await, firm.user("nina").await, firm.user("dee").await);
    let oscar = firm.user("oscar").await; // another firm's attorney
    let codes = |r: &Request| {
        let (firm, ada, r) = (&firm, &ada, r.clone());
        async move {
            refused(firm.try_reassign(ada, &r, cutoff()).await, "invalid input")
                .into_iter()
                .map(|e| e.code)
                .collect::<Vec<_>>()
        }
    };
    let base = Request {
        from_user_id: Some(Ok(sam)),
        acknowledge_risks: true,
        ..Default::default()
    };
    let tia = firm.user("tia").await;
    let none = CategoryChoice {
        include: false,
        to_user_id: None,
    };
    let other_matter = matter::Entity::find()
        .filter(matter::Column::Key.eq("om1"))
        .one(&firm.db)
        .await
        .unwrap()
        .expect("the other firm's matter om1");
    let cases: Vec<(&str, Request, &[&str])> = vec![
        (
            "the target is the source, in every category",
            Request {
                from_user_id: Some(Ok(tia)),
                acknowledge_risks: true,
                to_user_id: Some(Ok(tia)),
                ..Default::default()
            },
            &["SAME_USER"; 3],
        ),
        (
            "Sam is deactivated as well as the source: both are said",
            Request {
                to_user_id: Some(Ok(sam)),
                tasks: none_choice(),
                calendar_events: none_choice(),
                ..base.clone()
            },
            &["TARGET_DISABLED", "SAME_USER"],
        ),
        (
            "a deactivated target",
            Request {
                to_user_id: Some(Ok(dee)),
                ..base.clone()
            },
            &["TARGET_DISABLED"; 3],
        ),
        (
            "matters to a paralegal",
            Request {
                to_user_id: Some(Ok(nina)),
                ..base.clone()
            },
            &["TARGET_NOT_ATTORNEY"],
        ),
        (
            "a target in another firm",
            Request {
                to_user_id: Some(Ok(oscar)),
                ..base.clone()
            },
            &["NOT_FOUND"],
        ),
        (
            "a source in another firm",
            Request {
                from_user_id: Some(Ok(oscar)),
                acknowledge_risks: true,
                to_user_id: Some(Ok(nina)),
                ..Default::default()
            },
            &["NOT_FOUND", "TARGET_NOT_ATTORNEY"],
        ),
        ("no target at all", base.clone(), &["NO_TARGET"; 3]),
        (
            "every category left out",
            Request {
                to_user_id: Some(Ok(nina)),
                matters: none,
                tasks: none,
                calendar_events: none,
                ..base.clone()
            },
            &["NO_CATEGORY"],
        ),
        (
            "a target ID that names no user",
            Request {
                to_user_id: Some(Err(())),
                ..base.clone()
            },
            &["NOT_FOUND"],
        ),
        (
            "another firm's matter",
            Request {
                to_user_id: Some(Ok(tia)),
                matter_ids: Some(vec![Ok(other_matter.id)]),
                ..base.clone()
            },
            &["NOT_FOUND"],
        ),
    ];
    for (case, request, expected) in cases {
        assert_eq!(codes(&request).await, expected, "{case}");
    }
    assert_eq!(snapshot(&firm.db).await, before);

    // Only an enabled administrator of the firm may act.
    let tia_viewer = firm.viewer("tia@rules.test").await;
    let err = firm
        .try_reassign(&tia_viewer, &firm.sam_to_tia().await, cutoff())
        .await
        .expect_err("not an administrator");
    assert_eq!(err.code(), "FORBIDDEN");
    let err = firm
        .try_preview(&tia_viewer, &firm.sam_to_tia().await)
        .await
        .expect_err("not an administrator");
    assert_eq!(err.code(), "FORBIDDEN");
    assert_eq!(snapshot(&firm.db).await, before);
}

async fn stale_preview_token_changes_nothing(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let mut request = firm.sam_to_tia().await;
    let preview = firm.preview(&ada, &request).await;
    // Meanwhile someone completes a task that was going to move.
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(entity::TaskStatus::Complete))
        .filter(task::Column::Key.eq("t-no-due"))
        .exec(&firm.db)
        .await
        .unwrap();
    let before = snapshot(&firm.db).await;
    request.preview_token = Some(preview.token);
    let errors = refused(firm.try_reassign(&ada, &request, cutoff()).await, "reassignment");
    assert_eq!(errors[0].code, "PREVIEW_STALE");
    assert_eq!(snapshot(&firm.db).await, before, "a stale token changes nothing");
    // Time alone can make a plan stale: an event that has started since.
    let mut request = firm.sam_to_tia().await;
    let preview = firm.preview(&ada, &request).await;
    request.preview_token = Some(preview.token);
    let later = cutoff() + chrono::Duration::hours(1);
    let reused = firm.live.reuse.reused();
    let errors = refused(firm.try_reassign(&ada, &request, later).await, "reassignment");
    assert_eq!(errors[0].code, "PREVIEW_STALE");
    // On SQLite nothing was committed since the preview, so the apply decided on its loads:
    // at its own clock, not the preview's.
    let expected = reused + u64::from(backend == Backend::Sqlite);
    assert_eq!(firm.live.reuse.reused(), expected);
}

/// A second connection pool on the firm's database, as another process would have: the server
/// must see what it commits.
async fn another_process(firm: &Firm, backend: Backend) -> DatabaseConnection {
    match backend {
        Backend::Sqlite => {
            let file = firm.db.get_sqlite_connection_pool().connect_options();
            handover::db::connect(&format!("sqlite://{}", file.get_filename().display()))
                .await
                .unwrap()
        }
        Backend::Postgres => firm.db.clone(),
    }
}

/// Complete a task through `another_process`.
async fn complete_from_another_process(firm: &Firm, backend: Backend, key: &str) {
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(entity::TaskStatus::Complete))
        .filter(task::Column::Key.eq(key))
        .exec(&another_process(firm, backend).await)
        .await
        .unwrap();
}

async fn an_apply_decides_on_its_previews_loads_only_while_nothing_changed(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let reused = || firm.live.reuse.reused();
    let moving = |plan: &Plan| {
        [&plan.matters, &plan.tasks, &plan.events].map(|c| c.as_ref().map_or(0, |c| c.moving().count() as i64))
    };

    // Something is committed between the preview and the apply, from outside this server's
    // pool: the apply reads again, and sees it.
    let mut request = firm.sam_to_tia().await;
    let preview = firm.preview(&ada, &request).await;
    complete_from_another_process(&firm, backend, "t-no-due").await;
    request.preview_token = Some(preview.token);
    let errors = refused(firm.try_reassign(&ada, &request, cutoff()).await, "reassignment");
    assert_eq!(errors[0].code, "PREVIEW_STALE");
    assert_eq!(reused(), 0, "loads read before a commit are not reused");

    // Nothing in between: on SQLite the apply decides on the preview's loads, and writes
    // exactly what the preview showed.
    let preview = firm.preview(&ada, &request).await;
    request.preview_token = Some(preview.token.clone());
    let applied = firm.reassign(&ada, &request).await;
    let batch = &applied.reassignment;
    assert_eq!(
        [
            batch.matters_reassigned,
            batch.tasks_reassigned,
            batch.events_reassigned
        ],
        moving(&preview.plan)
    );
    assert_eq!([batch.matters_reassigned, batch.tasks_reassigned], [4, 5]);
    let expected = match backend {
        Backend::Sqlite => 1,
        // No change counter: every apply reads again.
        Backend::Postgres => 0,
    };
    assert_eq!(reused(), expected);
    assert_eq!(
        firm.task_assignee("t-no-due").await,
        firm.user("sam").await,
        "completed: stays"
    );

    // Loads are kept for the same order only: another person's work is read for itself.
    firm.preview(&ada, &firm.sam_to_tia().await).await;
    let onward = Request {
        from_user_id: Some(Ok(firm.user("tia").await)),
        to_user_id: Some(Ok(firm.user("otto").await)),
        acknowledge_risks: true,
        ..Default::default()
    };
    let applied = firm.reassign(&ada, &onward).await;
    assert_eq!(reused(), expected);
    assert_eq!(applied.reassignment.from_user_id, firm.user("tia").await);
    let b = &applied.reassignment;
    assert!(b.matters_reassigned + b.tasks_reassigned + b.events_reassigned > 0);
}

async fn a_preview_asked_again_decides_on_its_loads_only_while_nothing_changed(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let reused = || firm.live.reuse.reused();
    let on_sqlite = u64::from(backend == Backend::Sqlite);
    let mut request = firm.sam_to_tia().await;
    let first = firm.preview(&ada, &request).await;
    assert_eq!(reused(), 0);

    // Asked again with nothing committed since, as a front end paging through its lists does:
    // on SQLite the rules decide on the first preview's loads, and the preview is the same.
    let again = firm.preview(&ada, &request).await;
    assert_eq!(reused(), on_sqlite);
    assert_eq!(again.token, first.token);
    assert_eq!(outlines(&firm, &again.plan).await, outlines(&firm, &first.plan).await);

    // An hour later an event has started: the same loads, decided at the new request's clock.
    let later = cutoff() + chrono::Duration::hours(1);
    let later = accepted(
        reassign::preview(&firm.db, &firm.live, &ada, &request, later).await,
        "preview an hour later",
    );
    assert_eq!(reused(), 2 * on_sqlite);
    assert_ne!(later.token, first.token, "decided at its own clock");

    // Something committed from outside this server's pool: the next preview reads again. This
    // one has not accepted the risks yet; the apply below does, on the same loads.
    complete_from_another_process(&firm, backend, "t-no-due").await;
    request.acknowledge_risks = false;
    let after = firm.preview(&ada, &request).await;
    assert_eq!(reused(), 2 * on_sqlite, "loads read before a commit are not reused");
    let [_, tasks, _] = outlines(&firm, &after.plan).await;
    assert!(!tasks.moving.contains("t-no-due"), "completed since: stays");
    assert_ne!(after.token, first.token);

    // Its loads are kept in turn, for the apply that confirms it and accepts its risks.
    request.acknowledge_risks = true;
    request.preview_token = Some(after.token);
    let applied = firm.reassign(&ada, &request).await;
    assert_eq!(applied.reassignment.tasks_reassigned, 5);
    assert_eq!(reused(), 3 * on_sqlite);
}

/// A front end that previews Sam's work for Tia and then for Otto: on SQLite, with nothing
/// committed in between, the second preview and the apply decide on the first's loads, and they
/// are exactly what reading afresh gives (Otto may not see every matter Tia may).
async fn a_preview_for_another_receiver_decides_on_the_same_loads(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let reused = || firm.live.reuse.reused();
    let on_sqlite = u64::from(backend == Backend::Sqlite);
    let to_tia = firm.preview(&ada, &firm.sam_to_tia().await).await;
    assert_eq!(reused(), 0);

    let mut request = Request {
        to_user_id: Some(Ok(firm.user("otto").await)),
        ..firm.sam_to_tia().await
    };
    let to_otto = firm.preview(&ada, &request).await;
    assert_eq!(reused(), on_sqlite);
    // Read afresh, by a server that has kept nothing.
    let fresh = handover::notify::Live::start(&firm.db, Default::default());
    let read = accepted(
        reassign::preview(&firm.db, &fresh, &ada, &request, cutoff()).await,
        "preview read afresh",
    );
    assert_eq!(fresh.reuse.reused(), 0);
    assert_eq!(to_otto.token, read.token);
    assert_eq!(outlines(&firm, &to_otto.plan).await, outlines(&firm, &read.plan).await);
    assert_ne!(
        outlines(&firm, &to_otto.plan).await,
        outlines(&firm, &to_tia.plan).await,
        "the receiver's access decides"
    );

    request.preview_token = Some(to_otto.token);
    let applied = firm.reassign(&ada, &request).await;
    assert_eq!(reused(), 2 * on_sqlite);
    let b = &applied.reassignment;
    let moving = |kind: Option<&reassign::CategoryPlan>| kind.map_or(0, |c| c.moving().count() as i64);
    assert_eq!(
        [b.matters_reassigned, b.tasks_reassigned, b.events_reassigned],
        [
            moving(read.plan.matters.as_ref()),
            moving(read.plan.tasks.as_ref()),
            moving(read.plan.events.as_ref())
        ]
    );
}

async fn idempotency_key_returns_the_first_result(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let mut request = firm.sam_to_tia().await;
    request.idempotency_key = Some("offboard-sam".into());
    let first = firm.reassign(&ada, &request).await;
    assert!(!first.replayed);
    let after_first = snapshot(&firm.db).await;
    let again = firm.reassign(&ada, &request).await;
    assert!(again.replayed);
    assert_eq!(again.reassignment.id, first.reassignment.id);
    assert_eq!(snapshot(&firm.db).await, after_first, "a retry changes nothing");
    request.note = Some("a different input".into());
    let errors = refused(firm.try_reassign(&ada, &request, cutoff()).await, "reassignment");
    assert_eq!(errors[0].code, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(snapshot(&firm.db).await, after_first);
}

async fn undo_returns_what_is_unchanged_and_reports_the_rest(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let (sam, tia, otto) = (firm.user("sam").await, firm.user("tia").await, firm.user("otto").await);
    let mut request = firm.sam_to_tia().await;
    request.grant_matter_access = true;
    let batch = firm.reassign(&ada, &request).await.reassignment;

    // Since then: one moved task was given to Otto, another was completed.
    task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(otto))
        .filter(task::Column::Key.eq("t-listed"))
        .exec(&firm.db)
        .await
        .unwrap();
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(entity::TaskStatus::Complete))
        .filter(task::Column::Key.eq("t-due-tomorrow"))
        .exec(&firm.db)
        .await
        .unwrap();

    let undo = firm.undo(&ada, batch.id).await.reassignment;
    assert_eq!(undo.undo_of_id, Some(batch.id));
    // Everything else goes back to Sam, deactivated as he is.
    assert_eq!(firm.task_assignee("t-due-today").await, sam);
    assert_eq!(firm.task_assignee("t-group-out").await, sam);
    assert_eq!(firm.task_assignee("t-listed").await, otto, "changed since: left alone");
    assert_eq!(
        firm.task_assignee("t-due-tomorrow").await,
        tia,
        "completed since: left alone"
    );
    let items = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::ReassignmentId.eq(undo.id))
        .all(&firm.db)
        .await
        .unwrap();
    let keys = firm.keys().await;
    let skipped: BTreeMap<String, R> = items
        .iter()
        .filter(|i| i.outcome == ItemOutcome::Skipped)
        .map(|i| (keys[&(i.kind, i.record_id)].clone(), i.reason.unwrap()))
        .collect();
    assert_eq!(
        skipped,
        BTreeMap::from([
            ("t-due-tomorrow".to_string(), R::Completed),
            ("t-listed".to_string(), R::Changed)
        ])
    );
    for i in items.iter().filter(|i| i.outcome == ItemOutcome::Reassigned) {
        assert_eq!((i.previous_holder_id, i.new_holder_id), (tia, Some(sam)));
    }
    // Matters and events went back too; Sam is an attendee again where Tia had replaced him,
    // and Tia keeps her own place where she attended already... as one row.
    let m = one::<matter::Entity>(&firm.db, matter::Column::Key.eq("m-open")).await;
    assert_eq!(m.responsible_attorney_id, Some(sam));
    let sam_calendar = handover::firm::work::personal_calendar(&firm.db, ada.firm_id(), sam)
        .await
        .unwrap()
        .unwrap();
    let e = one::<calendar_event::Entity>(&firm.db, calendar_event::Column::Key.eq("e-later")).await;
    assert_eq!(e.calendar_id, sam_calendar);
    let attendees: BTreeSet<i64> = event_attendee::Entity::find()
        .filter(event_attendee::Column::EventId.eq(e.id))
        .all(&firm.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    assert!(attendees.contains(&sam) && !attendees.contains(&tia), "{attendees:?}");
    // The access granted for the group matter is taken back.
    let group_out = one::<matter::Entity>(&firm.db, matter::Column::Key.eq("m-group-out")).await;
    let still = entity::matter_permitted_user::Entity::find()
        .filter(entity::matter_permitted_user::Column::MatterId.eq(group_out.id))
        .filter(entity::matter_permitted_user::Column::UserId.eq(tia))
        .one(&firm.db)
        .await
        .unwrap();
    assert!(still.is_none());

    let original = entity::reassignment::Entity::find_by_id(batch.id)
        .one(&firm.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(original.status, entity::ReassignmentStatus::Undone);
    assert_eq!(original.undone_by_id, Some(undo.id));
    let before = snapshot(&firm.db).await;
    let errors = refused(firm.try_undo(&ada, batch.id).await, "second undo");
    assert_eq!(errors[0].code, "ALREADY_UNDONE");
    assert_eq!(snapshot(&firm.db).await, before);
}

async fn concurrent_applies_never_move_a_record_twice(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let (sam, tia, otto) = (firm.user("sam").await, firm.user("tia").await, firm.user("otto").await);
    let to_tia = firm.sam_to_tia().await;
    let to_otto = Request {
        to_user_id: Some(Ok(otto)),
        ..to_tia.clone()
    };
    let run = |r: Request| {
        let (db, live, ada) = (firm.db.clone(), firm.live.clone(), ada.clone());
        tokio::spawn(async move { reassign::reassign(&db, &live, &ada, &r, cutoff()).await })
    };
    let (a, b) = tokio::join!(run(to_tia), run(to_otto));
    let a = a
        .unwrap()
        .expect("no database error, no 'database is locked'")
        .unwrap()
        .reassignment;
    let b = b
        .unwrap()
        .expect("no database error, no 'database is locked'")
        .unwrap()
        .reassignment;

    let moved_by = |batch: i64| {
        let db = firm.db.clone();
        async move {
            reassignment_item::Entity::find()
                .filter(reassignment_item::Column::ReassignmentId.eq(batch))
                .filter(reassignment_item::Column::Outcome.eq(ItemOutcome::Reassigned))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|i| (i.kind, i.record_id, i.new_holder_id.unwrap()))
                .collect::<Vec<_>>()
        }
    };
    let (ma, mb) = (moved_by(a.id).await, moved_by(b.id).await);
    let ids_a: BTreeSet<(WorkKind, i64)> = ma.iter().map(|(k, r, _)| (*k, *r)).collect();
    let ids_b: BTreeSet<(WorkKind, i64)> = mb.iter().map(|(k, r, _)| (*k, *r)).collect();
    assert!(ids_a.is_disjoint(&ids_b), "a record moved by both");
    // Each batch's recorded range holds all its items, though the two were written at once.
    for batch in [&a, &b] {
        let items = |filter: sea_orm::Condition| {
            let db = firm.db.clone();
            async move {
                let mut ids: Vec<i64> = reassignment_item::Entity::find()
                    .filter(filter)
                    .all(&db)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|i| i.id)
                    .collect();
                ids.sort_unstable();
                ids
            }
        };
        let all = items(sea_orm::Condition::all().add(reassignment_item::Column::ReassignmentId.eq(batch.id))).await;
        assert!(!all.is_empty());
        assert_eq!(
            (batch.first_item_id, batch.last_item_id),
            (all.first().copied(), all.last().copied())
        );
        assert_eq!(items(batch.items()).await, all);
    }
    // Tasks moved by one of them are held by that one's target: no lost update.
    for (kind, record, holder) in ma.iter().chain(mb.iter()) {
        if *kind == WorkKind::Task {
            let t = task::Entity::find_by_id(*record).one(&firm.db).await.unwrap().unwrap();
            assert_eq!(t.assignee_id, *holder);
        }
    }
    // Every task the rules let move ended with one of the two targets, whichever ran first
    // (work Otto may not see stays for Tia's batch); the rest stayed with Sam.
    for key in expected_tasks().moving {
        let holder = firm.task_assignee(&key).await;
        assert!(holder == tia || holder == otto, "{key} is held by {holder}");
    }
    for key in [
        "t-due-yesterday",
        "t-complete",
        "t-no-matter",
        "t-closed",
        "t-private-sam",
    ] {
        assert_eq!(firm.task_assignee(key).await, sam, "{key}");
    }
}

async fn concurrent_undos_only_one_wins(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let batch = firm.reassign(&ada, &firm.sam_to_tia().await).await.reassignment;
    let run = || {
        let (db, live, ada) = (firm.db.clone(), firm.live.clone(), ada.clone());
        tokio::spawn(async move { reassign::undo(&db, &live, &ada, batch.id, cutoff()).await })
    };
    let (a, b) = tokio::join!(run(), run());
    let outcomes = [a.unwrap().unwrap(), b.unwrap().unwrap()];
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "exactly one undo");
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.as_ref().is_err_and(|e| e[0].code == "ALREADY_UNDONE"))
            .count(),
        1
    );
}

/// The apply's guard, seen from inside: a task and a matter written by someone else after the
/// plan was made (here, in the write transaction itself, between planning and writing) are
/// left with their new holder and reported `CHANGED`; everything else moves. On SQLite this
/// takes the guarded update's second way (the one-statement update falls short and is undone).
async fn a_record_changed_after_planning_is_skipped_not_clobbered(backend: Backend) {
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let (tia, otto) = (firm.user("tia").await, firm.user("otto").await);
    let preview = firm.preview(&ada, &firm.sam_to_tia().await).await;
    let outline = outlines(&firm, &preview.plan).await;
    assert!(outline[1].moving.contains("t-listed") && outline[0].moving.contains("m-open"));

    let txn = handover::db::begin_write(&firm.db).await.unwrap();
    task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(otto))
        .filter(task::Column::Key.eq("t-listed"))
        .exec(&txn)
        .await
        .unwrap();
    matter::Entity::update_many()
        .col_expr(matter::Column::ResponsibleAttorneyId, Expr::value(otto))
        .filter(matter::Column::Key.eq("m-open"))
        .exec(&txn)
        .await
        .unwrap();
    let (batch, _) = reassign::apply::execute(&txn, &preview.order, &preview.plan)
        .await
        .unwrap();
    txn.commit().await.unwrap();

    assert_eq!(firm.task_assignee("t-listed").await, otto, "changed: left alone");
    let m = one::<matter::Entity>(&firm.db, matter::Column::Key.eq("m-open")).await;
    assert_eq!(m.responsible_attorney_id, Some(otto), "changed: left alone");
    for key in outline[1].moving.iter().filter(|k| *k != "t-listed") {
        assert_eq!(firm.task_assignee(key).await, tia, "{key} moves");
    }
    let keys = firm.keys().await;
    let items = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::ReassignmentId.eq(batch.id))
        .all(&firm.db)
        .await
        .unwrap();
    let changed: BTreeSet<String> = items
        .iter()
        .filter(|i| i.reason == Some(R::Changed))
        .map(|i| keys[&(i.kind, i.record_id)].clone())
        .collect();
    assert_eq!(changed, set(&["t-listed", "m-open"]));
    assert_eq!(batch.tasks_reassigned, outline[1].moving.len() as i64 - 1);
    assert_eq!(batch.matters_reassigned, outline[0].moving.len() as i64 - 1);
    assert_eq!(
        items.len(),
        preview
            .plan
            .categories(&preview.order)
            .map(|(_, _, c)| c.items().len())
            .sum::<usize>()
    );
}

/// The apply writes each category chunk by chunk (`apply::WRITE_CHUNK` records at a time).
/// Written one record at a time, with a record changed after planning (so that a chunk's
/// all-at-once update falls short and reads what its guard admits), the records, the report,
/// the counts and the notifications are exactly what one chunk writes.
async fn an_apply_written_in_chunks_writes_what_one_chunk_writes(backend: Backend) {
    use sea_orm::QueryOrder;
    let mut written = Vec::new();
    for chunk in [1, usize::MAX] {
        let firm = rules_firm(backend).await;
        let ada = firm.viewer("ada@rules.test").await;
        let preview = firm.preview(&ada, &firm.sam_to_tia().await).await;
        let txn = handover::db::begin_write(&firm.db).await.unwrap();
        task::Entity::update_many()
            .col_expr(task::Column::AssigneeId, Expr::value(firm.user("otto").await))
            .filter(task::Column::Key.eq("t-listed"))
            .exec(&txn)
            .await
            .unwrap();
        let (batch, published) = reassign::apply::execute_in_chunks(&txn, &preview.order, &preview.plan, chunk)
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let items: Vec<String> = reassignment_item::Entity::find()
            .filter(reassignment_item::Column::ReassignmentId.eq(batch.id))
            .order_by_asc(reassignment_item::Column::Kind)
            .order_by_asc(reassignment_item::Column::RecordId)
            .all(&firm.db)
            .await
            .unwrap()
            .into_iter()
            .map(|i| {
                format!(
                    "{:?} {} {:?} {} {:?} {:?} {:?} {} {:?}",
                    i.kind,
                    i.record_id,
                    i.matter_id,
                    i.previous_holder_id,
                    i.new_holder_id,
                    i.outcome,
                    i.reason,
                    i.attendee_replaced,
                    i.risk
                )
            })
            .collect();
        let told: Vec<(i64, String)> = published.iter().map(|p| (p.user_id(), p.0.body.clone())).collect();
        let counts = (
            batch.matters_reassigned,
            batch.tasks_reassigned,
            batch.events_reassigned,
            batch.items_skipped,
        );
        written.push((snapshot(&firm.db).await, items, counts, told));
    }
    let (records, items, counts, told) = &written[0];
    assert_eq!(
        counts,
        &(4, 5, 4, items.len() as i64 - 13),
        "t-listed changed: five tasks move"
    );
    assert!(items.iter().any(|i| i.contains("Some(Changed)")), "{items:#?}");
    assert!(!told.is_empty());
    assert_eq!(records, &written[1].0, "the records");
    assert_eq!(items, &written[1].1, "the report");
    assert_eq!(counts, &written[1].2, "the counts");
    assert_eq!(told, &written[1].3, "the notifications");
}

/// A reassignment bigger than the chunks it is read and written in (an apply writes
/// `WRITE_CHUNK` records at a time; an undo takes back `undo::PASS` items a pass, reading their
/// records `EXACT_CHUNK` ids a statement): 70,000 more tasks and 9,000 more events move and go
/// back exactly, except a task and an event changed meanwhile, each past the first pass, which
/// stay and are reported `CHANGED`.
async fn a_reassignment_bigger_than_its_chunks_is_undone_exactly(backend: Backend) {
    use sea_orm::{ConnectionTrait, PaginatorTrait};
    let firm = rules_firm(backend).await;
    let ada = firm.viewer("ada@rules.test").await;
    let (sam, tia, otto) = (firm.user("sam").await, firm.user("tia").await, firm.user("otto").await);
    let firm_id = ada.firm_id();
    let m_open = one::<matter::Entity>(&firm.db, matter::Column::Key.eq("m-open"))
        .await
        .id;
    let calendar = |user| handover::firm::work::personal_calendar(&firm.db, firm_id, user);
    let (sam_calendar, otto_calendar) = (
        calendar(sam).await.unwrap().unwrap(),
        calendar(otto).await.unwrap().unwrap(),
    );
    let (due, at) = match backend {
        Backend::Postgres => ("DATE '2027-01-15'", "TIMESTAMPTZ '2027-01-15 15:00:00+00:00'"),
        _ => ("'2027-01-15'", "'2027-01-15 15:00:00+00:00'"),
    };
    let numbers = |n: u32| format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})");
    firm.db
        .execute_unprepared(&format!(
            "{} INSERT INTO task (firm_id, key, name, matter_id, assignee_id, due_date, status, statute_of_limitations)
             SELECT {firm_id}, 'bulk-t' || i, 'Bulk task', {m_open}, {sam}, {due}, 'PENDING', FALSE FROM n",
            numbers(70_000)
        ))
        .await
        .unwrap();
    firm.db
        .execute_unprepared(&format!(
            "{} INSERT INTO calendar_event (firm_id, key, title, matter_id, calendar_id, start_at, end_at, all_day)
             SELECT {firm_id}, 'bulk-e' || i, 'Bulk event', {m_open}, {sam_calendar}, {at}, {at}, FALSE FROM n",
            numbers(9_000)
        ))
        .await
        .unwrap();
    let bulk_tasks = |holder: i64| {
        task::Entity::find()
            .filter(task::Column::Key.starts_with("bulk-t"))
            .filter(task::Column::AssigneeId.eq(holder))
            .count(&firm.db)
    };
    let bulk_events = |calendar: i64| {
        calendar_event::Entity::find()
            .filter(calendar_event::Column::Key.starts_with("bulk-e"))
            .filter(calendar_event::Column::CalendarId.eq(calendar))
            .count(&firm.db)
    };

    let batch = firm.reassign(&ada, &firm.sam_to_tia().await).await.reassignment;
    assert_eq!(
        (
            batch.matters_reassigned,
            batch.tasks_reassigned,
            batch.events_reassigned
        ),
        (4, 70_006, 9_004)
    );
    assert_eq!(bulk_tasks(tia).await.unwrap(), 70_000);

    // Since then, a task and an event past the first chunk went to Otto.
    task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(otto))
        .filter(task::Column::Key.eq("bulk-t66000"))
        .exec(&firm.db)
        .await
        .unwrap();
    calendar_event::Entity::update_many()
        .col_expr(calendar_event::Column::CalendarId, Expr::value(otto_calendar))
        .filter(calendar_event::Column::Key.eq("bulk-e8500"))
        .exec(&firm.db)
        .await
        .unwrap();

    let undo = firm.undo(&ada, batch.id).await.reassignment;
    assert_eq!(
        (undo.matters_reassigned, undo.tasks_reassigned, undo.events_reassigned),
        (4, 70_005, 9_003)
    );
    assert_eq!(undo.items_skipped, 2);
    assert_eq!(bulk_tasks(sam).await.unwrap(), 69_999);
    assert_eq!(bulk_events(sam_calendar).await.unwrap(), 8_999);
    assert_eq!(firm.task_assignee("bulk-t66000").await, otto);
    let keys = firm.keys().await;
    let changed: BTreeSet<String> = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::ReassignmentId.eq(undo.id))
        .filter(reassignment_item::Column::Reason.eq(R::Changed))
        .all(&firm.db)
        .await
        .unwrap()
        .into_iter()
        .map(|i| keys[&(i.kind, i.record_id)].clone())
        .collect();
    assert_eq!(changed, set(&["bulk-t66000", "bulk-e8500"]));
}

on_both_databases!(
    a_reassignment_bigger_than_its_chunks_is_undone_exactly,
    an_apply_written_in_chunks_writes_what_one_chunk_writes,
    a_record_changed_after_planning_is_skipped_not_clobbered,
    preview_reports_every_rule_and_reason,
    apply_moves_exactly_what_the_preview_showed,
    grant_matter_access_moves_group_work_and_adds_the_target,
    per_category_targets_and_left_out_categories,
    restricting_to_matters,
    invalid_input_is_refused_and_changes_nothing,
    stale_preview_token_changes_nothing,
    an_apply_decides_on_its_previews_loads_only_while_nothing_changed,
    a_preview_asked_again_decides_on_its_loads_only_while_nothing_changed,
    a_preview_for_another_receiver_decides_on_the_same_loads,
    idempotency_key_returns_the_first_result,
    undo_returns_what_is_unchanged_and_reports_the_rest,
    concurrent_applies_never_move_a_record_twice,
    concurrent_undos_only_one_wins,
);
