//! The read-ahead budget of a process: downloads from object stores read several ranges at
//! once, and each range in flight is memory. Every download may read one range; ranges beyond
//! that come from one budget shared by all downloads, taken without waiting, so that a single
//! download reads far ahead while many at once share a bounded amount of memory.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Ranges in flight beyond each download's first, across the process: with 4 MiB ranges,
/// 96 MiB (three downloads reading eight ahead).
pub(super) const READ_BUDGET: usize = 24;

/// The shared budget.
#[derive(Clone, Debug)]
pub(super) struct ReadBudget(Arc<Semaphore>);

/// What one download took: its first range and what it could get beyond it.
#[derive(Debug)]
pub(super) struct ReadAhead(Option<OwnedSemaphorePermit>);

impl ReadAhead {
    /// Ranges this download may have in flight.
    pub(super) fn ranges(&self) -> usize {
        1 + self.0.as_ref().map_or(0, OwnedSemaphorePermit::num_permits)
    }
}

impl ReadBudget {
    pub(super) fn new(ranges: usize) -> Self {
        Self(Arc::new(Semaphore::new(ranges)))
    }

    /// Up to `want` ranges for one download: the first always, the others as far as the
    /// budget has them free now.
    pub(super) fn take(&self, want: usize) -> ReadAhead {
        let mut taken: Option<OwnedSemaphorePermit> = None;
        for _ in 1..want {
            let Ok(permit) = self.0.clone().try_acquire_owned() else {
                break;
            };
            match taken.as_mut() {
                Some(taken) => taken.merge(permit),
                None => taken = Some(permit),
            }
        }
        ReadAhead(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_share_the_budget_and_return_it() {
        let budget = ReadBudget::new(10);
        let first = budget.take(8);
        assert_eq!(first.ranges(), 8, "alone: eight ranges");
        let second = budget.take(8);
        assert_eq!(second.ranges(), 4, "three left beyond its own");
        let third = budget.take(8);
        assert_eq!(
            third.ranges(),
            1,
            "none left: its own range only, without waiting"
        );
        drop(first);
        assert_eq!(
            budget.take(8).ranges(),
            8,
            "what a download held comes back"
        );
        assert_eq!(budget.take(1).ranges(), 1);
    }
}
