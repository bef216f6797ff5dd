//! Step lengths along an A-step direction, for the safeguarded ANMIN iteration.
//!
//! The objective along the direction, φ(t) = loss at A + t(A_new − A) after its B-step, costs
//! one forward pass and one B-step per trial: a few percent of an iteration's A-system. Both
//! rules accept only t with φ(t) < φ(0), so the iteration stays monotone.

use serde::Serialize;

/// How the step length is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRule {
    /// t = 1, ½, ¼, …: the first length that lowers the loss.
    Halving,
    /// Start from the last accepted length; double while the loss keeps falling (also past
    /// the A-step's own solution, t > 1), halve while it has not fallen or keeps falling,
    /// then one parabolic step through the best length and its neighbours.
    Search,
}

crate::choice!(StepRule {
    Halving => ("halving", "t = 1, ½, ¼, …: the first length that lowers the loss"),
    Search => ("search", "From the last accepted length: double while the loss keeps falling (up to 8×), halve while it does not, then a parabolic step"),
});

/// The chosen length and its objective.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accepted {
    pub t: f64,
    pub value: f64,
}

/// Longest step `Search` tries, in multiples of the A-step.
pub const MAX_STEP: f64 = 8.0;

/// t = 1, ½, ¼, … (at most `max_halvings` halvings) until φ(t) < `before`; None when no length
/// lowers the loss.
pub fn halving(
    before: f64,
    max_halvings: u32,
    mut phi: impl FnMut(f64) -> f64,
) -> Option<Accepted> {
    let mut t = 1.0;
    for _ in 0..=max_halvings {
        let value = phi(t);
        if value < before {
            return Some(Accepted { t, value });
        }
        t *= 0.5;
    }
    None
}

/// The `Search` rule from `t0` (the last accepted length). Returns the best length evaluated,
/// or None when none of `t0`·2^−i, i ≤ `max_halvings`, lowers the loss below `before`.
pub fn search(
    before: f64,
    t0: f64,
    max_halvings: u32,
    mut phi: impl FnMut(f64) -> f64,
) -> Option<Accepted> {
    // Every evaluated point, φ(0) = before included, for the final parabola.
    let mut seen = vec![(0.0, before)];
    let mut eval = |t: f64, seen: &mut Vec<(f64, f64)>| {
        let v = phi(t);
        seen.push((t, v));
        v
    };
    let mut t = t0.clamp(f64::MIN_POSITIVE, MAX_STEP);
    let mut value = eval(t, &mut seen);
    let mut halvings = 0;
    // NaN never counts as lower.
    while value.partial_cmp(&before) != Some(std::cmp::Ordering::Less) {
        if halvings == max_halvings {
            return None;
        }
        t *= 0.5;
        halvings += 1;
        value = eval(t, &mut seen);
    }
    let mut best = Accepted { t, value };
    // Longer while the first length was accepted and doubling helps; shorter after a halving
    // while halving helps.
    let grow = halvings == 0;
    loop {
        let next = if grow { best.t * 2.0 } else { best.t * 0.5 };
        if next > MAX_STEP || (!grow && halvings == max_halvings) {
            break;
        }
        halvings += u32::from(!grow);
        let v = eval(next, &mut seen);
        if v < best.value {
            best = Accepted { t: next, value: v };
        } else {
            break;
        }
    }
    // The vertex of the parabola through the best point and its evaluated neighbours.
    seen.sort_by(|a, b| a.0.total_cmp(&b.0));
    let at = seen
        .iter()
        .position(|&(t, _)| t == best.t)
        .expect("best was evaluated");
    if at > 0 && at + 1 < seen.len() {
        let ((t1, v1), (t2, v2), (t3, v3)) = (seen[at - 1], seen[at], seen[at + 1]);
        let num = (t2 - t1).powi(2) * (v2 - v3) - (t2 - t3).powi(2) * (v2 - v1);
        let den = (t2 - t1) * (v2 - v3) - (t2 - t3) * (v2 - v1);
        let vertex = t2 - 0.5 * num / den;
        if vertex.is_finite() && vertex > t1 && vertex < t3 && vertex != t2 {
            let v = phi(vertex);
            if v < best.value {
                best = Accepted {
                    t: vertex,
                    value: v,
                };
            }
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_takes_the_first_decrease() {
        let phi = |t: f64| (t - 0.3).powi(2);
        let got = halving(0.09, 20, phi).unwrap();
        assert_eq!(got.t, 0.5);
    }

    #[test]
    fn search_finds_the_minimum_of_a_parabola() {
        // Minimum at 0.3 from t0 = 1: halvings to 0.25, then the parabola's vertex exactly.
        let phi = |t: f64| (t - 0.3).powi(2);
        let got = search(0.09, 1.0, 20, phi).unwrap();
        assert!((got.t - 0.3).abs() < 1e-12, "{got:?}");
        // Minimum at 3: extrapolation past the A-step.
        let phi = |t: f64| (t - 3.0).powi(2);
        let got = search(9.0, 1.0, 20, phi).unwrap();
        assert!((got.t - 3.0).abs() < 1e-12, "{got:?}");
    }

    #[test]
    fn search_never_accepts_an_increase() {
        let mut calls = 0;
        let got = search(1.0, 1.0, 5, |_| {
            calls += 1;
            1.0
        });
        assert_eq!(got, None);
        assert_eq!(calls, 6);
        // Kinked and non-convex: whatever it returns is below φ(0) and was evaluated.
        let phi = |t: f64| 1.0 - t + 3.0 * (t - 0.4).max(0.0) + 0.1 * (40.0 * t).sin();
        let got = search(1.0, 2.0, 20, phi).unwrap();
        assert!(got.value < 1.0 && got.value == phi(got.t));
    }
}
