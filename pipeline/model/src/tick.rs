//! How long work says how far it has got, without knowing who is watching: library functions
//! take a `&dyn Tick`; the binary passes a progress bar, tests and services pass [`NoTicks`].

/// A progress callback for work measured in steps (rows, days, accounts).
pub trait Tick: Sync {
    /// The work has `total` steps.
    fn start(&self, total: u64);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// The work is over (a bar clears itself).
    fn finish(&self) {}
}

/// Reports to nobody.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTicks;

impl Tick for NoTicks {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
}
