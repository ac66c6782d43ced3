//! GraphQL output types: thin wrappers over entity rows, resolving relations through loaders.

mod enums;
mod matter;
mod scalars;
mod user;
mod work;

pub use enums::{CalendarKind, Licence, MatterStatus, TaskStatus};
pub use matter::{Group, Matter, MatterPermission};
pub use scalars::Date;
pub use user::{Firm, User, Workload};
pub use work::{Calendar, CalendarEvent, Task};
