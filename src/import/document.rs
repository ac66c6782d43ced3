//! The import format (SPEC.md section 6) and its validation. Validation walks the JSON itself
//! rather than stopping at serde's first error, so a bad file is answered with every problem
//! at once, each named by its JSON path (`$.tasks[3].dueDate`).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{Licence, MatterStatus, TaskStatus};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Clone)]
pub struct FirmDocument {
    pub firm: FirmIn,
    /// The day the file's dates were written for; `--rebase-dates` moves it to today.
    pub reference_date: Option<NaiveDate>,
    pub users: Vec<UserIn>,
    pub groups: Vec<GroupIn>,
    pub matters: Vec<MatterIn>,
    pub tasks: Vec<TaskIn>,
    pub calendar_events: Vec<EventIn>,
}

#[derive(Debug, Clone)]
pub struct FirmIn {
    pub key: String,
    pub name: String,
    pub time_zone: String,
    /// The identity providers the firm trusts (`firm.auth.issuers`); `None`: the file does not
    /// say, and the firm keeps those it has.
    pub issuers: Option<Vec<IssuerIn>>,
}

/// One trusted identity provider (see the README, "Single sign-on").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerIn {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: Option<String>,
    pub identity_claim: String,
    pub identity: crate::auth::IdentityKind,
    pub email_verified_claim: String,
}

#[derive(Debug, Clone)]
pub struct UserIn {
    pub key: String,
    pub name: String,
    pub email: String,
    pub account_admin: bool,
    pub licence: Licence,
    pub enabled: bool,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct GroupIn {
    pub key: String,
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermissionIn {
    Everyone,
    Listed { users: Vec<String>, groups: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct MatterIn {
    pub key: String,
    pub display_number: String,
    pub description: String,
    pub status: MatterStatus,
    pub practice_area: Option<String>,
    pub client: String,
    pub responsible_attorney: Option<String>,
    pub originating_attorney: Option<String>,
    pub permission: PermissionIn,
}

#[derive(Debug, Clone)]
pub struct TaskIn {
    pub key: String,
    pub name: String,
    pub matter: Option<String>,
    pub assignee: String,
    pub assigner: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub status: TaskStatus,
    pub statute_of_limitations: bool,
}

/// `calendar`: a user key (that user's personal calendar) or `"firm"`.
pub const FIRM_CALENDAR: &str = "firm";

#[derive(Debug, Clone)]
pub struct EventIn {
    pub key: String,
    pub title: String,
    pub matter: Option<String>,
    pub calendar: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub all_day: bool,
    pub attendees: Vec<String>,
}

impl FirmDocument {
    /// Shift every date and instant by whole days so that `referenceDate` becomes today in the
    /// firm's time zone. Relative order and times of day are kept.
    pub fn rebase_to_today(&mut self) -> Result<(), Problem> {
        let reference = self.reference_date.ok_or_else(|| Problem {
            path: "$.referenceDate".into(),
            message: "--rebase-dates needs the file's referenceDate (YYYY-MM-DD)".into(),
        })?;
        let tz: Tz = self.firm.time_zone.parse().expect("validated");
        let today = Utc::now().with_timezone(&tz).date_naive();
        self.shift_days((today - reference).num_days());
        self.reference_date = Some(today);
        Ok(())
    }

    pub fn shift_days(&mut self, days: i64) {
        let by = Duration::days(days);
        for task in &mut self.tasks {
            task.due_date = task.due_date.map(|d| d + by);
        }
        for event in &mut self.calendar_events {
            event.start += by;
            event.end += by;
        }
    }
}

/// Parse and validate an import document. On failure, every problem found.
pub fn parse(text: &str) -> Result<FirmDocument, Vec<Problem>> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        vec![Problem {
            path: "$".into(),
            message: format!("not valid JSON (line {}, column {}): {e}", e.line(), e.column()),
        }]
    })?;
    let mut v = Validator::default();
    // Text no database can hold is refused with its path, whatever field it is in.
    nul_problems(&root, "$", &mut v.problems);
    let doc = v.document(&root);
    if v.problems.is_empty() {
        Ok(doc.expect("no problems, so a document"))
    } else {
        Err(v.problems)
    }
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
}

/// One JSON object being read; remembers which fields were read so that unknown (misspelt)
/// fields can be reported.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    read: HashSet<&'static str>,
}

impl Validator {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn object<'a>(&mut self, value: &'a Value, path: &str) -> Option<Obj<'a>> {
        match value {
            Value::Object(map) => Some(Obj {
                map,
                path: path.to_string(),
                read: HashSet::new(),
            }),
            _ => {
                self.problem(path, "must be an object");
                None
            }
        }
    }

    fn finish(&mut self, obj: Obj<'_>) {
        for name in obj.map.keys() {
            if !obj.read.contains(name.as_str()) {
                self.problem(format!("{}.{name}", obj.path), "unknown field");
            }
        }
    }

    /// A field's value, `None` when absent or null.
    fn field<'a>(&mut self, obj: &mut Obj<'a>, name: &'static str) -> Option<&'a Value> {
        obj.read.insert(name);
        obj.map.get(name).filter(|v| !v.is_null())
    }

    fn string_opt(&mut self, obj: &mut Obj<'_>, name: &'static str) -> Option<String> {
        let path = format!("{}.{name}", obj.path);
        match self.field(obj, name)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::String(_) => {
                self.problem(path, "must not be empty");
                None
            }
            _ => {
                self.problem(path, "must be a string");
                None
            }
        }
    }

    fn string(&mut self, obj: &mut Obj<'_>, name: &'static str) -> Option<String> {
        let present = obj.map.get(name).is_some_and(|v| !v.is_null());
        let out = self.string_opt(obj, name);
        if !present {
            self.problem(format!("{}.{name}", obj.path), "is required");
        }
        out
    }

    fn boolean(&mut self, obj: &mut Obj<'_>, name: &'static str, default: Option<bool>) -> Option<bool> {
        let path = format!("{}.{name}", obj.path);
        match self.field(obj, name) {
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.problem(path, "must be true or false");
                None
            }
            None if default.is_some() => default,
            None => {
                self.problem(path, "is required");
                None
            }
        }
    }

    fn choice<T: Copy>(&mut self, obj: &mut Obj<'_>, name: &'static str, options: &[(&str, T)]) -> Option<T> {
        let path = format!("{}.{name}", obj.path);
        let text = self.string(obj, name)?;
        let found = options.iter().find(|(s, _)| *s == text).map(|(_, v)| *v);
        if found.is_none() {
            let names: Vec<&str> = options.iter().map(|(s, _)| *s).collect();
            self.problem(path, format!("\"{text}\" is not one of {}", names.join(", ")));
        }
        found
    }

    fn time_zone(&mut self, obj: &mut Obj<'_>, name: &'static str, required: bool) -> Option<String> {
        let path = format!("{}.{name}", obj.path);
        let tz = if required {
            self.string(obj, name)?
        } else {
            self.string_opt(obj, name)?
        };
        if tz.parse::<Tz>().is_err() {
            self.problem(path, format!("\"{tz}\" is not an IANA time zone name"));
            return None;
        }
        Some(tz)
    }

    fn date_opt(&mut self, obj: &mut Obj<'_>, name: &'static str) -> Result<Option<NaiveDate>, ()> {
        let path = format!("{}.{name}", obj.path);
        let Some(text) = self.string_opt(obj, name) else {
            return Ok(None);
        };
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map(Some).map_err(|_| {
            self.problem(path, format!("\"{text}\" is not a date (YYYY-MM-DD)"));
        })
    }

    fn instant(&mut self, obj: &mut Obj<'_>, name: &'static str) -> Option<DateTime<Utc>> {
        let path = format!("{}.{name}", obj.path);
        let text = self.string(obj, name)?;
        match DateTime::parse_from_rfc3339(&text) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                self.problem(
                    path,
                    format!("\"{text}\" is not an RFC 3339 instant (e.g. 2026-12-02T15:00:00Z)"),
                );
                None
            }
        }
    }

    fn string_list(&mut self, obj: &mut Obj<'_>, name: &'static str) -> Vec<String> {
        let path = format!("{}.{name}", obj.path);
        match self.field(obj, name) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                        _ => self.problem(format!("{path}[{i}]"), "must be a non-empty string"),
                    }
                }
                out
            }
            Some(_) => {
                self.problem(path, "must be an array of keys");
                Vec::new()
            }
        }
    }

    fn array<'a>(&mut self, obj: &mut Obj<'a>, name: &'static str) -> Vec<(String, &'a Value)> {
        let path = format!("{}.{name}", obj.path);
        match self.field(obj, name) {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{path}[{i}]"), v))
                .collect(),
            Some(_) => {
                self.problem(path, "must be an array");
                Vec::new()
            }
        }
    }

    /// Keys are unique per kind: report the second and later uses.
    fn unique_keys<'k>(&mut self, what: &str, keys: impl Iterator<Item = (&'k str, String)>) -> HashSet<String> {
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (key, path) in keys {
            if let Some(first) = seen.get(key) {
                self.problem(
                    format!("{path}.key"),
                    format!("duplicate {what} key \"{key}\" (first used at {first})"),
                );
            } else {
                seen.insert(key, path);
            }
        }
        seen.into_keys().map(str::to_string).collect()
    }

    fn reference(&mut self, known: &HashSet<String>, key: &str, path: String, what: &str) {
        if !known.contains(key) {
            self.problem(path, format!("unknown {what} \"{key}\""));
        }
    }

    fn document(&mut self, root: &Value) -> Option<FirmDocument> {
        let mut top = self.object(root, "$")?;
        let firm_value = self.field(&mut top, "firm");
        let firm = match firm_value {
            Some(value) => self.firm(value),
            None => {
                self.problem("$.firm", "is required");
                None
            }
        };
        let reference_date = self.date_opt(&mut top, "referenceDate").ok().flatten();

        let raw_users = self.array(&mut top, "users");
        let raw_groups = self.array(&mut top, "groups");
        let raw_matters = self.array(&mut top, "matters");
        let raw_tasks = self.array(&mut top, "tasks");
        let raw_events = self.array(&mut top, "calendarEvents");
        self.finish(top);

        // Keys are checked on the raw records, so that a record with other problems still
        // counts for uniqueness and as a reference target (no cascade of "unknown user").
        let user_keys = self.unique_keys("user", raw_keys(&raw_users));
        let group_keys = self.unique_keys("group", raw_keys(&raw_groups));
        let matter_keys = self.unique_keys("matter", raw_keys(&raw_matters));
        self.unique_keys("task", raw_keys(&raw_tasks));
        self.unique_keys("calendar event", raw_keys(&raw_events));

        let users: Vec<(String, UserIn)> = raw_users
            .into_iter()
            .filter_map(|(path, v)| self.user(v, &path).map(|u| (path, u)))
            .collect();
        let groups: Vec<(String, GroupIn)> = raw_groups
            .into_iter()
            .filter_map(|(path, v)| self.group(v, &path).map(|g| (path, g)))
            .collect();
        let matters: Vec<(String, MatterIn)> = raw_matters
            .into_iter()
            .filter_map(|(path, v)| self.matter(v, &path).map(|m| (path, m)))
            .collect();
        let tasks: Vec<(String, TaskIn)> = raw_tasks
            .into_iter()
            .filter_map(|(path, v)| self.task(v, &path).map(|t| (path, t)))
            .collect();
        let events: Vec<(String, EventIn)> = raw_events
            .into_iter()
            .filter_map(|(path, v)| self.event(v, &path).map(|e| (path, e)))
            .collect();

        let mut emails: HashMap<String, String> = HashMap::new();
        for (path, u) in &users {
            let email = u.email.to_lowercase();
            if let Some(first) = emails.get(&email) {
                self.problem(
                    format!("{path}.email"),
                    format!("email \"{}\" is already used at {first}", u.email),
                );
            } else {
                emails.insert(email, path.clone());
            }
        }
        for (path, g) in &groups {
            for (i, m) in g.members.iter().enumerate() {
                self.reference(&user_keys, m, format!("{path}.members[{i}]"), "user");
            }
        }
        for (path, m) in &matters {
            for (field, key) in [
                ("responsibleAttorney", &m.responsible_attorney),
                ("originatingAttorney", &m.originating_attorney),
            ] {
                if let Some(key) = key {
                    self.reference(&user_keys, key, format!("{path}.{field}"), "user");
                }
            }
            if let PermissionIn::Listed { users: pu, groups: pg } = &m.permission {
                for (i, k) in pu.iter().enumerate() {
                    self.reference(&user_keys, k, format!("{path}.permission.users[{i}]"), "user");
                }
                for (i, k) in pg.iter().enumerate() {
                    self.reference(&group_keys, k, format!("{path}.permission.groups[{i}]"), "group");
                }
            }
        }
        for (path, t) in &tasks {
            if let Some(m) = &t.matter {
                self.reference(&matter_keys, m, format!("{path}.matter"), "matter");
            }
            self.reference(&user_keys, &t.assignee, format!("{path}.assignee"), "user");
            if let Some(a) = &t.assigner {
                self.reference(&user_keys, a, format!("{path}.assigner"), "user");
            }
        }
        for (path, e) in &events {
            if let Some(m) = &e.matter {
                self.reference(&matter_keys, m, format!("{path}.matter"), "matter");
            }
            if e.calendar != FIRM_CALENDAR {
                self.reference(
                    &user_keys,
                    &e.calendar,
                    format!("{path}.calendar"),
                    "user (or \"firm\")",
                );
            }
            for (i, a) in e.attendees.iter().enumerate() {
                self.reference(&user_keys, a, format!("{path}.attendees[{i}]"), "user");
            }
        }

        Some(FirmDocument {
            firm: firm?,
            reference_date,
            users: users.into_iter().map(|(_, u)| u).collect(),
            groups: groups.into_iter().map(|(_, g)| g).collect(),
            matters: matters.into_iter().map(|(_, m)| m).collect(),
            tasks: tasks.into_iter().map(|(_, t)| t).collect(),
            calendar_events: events.into_iter().map(|(_, e)| e).collect(),
        })
    }

    fn firm(&mut self, value: &Value) -> Option<FirmIn> {
        let mut o = self.object(value, "$.firm")?;
        let key = self.string(&mut o, "key");
        let name = self.string(&mut o, "name");
        let time_zone = self.time_zone(&mut o, "timeZone", true);
        let auth = self.field(&mut o, "auth");
        let issuers = match auth {
            None => Some(None),
            Some(value) => self.auth(value).map(Some),
        };
        self.finish(o);
        Some(FirmIn {
            key: key?,
            name: name?,
            time_zone: time_zone?,
            issuers: issuers?,
        })
    }

    fn auth(&mut self, value: &Value) -> Option<Vec<IssuerIn>> {
        let mut o = self.object(value, "$.firm.auth")?;
        let present = o.map.contains_key("issuers");
        let raw = self.array(&mut o, "issuers");
        if !present {
            self.problem("$.firm.auth.issuers", "is required");
        }
        self.finish(o);
        let mut out: Vec<IssuerIn> = Vec::new();
        let mut ok = present;
        for (path, value) in raw {
            match self.issuer(value, &path) {
                Some(issuer) if out.iter().any(|i| i.issuer == issuer.issuer) => {
                    self.problem(
                        format!("{path}.issuer"),
                        format!("duplicate issuer \"{}\"", issuer.issuer),
                    );
                    ok = false;
                }
                Some(issuer) => out.push(issuer),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn issuer(&mut self, value: &Value, path: &str) -> Option<IssuerIn> {
        use crate::auth::IdentityKind;
        let mut o = self.object(value, path)?;
        let issuer = self.string(&mut o, "issuer");
        let audience = self.string(&mut o, "audience");
        let jwks_url = self.string_opt(&mut o, "jwksUrl");
        let identity = self.choice(&mut o, "identity", &IdentityKind::NAMES);
        let identity_claim = self.string_opt(&mut o, "identityClaim");
        let email_verified_claim = self.string_opt(&mut o, "emailVerifiedClaim");
        self.finish(o);
        let mut ok = true;
        for (name, text, max) in [
            ("issuer", issuer.as_deref(), 2048),
            ("audience", audience.as_deref(), 1024),
            ("jwksUrl", jwks_url.as_deref(), 2048),
            ("identityClaim", identity_claim.as_deref(), 256),
            ("emailVerifiedClaim", email_verified_claim.as_deref(), 256),
        ] {
            if let Some(text) = text
                && (text.len() > max || text.chars().any(char::is_control))
            {
                self.problem(
                    format!("{path}.{name}"),
                    format!("must be at most {max} bytes, without control characters"),
                );
                ok = false;
            }
        }
        let is_url =
            |t: &str| (t.starts_with("https://") || t.starts_with("http://")) && !t.contains(char::is_whitespace);
        if let Some(url) = &jwks_url
            && !is_url(url)
        {
            self.problem(format!("{path}.jwksUrl"), "must be an http(s) URL");
            ok = false;
        }
        if jwks_url.is_none()
            && let Some(issuer) = &issuer
            && !is_url(issuer)
        {
            self.problem(
                format!("{path}.jwksUrl"),
                "is required when the issuer is not an http(s) URL (its keys cannot be discovered)",
            );
            ok = false;
        }
        let identity = identity?;
        let default_claim = if identity == IdentityKind::Email {
            "email"
        } else {
            "sub"
        };
        if !ok {
            return None;
        }
        Some(IssuerIn {
            issuer: issuer?,
            audience: audience?,
            jwks_url,
            identity_claim: identity_claim.unwrap_or_else(|| default_claim.into()),
            identity,
            email_verified_claim: email_verified_claim.unwrap_or_else(|| "email_verified".into()),
        })
    }

    fn user(&mut self, value: &Value, path: &str) -> Option<UserIn> {
        let mut o = self.object(value, path)?;
        let key = self.string(&mut o, "key");
        let name = self.string(&mut o, "name");
        let email = self.string(&mut o, "email");
        if let Some(e) = &email
            && !looks_like_email(e)
        {
            self.problem(format!("{path}.email"), format!("\"{e}\" is not an email address"));
        }
        let account_admin = self.boolean(&mut o, "accountAdmin", Some(false));
        let licence = self.choice(
            &mut o,
            "licence",
            &[("ATTORNEY", Licence::Attorney), ("NON_ATTORNEY", Licence::NonAttorney)],
        );
        let enabled = self.boolean(&mut o, "enabled", Some(true));
        let tz_present = o.map.get("timeZone").is_some_and(|v| !v.is_null());
        let time_zone = self.time_zone(&mut o, "timeZone", false);
        self.finish(o);
        if tz_present && time_zone.is_none() {
            return None;
        }
        Some(UserIn {
            key: key?,
            name: name?,
            email: email?,
            account_admin: account_admin?,
            licence: licence?,
            enabled: enabled?,
            time_zone,
        })
    }

    fn group(&mut self, value: &Value, path: &str) -> Option<GroupIn> {
        let mut o = self.object(value, path)?;
        let key = self.string(&mut o, "key");
        let name = self.string(&mut o, "name");
        let members = self.string_list(&mut o, "members");
        self.finish(o);
        Some(GroupIn {
            key: key?,
            name: name?,
            members,
        })
    }

    fn matter(&mut self, value: &Value, path: &str) -> Option<MatterIn> {
        let mut o = self.object(value, path)?;
        let key = self.string(&mut o, "key");
        let display_number = self.string(&mut o, "displayNumber");
        let description = self.string(&mut o, "description");
        let status = self.choice(
            &mut o,
            "status",
            &[
                ("OPEN", MatterStatus::Open),
                ("PENDING", MatterStatus::Pending),
                ("CLOSED", MatterStatus::Closed),
            ],
        );
        let practice_area = self.string_opt(&mut o, "practiceArea");
        let client = self.string(&mut o, "client");
        let responsible_attorney = self.string_opt(&mut o, "responsibleAttorney");
        let originating_attorney = self.string_opt(&mut o, "originatingAttorney");
        let permission = match self.field(&mut o, "permission") {
            None => {
                self.problem(format!("{path}.permission"), "is required");
                None
            }
            Some(value) => self.permission(value, &format!("{path}.permission")),
        };
        self.finish(o);
        Some(MatterIn {
            key: key?,
            display_number: display_number?,
            description: description?,
            status: status?,
            practice_area,
            client: client?,
            responsible_attorney,
            originating_attorney,
            permission: permission?,
        })
    }

    fn permission(&mut self, value: &Value, path: &str) -> Option<PermissionIn> {
        let mut o = self.object(value, path)?;
        let everyone = self.boolean(&mut o, "everyone", Some(false));
        let users = self.string_list(&mut o, "users");
        let groups = self.string_list(&mut o, "groups");
        self.finish(o);
        match everyone? {
            true if users.is_empty() && groups.is_empty() => Some(PermissionIn::Everyone),
            true => {
                self.problem(
                    path,
                    "is either { \"everyone\": true } or lists users and groups, not both",
                );
                None
            }
            false if users.is_empty() && groups.is_empty() => {
                self.problem(
                    path,
                    "must be { \"everyone\": true } or name at least one user or group",
                );
                None
            }
            false => Some(PermissionIn::Listed { users, groups }),
        }
    }

    fn task(&mut self, value: &Value, path: &str) -> Option<TaskIn> {
        let mut o = self.object(value, path)?;
        let key = self.string(&mut o, "key");
        let name = self.string(&mut o, "name");
        let matter = self.string_opt(&mut o, "matter");
        let assignee = self.string(&mut o, "assignee");
        let assigner = self.string_opt(&mut o, "assigner");
        let due_date = self.date_opt(&mut o, "dueDate");
        let status = self.choice(
            &mut o,
            "status",
            &[
                ("PENDING", TaskStatus::Pending),
                ("IN_PROGRESS", TaskStatus::InProgress),
                ("IN_REVIEW", TaskStatus::InReview),
                ("COMPLETE", TaskStatus::Complete),
            ],
        );
        let statute = self.boolean(&mut o, "statuteOfLimitations", Some(false));
        self.finish(o);
        Some(TaskIn {
            key: key?,
            name: name?,
            matter,
            assignee: assignee?,
            assigner,
            due_date: due_date.ok()?,
            status: status?,
            statute_of_limitations: statute?,
        })
    }

    fn event(&mut self, value: &Value, path: &str) -> Option<EventIn> {
        let mut o = self.object(value, path)?;
        let key = self.string(&mut o, "key");
        let title = self.string(&mut o, "title");
        let matter = self.string_opt(&mut o, "matter");
        let calendar = self.string(&mut o, "calendar");
        let start = self.instant(&mut o, "start");
        let end = self.instant(&mut o, "end");
        let all_day = self.boolean(&mut o, "allDay", Some(false));
        let attendees = self.string_list(&mut o, "attendees");
        self.finish(o);
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            self.problem(format!("{path}.end"), "must not be before start");
        }
        Some(EventIn {
            key: key?,
            title: title?,
            matter,
            calendar: calendar?,
            start: start?,
            end: end?,
            all_day: all_day?,
            attendees,
        })
    }
}

/// (key, path) of every array item whose `key` is a string.
fn raw_keys<'a>(items: &'a [(String, &'a Value)]) -> impl Iterator<Item = (&'a str, String)> + 'a {
    items
        .iter()
        .filter_map(|(path, v)| v.get("key").and_then(Value::as_str).map(|k| (k.trim(), path.clone())))
}

/// One RFC 5322 mailbox, bare (`name@domain.tld`): no display name, no list, no spaces.
fn looks_like_email(s: &str) -> bool {
    s.parse::<lettre::Address>()
        .is_ok_and(|a| a.domain().contains('.') && a.to_string() == s)
}

/// Every string or field name holding a NUL (U+0000), by JSON path.
fn nul_problems(value: &Value, path: &str, out: &mut Vec<Problem>) {
    let problem = |path: String| Problem {
        path,
        message: "must not contain NUL characters (U+0000)".into(),
    };
    match value {
        Value::String(s) if s.contains('\0') => out.push(problem(path.to_string())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_problems(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let here = format!("{path}.{key}");
                if key.contains('\0') {
                    out.push(problem(here.replace('\0', "\\u0000")));
                } else {
                    nul_problems(item, &here, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_named_by_path() {
        let text = r#"{
          "firm": { "key": "f", "name": "F", "timeZone": "Mars/Olympus" },
          "users": [
            { "key": "a", "name": "A", "email": "a@f.test", "licence": "ATTORNEY" },
            { "key": "a", "name": "B", "email": "nope", "licence": "LAWYER" }
          ],
          "matters": [ { "key": "m", "displayNumber": "1", "description": "d", "status": "OPEN",
                         "client": "c", "responsibleAttorney": "zed", "permission": { "everyone": true } } ],
          "tasks": [ { "key": "t", "name": "n", "assignee": "a", "dueDate": "2026-13-01", "status": "PENDING",
                       "colour": "red" } ]
        }"#;
        let problems = parse(text).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        for expected in [
            "$.firm.timeZone",
            "$.users[1].email",
            "$.users[1].licence",
            "$.users[1].key",
            "$.matters[0].responsibleAttorney",
            "$.tasks[0].dueDate",
            "$.tasks[0].colour",
        ] {
            assert!(paths.contains(&expected), "missing {expected} in {paths:?}");
        }
    }

    #[test]
    fn rebase_moves_dates_by_whole_days() {
        let text = r#"{ "firm": { "key": "f", "name": "F", "timeZone": "UTC" }, "referenceDate": "2026-01-10",
          "users": [ { "key": "a", "name": "A", "email": "a@f.test", "licence": "ATTORNEY" } ],
          "tasks": [ { "key": "t", "name": "n", "assignee": "a", "dueDate": "2026-01-11", "status": "PENDING" } ],
          "calendarEvents": [ { "key": "e", "title": "x", "calendar": "a", "start": "2026-01-09T15:00:00Z",
                                "end": "2026-01-09T16:00:00Z" } ] }"#;
        let mut doc = parse(text).unwrap();
        doc.shift_days(5);
        assert_eq!(doc.tasks[0].due_date, NaiveDate::from_ymd_opt(2026, 1, 16));
        assert_eq!(doc.calendar_events[0].start.to_rfc3339(), "2026-01-14T15:00:00+00:00");
    }
}
