//! Use cases: the only code that touches both metadata and blobs.

pub mod fsck;
pub mod gc;
pub mod links;
pub mod publish;
pub mod repositories;
pub mod retention;

pub use fsck::{FsckReport, fsck};
pub use gc::{GcReport, collect_garbage};
pub use links::{Linked, PublishLinked, publish_linked};
pub use publish::{
    PropertyTarget, PublishFile, PublishMode, Published, publish_file, publish_files,
};
pub use repositories::{RepositoryRules, create_repository};
pub use retention::expire_versions;
