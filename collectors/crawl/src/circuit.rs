//! A per-platform circuit breaker. Rate limiting or blocking opens it: the platform is left
//! alone for a backoff that doubles with each failed probe (with jitter, and at least the
//! platform's `Retry-After`), because continuing to poll during a ban prolongs it
//! (reference §1.5). After the backoff one probe goes through (half-open): success closes the
//! circuit, failure opens it again for longer. Other platforms are unaffected. Time is passed
//! in, so the logic is tested without clocks.

use std::time::{Duration, Instant};

use haoqi_platform::hash::mix;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed,
    Open { until: Instant },
    HalfOpen,
}

#[derive(Debug, Clone)]
pub struct Circuit {
    state: State,
    /// Consecutive openings; the backoff doubles with each.
    strikes: u32,
    base: Duration,
    max: Duration,
    salt: u64,
}

/// What the caller may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    Go,
    /// One request to test the water.
    Probe,
    Wait(Duration),
}

impl Circuit {
    pub fn new(base: Duration, max: Duration, salt: u64) -> Self {
        Circuit {
            state: State::Closed,
            strikes: 0,
            base,
            max,
            salt,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// A number for the metrics gauge: 0 closed, 1 half-open, 2 open.
    pub fn gauge(&self) -> i64 {
        match self.state {
            State::Closed => 0,
            State::HalfOpen => 1,
            State::Open { .. } => 2,
        }
    }

    pub fn permit(&mut self, now: Instant) -> Permit {
        match self.state {
            State::Closed => Permit::Go,
            State::HalfOpen => Permit::Wait(self.base.min(Duration::from_secs(1))),
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen;
                Permit::Probe
            }
            State::Open { until } => Permit::Wait(until - now),
        }
    }

    /// The platform answered without a rate-limit or block signal (even if the account itself
    /// failed): a probe in flight has its answer, so the circuit closes.
    pub fn answered(&mut self) {
        if self.state == State::HalfOpen {
            self.success();
        }
    }

    pub fn success(&mut self) {
        self.state = State::Closed;
        self.strikes = 0;
    }

    /// A rate-limit or block signal: open (again), for longer each time.
    pub fn trip(&mut self, now: Instant, retry_after: Option<Duration>) -> Duration {
        self.strikes = self.strikes.saturating_add(1);
        let exp = self.base.saturating_mul(1u32 << (self.strikes - 1).min(16));
        let capped = exp.min(self.max);
        // ±20 % jitter, so instances that tripped together do not return together.
        let j = (mix(self.salt ^ u64::from(self.strikes)) % 400) as f64 / 1000.0 - 0.2;
        let jittered = capped.mul_f64(1.0 + j);
        let wait = jittered.max(retry_after.unwrap_or(Duration::ZERO));
        self.state = State::Open { until: now + wait };
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_backs_off_doubling_probes_and_closes() {
        let t0 = Instant::now();
        let mut c = Circuit::new(Duration::from_secs(60), Duration::from_secs(3600), 7);
        assert_eq!(c.permit(t0), Permit::Go);
        let w1 = c.trip(t0, None);
        assert!(
            w1 >= Duration::from_secs(48) && w1 <= Duration::from_secs(72),
            "{w1:?}"
        );
        assert!(matches!(
            c.permit(t0 + Duration::from_secs(10)),
            Permit::Wait(_)
        ));
        assert_eq!(c.permit(t0 + w1), Permit::Probe);
        assert!(
            matches!(c.permit(t0 + w1), Permit::Wait(_)),
            "one probe at a time"
        );
        // The probe fails: the next backoff is about twice as long.
        let w2 = c.trip(t0 + w1, None);
        assert!(
            w2 >= Duration::from_secs(96) && w2 <= Duration::from_secs(144),
            "{w2:?}"
        );
        assert_eq!(c.permit(t0 + w1 + w2), Permit::Probe);
        c.success();
        assert_eq!(c.permit(t0 + w1 + w2), Permit::Go);
        assert_eq!(c.state(), State::Closed);
    }

    #[test]
    fn a_probe_that_fails_for_the_account_alone_still_closes_the_circuit() {
        let t0 = Instant::now();
        let mut c = Circuit::new(Duration::from_secs(1), Duration::from_secs(10), 3);
        let w = c.trip(t0, None);
        assert_eq!(c.permit(t0 + w), Permit::Probe);
        // E.g. the probed account was deleted or its page changed: the platform did answer.
        c.answered();
        assert_eq!(c.permit(t0 + w), Permit::Go);
        // Outside a probe, an account's own failure changes nothing.
        c.trip(t0 + w, None);
        c.answered();
        assert!(matches!(c.permit(t0 + w), Permit::Wait(_)));
    }

    #[test]
    fn retry_after_is_respected_and_the_backoff_is_capped() {
        let t0 = Instant::now();
        let mut c = Circuit::new(Duration::from_secs(60), Duration::from_secs(600), 1);
        assert_eq!(
            c.trip(t0, Some(Duration::from_secs(900))),
            Duration::from_secs(900)
        );
        for _ in 0..20 {
            let w = c.trip(t0, None);
            assert!(w <= Duration::from_secs(720), "{w:?}");
        }
    }
}
