//! Kuaishou (reference §3): the web GraphQL `visionProfile`, with abbreviated follower counts.

mod adapter;
mod decode;

pub use adapter::Kuaishou;
pub use decode::decode;
