//! Injectable faults: each kind at its own rate, chosen deterministically from a request
//! counter so a test run is repeatable.

use haoqi_platform::hash::mix;
use serde::{Deserialize, Serialize};

/// Fault rates (0.0–1.0), each applied independently per request, deterministically from a
/// request counter so a test run is repeatable.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    pub rate_limited: f64,
    pub captcha: f64,
    pub empty: f64,
    pub server_error: f64,
    pub slow: f64,
    pub truncated: f64,
    pub layout: f64,
    /// How long a slow response takes.
    pub slow_ms: u64,
}

impl Faults {
    /// `total` spread evenly over the seven kinds.
    pub fn uniform(total: f64) -> Faults {
        let each = total / 7.0;
        Faults {
            rate_limited: each,
            captcha: each,
            empty: each,
            server_error: each,
            slow: each,
            truncated: each,
            layout: each,
            slow_ms: 15_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    RateLimited,
    Captcha,
    Empty,
    ServerError,
    Slow,
    Truncated,
    Layout,
}

/// The fault (if any) for the `n`-th request.
pub(crate) fn pick(f: &Faults, n: u64) -> Option<Fault> {
    let x = (mix(n ^ 0x5eed) % 1_000_000) as f64 / 1_000_000.0;
    let mut edge = 0.0;
    for (rate, fault) in [
        (f.rate_limited, Fault::RateLimited),
        (f.captcha, Fault::Captcha),
        (f.empty, Fault::Empty),
        (f.server_error, Fault::ServerError),
        (f.slow, Fault::Slow),
        (f.truncated, Fault::Truncated),
        (f.layout, Fault::Layout),
    ] {
        edge += rate;
        if x < edge {
            return Some(fault);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_out_as_configured() {
        let f = Faults::uniform(0.7);
        let n = 70_000;
        let hits = (0..n).filter_map(|i| pick(&f, i)).count();
        assert!((45_000..=53_000).contains(&hits), "{hits} of {n}");
        assert_eq!(
            (0..1000)
                .filter_map(|i| pick(&Faults::default(), i))
                .count(),
            0
        );
        assert_eq!(pick(&f, 17), pick(&f, 17), "deterministic");
    }
}
