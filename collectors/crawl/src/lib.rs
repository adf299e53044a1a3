//! haoqi-crawl: polls the platforms' public profiles. The shared driver (fetch with limits,
//! sweeps within each platform's budget, the scheduler, circuits, shards, the Douyin signer
//! client) and one folder per platform under [`platforms`]. It turns answers into raw readings
//! or typed errors (never zeros); the pipeline normalises them. Depends on haoqi-platform only.

pub mod adapter;
pub mod circuit;
pub mod fetch;
mod json;
pub mod platforms;
pub mod scheduler;
pub mod shard;
pub mod signer;
pub mod sweep;

pub use platforms::decode;
