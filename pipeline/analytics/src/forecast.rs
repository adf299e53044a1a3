//! Will the matrix reach the goal by the deadline? A forecast from the recent daily totals.
//!
//! Method (stated in the report too): take the matrix total of the last `window_days` days
//! (carry-forward, `series_daily.sql`) and fit, by ordinary least squares,
//! - **linear**: `y = a + b·t`; the pace is `b` followers a day;
//! - **log-linear**: `ln y = a + r·t`; the total compounds by `e^r` a day;
//! - **damped**: the linear pace `b`, shrinking by the factor `φ` (`damping`, default 0.98) each
//!   day ahead, so growth slows and the total levels off at `y + b·φ/(1−φ)`.
//!
//! Each starts from today's total. The range comes from the slope's standard error: slope ± 2
//! standard errors (about a 95 % interval when the residuals are roughly normal); a flat or
//! falling bound means the goal may never be reached at that pace. The daily growth needed is
//! the remaining gap divided by the days left to the deadline.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// `[forecast]` in haoqi.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForecastConfig {
    /// Days of history the trends are fitted on.
    pub window_days: u32,
    /// The damped trend's daily damping factor φ (0 < φ < 1).
    pub damping: f64,
    /// Projections further out than this are reported as "not within the horizon".
    pub horizon_days: u32,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        ForecastConfig {
            window_days: 30,
            damping: 0.98,
            horizon_days: 3650,
        }
    }
}

/// A projection under one method, with its range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodForecast {
    pub method: &'static str,
    pub description: &'static str,
    /// Followers a day at today's level: central, low and high.
    pub daily_growth: f64,
    pub daily_growth_low: f64,
    pub daily_growth_high: f64,
    /// When the total reaches the goal (None: not within the horizon at that pace, or already
    /// reached: then the forecast's `reached_on`/`reached_before` say when, and the tables say
    /// "reached").
    pub reach_date: Option<NaiveDate>,
    pub reach_date_earliest: Option<NaiveDate>,
    pub reach_date_latest: Option<NaiveDate>,
    /// The total projected for the deadline (None once the deadline has passed).
    pub at_deadline: Option<u64>,
    pub at_deadline_low: Option<u64>,
    pub at_deadline_high: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    pub as_of: NaiveDate,
    pub goal: u64,
    pub deadline: NaiveDate,
    pub current: u64,
    pub remaining: u64,
    /// Days from `as_of` to the deadline (negative once it has passed).
    pub days_to_deadline: i64,
    /// Followers a day needed from now to make the deadline (None: passed or already reached).
    pub required_daily_growth: Option<f64>,
    /// Observed mean daily growth over the last 7 and 30 days.
    pub pace_7d: Option<f64>,
    pub pace_30d: Option<f64>,
    /// The first day whose total reached the goal, when the series shows the crossing.
    pub reached_on: Option<NaiveDate>,
    /// Already at the goal on the series' first day: reached on or before that day. The goal
    /// report (`goal::report`) looks further back: there it is the first day of data,
    /// when the total was at the goal from the start.
    pub reached_before: Option<NaiveDate>,
    pub window_from: Option<NaiveDate>,
    pub window_days: usize,
    pub methods: Vec<MethodForecast>,
    /// Why there is no projection, when there is none.
    pub note: Option<String>,
}

struct Fit {
    slope: f64,
    slope_se: f64,
}

/// Least squares of `ys` on `ts`.
fn ols(ts: &[f64], ys: &[f64]) -> Option<Fit> {
    let n = ts.len();
    if n < 3 || ys.len() != n {
        return None;
    }
    let nf = n as f64;
    let tm = ts.iter().sum::<f64>() / nf;
    let ym = ys.iter().sum::<f64>() / nf;
    let sxx: f64 = ts.iter().map(|t| (t - tm).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = ts.iter().zip(ys).map(|(t, y)| (t - tm) * (y - ym)).sum();
    let slope = sxy / sxx;
    let intercept = ym - slope * tm;
    let sse: f64 = ts
        .iter()
        .zip(ys)
        .map(|(t, y)| (y - intercept - slope * t).powi(2))
        .sum();
    let slope_se = (sse / (nf - 2.0) / sxx).sqrt();
    Some(Fit { slope, slope_se })
}

fn day_after(d: NaiveDate, days: f64, horizon: u32) -> Option<NaiveDate> {
    if !days.is_finite() || days < 0.0 || days > f64::from(horizon) {
        return None;
    }
    d.checked_add_days(Days::new(days.ceil() as u64))
}

fn to_count(y: f64) -> u64 {
    if y.is_finite() && y > 0.0 {
        y.round() as u64
    } else {
        0
    }
}

/// The forecast from `series` (day, matrix total), oldest first.
pub fn forecast(
    series: &[(NaiveDate, u64)],
    as_of: NaiveDate,
    goal: u64,
    deadline: NaiveDate,
    config: &ForecastConfig,
) -> Forecast {
    let upto: Vec<(NaiveDate, u64)> = series
        .iter()
        .copied()
        .filter(|(d, _)| *d <= as_of)
        .collect();
    let current = upto.last().map(|p| p.1).unwrap_or(0);
    let value_on = |d: NaiveDate| upto.iter().find(|p| p.0 == d).map(|p| p.1 as f64);
    let pace = |days: u64| {
        let then = as_of.checked_sub_days(Days::new(days))?;
        Some((current as f64 - value_on(then)?) / days as f64)
    };
    let days_to_deadline = (deadline - as_of).num_days();
    let remaining = goal.saturating_sub(current);
    let crossing = upto.iter().position(|p| p.1 >= goal);
    let reached_on = crossing.filter(|i| *i > 0).map(|i| upto[i].0);
    let reached_before = crossing.filter(|i| *i == 0).map(|i| upto[i].0);
    let required_daily_growth =
        (days_to_deadline > 0 && remaining > 0).then(|| remaining as f64 / days_to_deadline as f64);
    let from = as_of.checked_sub_days(Days::new(u64::from(config.window_days.max(3)) - 1));
    let window: Vec<(NaiveDate, u64)> = upto
        .iter()
        .copied()
        .filter(|(d, _)| from.is_none_or(|f| *d >= f))
        .collect();
    let mut out = Forecast {
        as_of,
        goal,
        deadline,
        current,
        remaining,
        days_to_deadline,
        required_daily_growth,
        pace_7d: pace(7),
        pace_30d: pace(30),
        reached_on,
        reached_before,
        window_from: window.first().map(|p| p.0),
        window_days: window.len(),
        methods: Vec::new(),
        note: None,
    };
    let Some(first) = window.first().map(|p| p.0) else {
        out.note = Some("no readings yet".into());
        return out;
    };
    let ts: Vec<f64> = window
        .iter()
        .map(|p| (p.0 - first).num_days() as f64)
        .collect();
    let ys: Vec<f64> = window.iter().map(|p| p.1 as f64).collect();
    let Some(lin) = ols(&ts, &ys) else {
        out.note = Some(format!(
            "{} day(s) of totals in the window; a trend needs at least 3",
            window.len()
        ));
        return out;
    };
    let y0 = current as f64;
    let gap = goal as f64 - y0;
    let h_deadline = days_to_deadline as f64;
    let horizon = config.horizon_days;
    let future = days_to_deadline > 0;

    // Linear.
    let linear_reach = |b: f64| {
        if gap <= 0.0 {
            None
        } else if b > 0.0 {
            day_after(as_of, gap / b, horizon)
        } else {
            None
        }
    };
    let (b, b_lo, b_hi) = (
        lin.slope,
        lin.slope - 2.0 * lin.slope_se,
        lin.slope + 2.0 * lin.slope_se,
    );
    let at = |f: &dyn Fn(f64) -> f64, s: f64| future.then(|| to_count(f(s)));
    let lin_at = |s: f64| y0 + s * h_deadline;
    out.methods.push(MethodForecast {
        method: "linear",
        description: "线性趋势 linear trend: constant followers per day (least squares)",
        daily_growth: b,
        daily_growth_low: b_lo,
        daily_growth_high: b_hi,
        reach_date: linear_reach(b),
        reach_date_earliest: linear_reach(b_hi),
        reach_date_latest: linear_reach(b_lo),
        at_deadline: at(&lin_at, b),
        at_deadline_low: at(&lin_at, b_lo),
        at_deadline_high: at(&lin_at, b_hi),
    });

    // Log-linear (needs positive totals throughout).
    if ys.iter().all(|y| *y > 0.0) && y0 > 0.0 {
        let logs: Vec<f64> = ys.iter().map(|y| y.ln()).collect();
        if let Some(fit) = ols(&ts, &logs) {
            let (r, r_lo, r_hi) = (
                fit.slope,
                fit.slope - 2.0 * fit.slope_se,
                fit.slope + 2.0 * fit.slope_se,
            );
            let reach = |r: f64| {
                if gap <= 0.0 {
                    None
                } else if r > 0.0 {
                    day_after(as_of, (goal as f64 / y0).ln() / r, horizon)
                } else {
                    None
                }
            };
            let log_at = |r: f64| y0 * (r * h_deadline).exp();
            out.methods.push(MethodForecast {
                method: "log_linear",
                description:
                    "对数线性 log-linear: constant growth rate per day (least squares on ln)",
                daily_growth: y0 * r.exp_m1(),
                daily_growth_low: y0 * r_lo.exp_m1(),
                daily_growth_high: y0 * r_hi.exp_m1(),
                reach_date: reach(r),
                reach_date_earliest: reach(r_hi),
                reach_date_latest: reach(r_lo),
                at_deadline: at(&log_at, r),
                at_deadline_low: at(&log_at, r_lo),
                at_deadline_high: at(&log_at, r_hi),
            });
        }
    }

    // Damped linear.
    let phi = config.damping.clamp(0.5, 0.9999);
    let damped_gain = |b: f64, h: f64| b * phi * (1.0 - phi.powf(h)) / (1.0 - phi);
    let damped_reach = |b: f64| {
        if gap <= 0.0 {
            return None;
        }
        if b <= 0.0 {
            return None;
        }
        // Solve b·φ(1−φ^h)/(1−φ) = gap for h; no solution when the plateau is below the goal.
        let x = 1.0 - gap * (1.0 - phi) / (b * phi);
        if x <= 0.0 {
            return None;
        }
        day_after(as_of, x.ln() / phi.ln(), horizon)
    };
    let damped_at = |b: f64| y0 + damped_gain(b, h_deadline);
    out.methods.push(MethodForecast {
        method: "damped",
        description: "阻尼趋势 damped trend: the linear pace shrinking by φ each day ahead",
        daily_growth: b,
        daily_growth_low: b_lo,
        daily_growth_high: b_hi,
        reach_date: damped_reach(b),
        reach_date_earliest: damped_reach(b_hi),
        reach_date_latest: damped_reach(b_lo),
        at_deadline: at(&damped_at, b),
        at_deadline_low: at(&damped_at, b_lo),
        at_deadline_high: at(&damped_at, b_hi),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// 1,000,000 on 1 Jan 2025, +10,000 a day for 30 days.
    fn linear_series() -> Vec<(NaiveDate, u64)> {
        (0..30u64)
            .map(|i| (d("2025-01-01") + Days::new(i), 1_000_000 + 10_000 * i))
            .collect()
    }

    #[test]
    fn a_linear_series_is_projected_exactly() {
        let s = linear_series();
        let f = forecast(
            &s,
            d("2025-01-30"),
            2_000_000,
            d("2025-06-30"),
            &ForecastConfig::default(),
        );
        assert_eq!(f.current, 1_290_000);
        assert_eq!(f.remaining, 710_000);
        assert_eq!(f.days_to_deadline, 151);
        assert_eq!(f.pace_7d, Some(10_000.0));
        let lin = &f.methods[0];
        assert_eq!(lin.method, "linear");
        assert!((lin.daily_growth - 10_000.0).abs() < 1e-6);
        // No scatter: the range collapses onto the line.
        assert!((lin.daily_growth_high - lin.daily_growth_low).abs() < 1e-6);
        // 710,000 / 10,000 = 71 days after 30 Jan.
        assert_eq!(lin.reach_date, Some(d("2025-04-11")));
        assert_eq!(lin.reach_date_earliest, lin.reach_date);
        assert_eq!(lin.at_deadline, Some(1_290_000 + 151 * 10_000));
        // 710,000 over 151 days.
        assert!((f.required_daily_growth.unwrap() - 4_701.986_754_966_887).abs() < 1e-6);
        // Compounding reaches it sooner than a straight line.
        assert!(f.methods[1].reach_date.unwrap() <= lin.reach_date.unwrap());
        // φ = 0.98: the damped plateau is 1,290,000 + 10,000·0.98/0.02 = 1,780,000 < 2,000,000.
        assert_eq!(f.methods[2].reach_date, None);
        // Below the plateau the damped trend gets there, later than the straight line.
        let near = forecast(
            &s,
            d("2025-01-30"),
            1_500_000,
            d("2025-06-30"),
            &ForecastConfig::default(),
        );
        assert_eq!(near.methods[0].reach_date, Some(d("2025-02-20")));
        assert!(near.methods[2].reach_date.unwrap() > d("2025-02-20"));
    }

    #[test]
    fn scatter_widens_the_range() {
        let s: Vec<(NaiveDate, u64)> = linear_series()
            .into_iter()
            .enumerate()
            .map(|(i, (day, v))| (day, if i % 2 == 0 { v + 5_000 } else { v - 5_000 }))
            .collect();
        let f = forecast(
            &s,
            d("2025-01-30"),
            2_000_000,
            d("2025-06-30"),
            &ForecastConfig::default(),
        );
        let lin = &f.methods[0];
        assert!(
            lin.daily_growth_low < lin.daily_growth && lin.daily_growth < lin.daily_growth_high
        );
        assert!(lin.reach_date_earliest < lin.reach_date && lin.reach_date < lin.reach_date_latest);
    }

    #[test]
    fn a_falling_total_never_reaches_and_a_passed_deadline_needs_nothing() {
        let s: Vec<(NaiveDate, u64)> = (0..10u64)
            .map(|i| (d("2025-01-01") + Days::new(i), 1_000_000 - 1_000 * i))
            .collect();
        let f = forecast(
            &s,
            d("2025-01-10"),
            2_000_000,
            d("2024-12-31"),
            &ForecastConfig::default(),
        );
        assert_eq!(f.required_daily_growth, None);
        assert!(f.days_to_deadline < 0);
        assert!(f
            .methods
            .iter()
            .all(|m| m.reach_date.is_none() && m.at_deadline.is_none()));
    }

    #[test]
    fn too_little_history_says_so() {
        let s = vec![(d("2025-01-01"), 5u64), (d("2025-01-02"), 6)];
        let f = forecast(
            &s,
            d("2025-01-02"),
            100,
            d("2025-12-31"),
            &ForecastConfig::default(),
        );
        assert!(f.methods.is_empty());
        assert!(f.note.unwrap().contains("at least 3"));
        let f = forecast(
            &[],
            d("2025-01-02"),
            100,
            d("2025-12-31"),
            &ForecastConfig::default(),
        );
        assert_eq!(f.note.as_deref(), Some("no readings yet"));
    }

    #[test]
    fn a_reached_goal_is_dated() {
        let s = linear_series();
        let f = forecast(
            &s,
            d("2025-01-30"),
            1_100_000,
            d("2025-06-30"),
            &ForecastConfig::default(),
        );
        assert_eq!(f.reached_on, Some(d("2025-01-11")));
        assert_eq!(f.reached_before, None);
        // Over the goal from the first day shown: reached on or before it, date unknown.
        let f2 = forecast(
            &s,
            d("2025-01-30"),
            900_000,
            d("2025-06-30"),
            &ForecastConfig::default(),
        );
        assert_eq!(
            (f2.reached_on, f2.reached_before),
            (None, Some(d("2025-01-01")))
        );
        assert_eq!(f.remaining, 0);
        assert_eq!(f.required_daily_growth, None);
        // Reached: no projected date (the tables say "reached"), not the as-of day.
        assert_eq!(f.methods[0].reach_date, None);
    }
}
