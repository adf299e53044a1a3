//! haoqi-collectors: the bottom layer of haoqi. It knows the platforms and (in later work) polls
//! their public profiles, turning each response into a raw reading or a typed error.
//!
//! For now it holds the one vocabulary every other crate shares: [`Platform`].

pub mod platform;

pub use platform::{Platform, UnknownPlatform};
