//! GraphQL output types: thin wrappers over entity rows, resolving relations through loaders.

mod enums;
mod matter;
mod notification;
mod planned;
mod preview;
mod reassignment;
mod scalars;
mod user;
mod work;

pub use enums::{
    CalendarKind, ExclusionReason, ItemOutcome, Licence, MatterStatus, NotificationKind, PlannedHandoverStatus,
    PoolStrategy, ReassignmentStatus, RiskReason, TaskStatus, WorkKind,
};
pub use matter::{Group, Matter, MatterConnection, MatterPermission, prime_page as prime_matter_page};
pub use notification::{NotificationConnection, WorkAssignedNotification};
pub use planned::{
    DeactivateUserPayload, OpenWork, PlanHandoverInput, PlanHandoverPayload, PlannedHandover, PlannedHandoverConnection,
};
pub use preview::{CategoryPreview, Exclusion, ReassignmentPreview, WorkItem, WorkItemConnection};
pub use reassignment::{
    CategoryInput, ReassignWorkInput, ReassignWorkPayload, Reassignment, ReassignmentConnection, ReassignmentItem,
    ReassignmentItemConnection, UserError, preview_refused as reassignment_preview_refused,
};
pub use scalars::{Date, DateTime};
pub use user::{Firm, User, UserConnection, Workload, load_user};
pub use work::{Calendar, CalendarEvent, CalendarEventConnection, Task, TaskConnection};
