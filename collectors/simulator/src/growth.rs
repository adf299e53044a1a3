//! Deterministic follower curves for simulated accounts. Each account's seed picks a profile —
//! steady growers, fast risers, accounts that stall, accounts that lose followers, and one-day
//! jumps like purchased followers — so simulated history has the shapes the analytics must
//! recognise. The same function serves the simulator's live answers and the demo's backfill.

/// Day 0 of the simulated history (2024-01-01 00:00 UTC, seconds since the epoch).
pub const EPOCH_SECS: i64 = 1_704_067_200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Steady,
    FastRiser,
    Stalls,
    Loses,
    Jump,
}

use haoqi_platform::hash::mix;

/// One account's curve.
#[derive(Debug, Clone, Copy)]
pub struct Curve {
    pub profile: Profile,
    base: f64,
    rate: f64,
    turn_day: f64,
    jump: f64,
}

impl Curve {
    pub fn new(seed: u64) -> Curve {
        let r = |k: u64| (mix(seed ^ k) % 1_000_000) as f64 / 1_000_000.0;
        let profile = match mix(seed) % 100 {
            0..=59 => Profile::Steady,
            60..=74 => Profile::FastRiser,
            75..=84 => Profile::Stalls,
            85..=92 => Profile::Loses,
            _ => Profile::Jump,
        };
        // Scaled so that ~2,800 accounts land near the plan's 20 million after a few years.
        Curve {
            profile,
            base: 100.0 + r(1) * 8_000.0,
            rate: 0.2 + r(2) * 12.0,
            turn_day: 60.0 + r(3) * 600.0,
            jump: 2_000.0 + r(4) * 13_000.0,
        }
    }

    /// Followers at `day` (days since [`EPOCH_SECS`], fractional for times within a day).
    pub fn followers(&self, day: f64) -> u64 {
        let d = day.max(0.0);
        let v = match self.profile {
            Profile::Steady => self.base + self.rate * d,
            Profile::FastRiser => {
                self.base * (1.0 + 0.004 * (self.rate / 50.0)).powf(d.min(1_500.0))
            }
            Profile::Stalls => self.base + self.rate * d.min(self.turn_day),
            Profile::Loses => {
                let peak = self.base + self.rate * d.min(self.turn_day);
                (peak - 0.5 * self.rate * (d - self.turn_day).max(0.0)).max(self.base * 0.3)
            }
            Profile::Jump => {
                let jumped = if d >= self.turn_day.floor() + 1.0 {
                    self.jump
                } else {
                    0.0
                };
                self.base + self.rate * d + jumped
            }
        };
        v.round().max(0.0) as u64
    }

    /// Likes grow with the account's underlying pace and time. They only accumulate, so they
    /// follow the growth line even for an account that is losing followers.
    pub fn likes(&self, day: f64) -> u64 {
        let d = day.max(0.0);
        ((self.base + self.rate * d) * 7.0 + d * self.rate * 3.0).round() as u64
    }

    pub fn posts(&self, day: f64) -> u64 {
        10 + (day.max(0.0) / 3.0) as u64
    }

    pub fn views(&self, day: f64) -> u64 {
        self.likes(day) * 25
    }

    pub fn following(&self) -> u64 {
        5 + (self.base as u64 % 80)
    }
}

/// Days since the simulated epoch for a Unix time in seconds.
pub fn day_of(unix_secs: i64) -> f64 {
    (unix_secs - EPOCH_SECS) as f64 / 86_400.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_are_deterministic_and_never_negative() {
        for s in 0..2_000u64 {
            let c = Curve::new(mix(s));
            let a = c.followers(100.5);
            assert_eq!(a, Curve::new(mix(s)).followers(100.5));
            assert!(c.followers(900.0) < u64::MAX / 2);
        }
    }

    #[test]
    fn every_profile_occurs() {
        let profiles: std::collections::HashSet<_> = (0..500u64)
            .map(|s| format!("{:?}", Curve::new(s).profile))
            .collect();
        assert_eq!(profiles.len(), 5);
    }

    #[test]
    fn a_jump_is_one_day() {
        let c = (0..10_000u64)
            .map(Curve::new)
            .find(|c| c.profile == Profile::Jump)
            .expect("a jump curve");
        let d = c.turn_day.floor() + 1.0;
        assert!(c.followers(d) - c.followers(d - 1.0) > 1_900);
        assert!(c.followers(d + 1.0) - c.followers(d) < 20);
    }
}
