//! Exact Euclidean distance transforms by the lower envelope of parabolas (P. Felzenszwalb and
//! D. Huttenlocher, "Distance Transforms of Sampled Functions", Theory of Computing 8, 2012),
//! and the signed distance field of a binary shape built from two of them.
//!
//! Distances are between pixel centers, in pixels. Squared distances are sums of squared
//! integers, and every comparison the envelope makes is between exact rationals, so the
//! squared transform is exact in f64 (a test checks it against brute force).

/// The 1D transform d(p) = min over q of (p − q)² + f(q), for p = 0 … n−1, taken over the q
/// where f is finite; every d(p) is infinite when no f(q) is. `v` and `z` are scratch space
/// (the envelope's parabolas and their left boundaries), reused across calls.
fn transform_1d(f: &[f64], d: &mut [f64], v: &mut Vec<usize>, z: &mut Vec<f64>) {
    v.clear();
    z.clear();
    // The height of parabola q at 0, f(q) + q², from which intersections follow.
    let offset = |q: usize| f[q] + (q * q) as f64;
    for q in (0..f.len()).filter(|&q| f[q].is_finite()) {
        // Pop the parabolas that the new one hides entirely. The first one pushed has boundary
        // −∞ and is never popped.
        while let (Some(&p), Some(&left)) = (v.last(), z.last()) {
            let s = (offset(q) - offset(p)) / (2 * (q - p)) as f64;
            if s <= left {
                v.pop();
                z.pop();
            } else {
                v.push(q);
                z.push(s);
                break;
            }
        }
        if v.is_empty() {
            v.push(q);
            z.push(f64::NEG_INFINITY);
        }
    }
    if v.is_empty() {
        d.fill(f64::INFINITY);
        return;
    }
    let mut k = 0;
    for (p, out) in d.iter_mut().enumerate() {
        while k + 1 < v.len() && z[k + 1] < p as f64 {
            k += 1;
        }
        let q = v[k];
        *out = (p.abs_diff(q) * p.abs_diff(q)) as f64 + f[q];
    }
}

/// Squared Euclidean distance from each pixel center to the nearest center where `feature` is
/// true; infinite everywhere when no pixel is a feature. Row-major, `width` × `height`.
pub fn squared_distance_transform(feature: &[bool], width: usize, height: usize) -> Vec<f64> {
    assert_eq!(
        feature.len(),
        width * height,
        "feature mask has the wrong size"
    );
    let mut out: Vec<f64> = feature
        .iter()
        .map(|&is| if is { 0.0 } else { f64::INFINITY })
        .collect();
    let (mut v, mut z) = (Vec::new(), Vec::new());
    // Columns first (distance within each column), then rows over those results: the 2D
    // transform separates because (Δr)² + (Δc)² does.
    let mut f = vec![0.0; height];
    let mut d = vec![0.0; height];
    for col in 0..width {
        for row in 0..height {
            f[row] = out[row * width + col];
        }
        transform_1d(&f, &mut d, &mut v, &mut z);
        for row in 0..height {
            out[row * width + col] = d[row];
        }
    }
    let mut d = vec![0.0; width];
    for row in out.chunks_exact_mut(width.max(1)).take(height) {
        transform_1d(row, &mut d, &mut v, &mut z);
        row.copy_from_slice(&d);
    }
    out
}

/// The signed distance field of a shape in pixels, negative inside: at a pixel outside, the
/// distance from its center to the nearest inside center; at a pixel inside, minus the distance
/// to the nearest outside center; then moved half a pixel toward zero, so that the zero level
/// lies midway between the two centers across the boundary (±0.5 at the pixels beside it, as
/// for the true distance to an edge between them). None when the shape is empty or fills the
/// whole grid, where the field is infinite.
pub fn signed_distance_field(inside: &[bool], width: usize, height: usize) -> Option<Vec<f64>> {
    if !inside.contains(&true) || !inside.contains(&false) {
        return None;
    }
    let outside: Vec<bool> = inside.iter().map(|&is| !is).collect();
    let to_shape = squared_distance_transform(inside, width, height);
    let to_complement = squared_distance_transform(&outside, width, height);
    let field = inside
        .iter()
        .zip(to_shape.iter().zip(&to_complement))
        .map(|(&is_inside, (&out_sq, &in_sq))| {
            // One of the two is 0: the pixel is in the shape or in its complement.
            if is_inside {
                -(in_sq.sqrt() - 0.5)
            } else {
                out_sq.sqrt() - 0.5
            }
        })
        .collect();
    Some(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn brute_force(feature: &[bool], width: usize, height: usize) -> Vec<f64> {
        let mut out = vec![f64::INFINITY; width * height];
        for (i, out) in out.iter_mut().enumerate() {
            let (r, c) = (i / width, i % width);
            for (j, _) in feature.iter().enumerate().filter(|(_, is)| **is) {
                let (fr, fc) = (j / width, j % width);
                let sq = (r.abs_diff(fr).pow(2) + c.abs_diff(fc).pow(2)) as f64;
                *out = out.min(sq);
            }
        }
        out
    }

    #[test]
    fn squared_transform_is_exact() {
        let mut rng = crate::rng::seeded(7, crate::rng::Stream::Init);
        for case in 0..400 {
            let width = rng.random_range(1..=13);
            let height = rng.random_range(1..=11);
            // From nearly empty to nearly full, so that both long and short envelopes occur.
            let density = [0.02, 0.1, 0.3, 0.6, 0.95][case % 5];
            let feature: Vec<bool> = (0..width * height)
                .map(|_| rng.random_bool(density))
                .collect();
            assert_eq!(
                squared_distance_transform(&feature, width, height),
                brute_force(&feature, width, height),
                "{width}x{height} {feature:?}"
            );
        }
    }

    #[test]
    fn no_features_means_infinite_distance() {
        let d = squared_distance_transform(&[false; 6], 3, 2);
        assert!(d.iter().all(|v| v.is_infinite()));
        assert!(squared_distance_transform(&[], 0, 0).is_empty());
    }

    #[test]
    fn signed_field_is_negative_inside() {
        // A 3×3 block in the middle of a 9×9 grid.
        let (w, h) = (9, 9);
        let inside: Vec<bool> = (0..w * h)
            .map(|i| (3..6).contains(&(i / w)) && (3..6).contains(&(i % w)))
            .collect();
        let sdf = signed_distance_field(&inside, w, h).unwrap();
        for (i, &is_inside) in inside.iter().enumerate() {
            assert_eq!(sdf[i] < 0.0, is_inside, "pixel {i}");
        }
        let at = |r: usize, c: usize| sdf[r * w + c];
        assert_eq!(
            at(4, 4),
            -1.5,
            "center: 2 pixels from the nearest outside center"
        );
        assert_eq!(at(3, 4), -0.5, "inside, beside the boundary");
        assert_eq!(at(2, 4), 0.5, "outside, beside the boundary");
        assert_eq!(at(0, 4), 2.5);
        assert_eq!(
            at(0, 0),
            18f64.sqrt() - 0.5,
            "diagonal to the corner pixel (3, 3)"
        );
        assert_eq!(signed_distance_field(&[true; 4], 2, 2), None);
        assert_eq!(signed_distance_field(&[false; 4], 2, 2), None);
    }
}
