//! The backend's objects as the staging and deleting code sees them: the operator, and on
//! Swift the account, because deleting a large object there must delete its segments too.

use std::sync::Arc;

use opendal::Operator;

use super::swift::Swift;

/// The operator, and on Swift the account.
#[derive(Clone, Debug)]
pub(super) struct Objects {
    op: Operator,
    swift: Option<Arc<Swift>>,
}

impl Objects {
    pub(super) fn new(op: Operator, swift: Option<Arc<Swift>>) -> Self {
        Self { op, swift }
    }

    pub(super) fn operator(&self) -> &Operator {
        &self.op
    }

    pub(super) fn swift(&self) -> Option<&Swift> {
        self.swift.as_deref()
    }

    /// Deletes the object at `key` (on Swift with its segments); a missing one is not an
    /// error.
    pub(super) async fn delete(&self, key: &str) -> opendal::Result<()> {
        match &self.swift {
            Some(swift) => swift.delete(key).await,
            None => self.op.delete(key).await,
        }
    }
}
