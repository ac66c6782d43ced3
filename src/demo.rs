//! The demo firm, compiled into the binary so `serve --demo` works from any directory.
//! Its dates are written for `referenceDate` and moved to today when loaded (see README).

pub const DEMO_FIRM_JSON: &str = include_str!("../demo/demo-firm.json");

/// The demo administrator and the demo assignee whose tokens `serve --demo` prints.
pub const DEMO_ADMIN_EMAIL: &str = "alice@demo.test";
pub const DEMO_ASSIGNEE_EMAIL: &str = "bob@demo.test";
