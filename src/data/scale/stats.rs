//! Column statistics: mean and spread (robust to extreme magnitudes), and quantiles.

pub(super) struct ColumnStats {
    pub(super) mean: f64,
    pub(super) scale: f64,
    pub(super) range: [f64; 2],
    pub(super) constant: bool,
}

/// Mean, scale and range of one column, computed on values divided by their largest
/// magnitude so that sums cannot overflow even for values near ±1e308.
pub(super) fn column_stats(values: &[f64]) -> ColumnStats {
    let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max_abs == 0.0 || values.is_empty() {
        let range = if values.is_empty() {
            [0.0, 0.0]
        } else {
            [min, max]
        };
        return ColumnStats {
            mean: 0.0,
            scale: 1.0,
            range,
            constant: true,
        };
    }
    let n = values.len() as f64;
    let mean_u = values.iter().map(|v| v / max_abs).sum::<f64>() / n;
    let var_u = values
        .iter()
        .map(|v| (v / max_abs - mean_u).powi(2))
        .sum::<f64>()
        / n;
    let std_u = var_u.sqrt();
    // Spread at rounding level is a constant column: scale by its magnitude, so that its
    // standardized values are (about) zero rather than amplified rounding noise.
    let scale_u = if std_u > 1e-12 { std_u } else { 1.0 };
    // A spread among subnormal numbers rounds to few bits or to zero (0 and 5e-324 have a
    // standard deviation of 0 in f64). Never scale by less than the smallest normal number,
    // a power of two, so that dividing by it is exact and |z| stays within the usual bound.
    let scale = (scale_u * max_abs).max(f64::MIN_POSITIVE);
    ColumnStats {
        mean: mean_u * max_abs,
        scale,
        range: [min, max],
        constant: std_u <= 1e-12,
    }
}

/// The q-quantile (0 ≤ q ≤ 1) of sorted values, interpolating linearly between neighbours
/// (numpy's default): position q·(n − 1). None for no values.
pub(super) fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let t = pos - lo as f64;
    // A weighted sum rather than lo + t·(hi − lo), which overflows near ±f64::MAX.
    Some(if t == 0.0 {
        sorted[lo]
    } else {
        sorted[lo] * (1.0 - t) + sorted[hi] * t
    })
}

/// The values that are not NaN, sorted.
pub(super) fn sorted_present(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.filter(|v| !v.is_nan()).collect();
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// Robust centre and scale of sorted values: the median, and the interquartile range, or
/// when that is 0 half the range, or when that is 0 too, 1.
pub(super) fn robust_centre_scale(sorted: &[f64]) -> (f64, f64) {
    let Some(median) = quantile(sorted, 0.5) else {
        return (0.0, 1.0);
    };
    let q1 = quantile(sorted, 0.25).expect("values");
    let q3 = quantile(sorted, 0.75).expect("values");
    // Halves first: the difference of values near ±f64::MAX overflows.
    let iqr = 2.0 * (q3 / 2.0 - q1 / 2.0);
    let half_range = sorted[sorted.len() - 1] / 2.0 - sorted[0] / 2.0;
    let scale = if iqr > 0.0 {
        iqr
    } else if half_range > 0.0 {
        half_range
    } else {
        1.0
    };
    (median, scale.clamp(f64::MIN_POSITIVE, f64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&v, 0.5), Some(3.0));
        assert_eq!(quantile(&v, 0.25), Some(2.0));
        assert_eq!(quantile(&v, 0.75), Some(4.0));
        // numpy.quantile([1, 2, 3, 4], [.25, .5, .75]) = 1.75, 2.5, 3.25
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.75), Some(3.25));
        assert_eq!(quantile(&[7.0], 0.3), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
        let big = [f64::MAX, f64::MAX];
        assert_eq!(quantile(&big, 0.5), Some(f64::MAX));
    }

    #[test]
    fn robust_scale_falls_back_to_half_the_range_then_one() {
        // Median 3, IQR 4 − 2.
        assert_eq!(robust_centre_scale(&[1.0, 2.0, 3.0, 4.0, 10.0]), (3.0, 2.0));
        // IQR 0 (most values equal): half the range, (9 − 0) / 2.
        let v = sorted_present([0.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 9.0, f64::NAN].into_iter());
        assert_eq!(v.len(), 8);
        assert_eq!(robust_centre_scale(&v), (5.0, 4.5));
        // Constant: 1.
        assert_eq!(robust_centre_scale(&[2.0, 2.0]), (2.0, 1.0));
        assert_eq!(robust_centre_scale(&[]), (0.0, 1.0));
        // Extremes do not overflow.
        let (_, s) = robust_centre_scale(&[-f64::MAX, 0.0, f64::MAX]);
        assert!(s.is_finite() && s > 0.0);
    }
}
