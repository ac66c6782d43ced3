//! How many reassignments are planned at once, per server instance. A plan holds every record
//! its order considers, with the facts the rules read (tens of MiB for the bench firm's 160,000
//! records), so eight administrators previewing big leavers at once would hold eight times
//! that. Planning is CPU and database work: more of it at once does not finish sooner on the
//! same cores. So each door (a preview, an apply, an undo, a planned handover's preview, start
//! or return, a deactivation) first takes a [`Slot`] here, and the rest wait their turn, within
//! the request timeout. The engine ([`super::run`]) asks for the slot as a parameter, so no path
//! can plan without one.
//!
//! A slot is taken before any write transaction begins: a writer waiting for a slot holds no
//! database lock that a planning slot holder could need.

use crate::error::{AppError, AppResult};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The slots of one server instance (clones share them).
#[derive(Clone)]
pub struct Planning(Arc<Inner>);

struct Inner {
    slots: Arc<Semaphore>,
    limit: usize,
    busy: AtomicUsize,
    /// Requests waiting for a slot.
    waiting: AtomicUsize,
    /// The most slots held at once since the start.
    most: AtomicUsize,
}

/// One plan allowed to run; the slot is free again when this is dropped.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    gate: Arc<Inner>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate.busy.fetch_sub(1, Relaxed);
    }
}

impl Planning {
    /// At most `limit` plans at once (at least one).
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Planning(Arc::new(Inner {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
            busy: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        }))
    }

    /// One plan per core: the default of `--max-concurrent-plans`.
    pub fn per_core() -> Self {
        Self::new(cores())
    }

    /// Wait for a free slot. A request that gives up (its client left, or the request timeout
    /// passed) leaves the queue.
    pub async fn enter(&self) -> AppResult<Slot> {
        let in_line = InLine::join(&self.0);
        let permit = self
            .0
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::internal("the planning slots are closed"))?;
        drop(in_line);
        let busy = self.0.busy.fetch_add(1, Relaxed) + 1;
        self.0.most.fetch_max(busy, Relaxed);
        Ok(Slot {
            _permit: permit,
            gate: self.0.clone(),
        })
    }

    pub fn limit(&self) -> usize {
        self.0.limit
    }

    /// Plans running now.
    pub fn busy(&self) -> usize {
        self.0.busy.load(Relaxed)
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.0.waiting.load(Relaxed)
    }

    /// The most plans that ran at once since the start.
    pub fn most_at_once(&self) -> usize {
        self.0.most.load(Relaxed)
    }
}

/// One request counted as waiting, until it has its slot or gives up (its future dropped).
struct InLine<'a>(&'a Inner);

impl<'a> InLine<'a> {
    fn join(gate: &'a Inner) -> Self {
        gate.waiting.fetch_add(1, Relaxed);
        InLine(gate)
    }
}

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Relaxed);
    }
}

/// The cores this process may use (1 when that cannot be told).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::Planning;

    #[tokio::test]
    async fn a_slot_is_free_again_when_dropped_and_the_most_at_once_is_kept() {
        let gate = Planning::new(2);
        let (a, b) = (gate.enter().await.unwrap(), gate.enter().await.unwrap());
        assert_eq!((gate.busy(), gate.most_at_once()), (2, 2));
        let third = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.map(|_| ()) }
        });
        tokio::task::yield_now().await;
        assert!(!third.is_finished(), "a third plan ran beside two");
        assert_eq!(gate.waiting(), 1);
        drop(a);
        third.await.unwrap().unwrap();
        drop(b);
        assert_eq!(
            (gate.busy(), gate.waiting(), gate.most_at_once(), gate.limit()),
            (0, 0, 2, 2)
        );
        assert_eq!(Planning::new(0).limit(), 1);
    }
}
