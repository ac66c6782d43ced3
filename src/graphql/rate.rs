//! A per-user cap on reassignments a minute (one request can move thousands of records; a
//! runaway script should not move a firm around in a loop). Kept per server instance.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

pub struct RateLimit {
    per_minute: usize,
    recent: Mutex<HashMap<i64, VecDeque<Instant>>>,
}

impl RateLimit {
    pub fn new(per_minute: usize) -> Self {
        RateLimit {
            per_minute,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Count one for `user`; `Err(seconds to wait)` when over the cap.
    pub fn check(&self, user: i64) -> Result<(), u64> {
        let now = Instant::now();
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let times = recent.entry(user).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            times.pop_front();
        }
        if times.len() >= self.per_minute {
            let oldest = *times.front().expect("non-empty");
            return Err((WINDOW - now.duration_since(oldest)).as_secs() + 1);
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn caps_per_user() {
        let limit = super::RateLimit::new(2);
        assert!(limit.check(1).is_ok() && limit.check(1).is_ok());
        assert!(limit.check(1).is_err());
        assert!(limit.check(2).is_ok(), "another user has their own allowance");
    }
}
