//! The test picture of the denoising autoencoder: smooth regions (a gradient, Gaussian blobs)
//! and hard edges (a rectangle, a disk, a thin bar), and its noisy copies.

use rand_distr::{Distribution, StandardNormal};

use super::{Image, center_x, center_y};
use crate::rng::{Stream, seeded};

/// The clean picture at `size` × `size` pixels, values in [0, 1]. It is drawn in [−1, 1]²
/// coordinates, so it depends on nothing but the size: every seed denoises the same picture.
pub fn clean_picture(size: usize) -> Image {
    Image::from_fn(size, size, |row, col| {
        picture_value(center_x(col, size), center_y(row, size))
    })
}

fn picture_value(x: f64, y: f64) -> f64 {
    let blob = |cx: f64, cy: f64, sigma: f64| {
        (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * sigma * sigma)).exp()
    };
    // Hard-edged shapes are painted over the smooth background, last one on top.
    if (0.05..=0.15).contains(&x) && (0.1..=0.85).contains(&y) {
        return 0.05;
    }
    if (-0.75..=-0.15).contains(&x) && (0.15..=0.7).contains(&y) {
        return 0.9;
    }
    if (x - 0.45).powi(2) + (y + 0.4).powi(2) <= 0.3 * 0.3 {
        return 0.1;
    }
    let gradient = 0.3 + 0.1 * (x + 1.0) + 0.05 * (y + 1.0);
    let value = gradient + 0.3 * blob(0.5, 0.45, 0.2) - 0.2 * blob(-0.5, -0.4, 0.25);
    value.clamp(0.0, 1.0)
}

/// `clean` plus independent N(0, noise²) noise per pixel, drawn from `seed`'s noise stream
/// row by row. Not clipped to [0, 1], so that the noise is exactly Gaussian.
pub fn add_noise(clean: &Image, noise: f64, seed: u64) -> Image {
    let mut rng = seeded(seed, Stream::Noise);
    let values = clean
        .values
        .iter()
        .map(|v| {
            v + noise * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng)
        })
        .collect();
    Image {
        values,
        ..clean.clone()
    }
}

/// The clean picture of `size` × `size` pixels and its copy with Gaussian noise of standard
/// deviation `noise` drawn from `seed`: the data of `gen dae` and of `denoise`.
pub fn noisy_picture(size: usize, noise: f64, seed: u64) -> (Image, Image) {
    let clean = clean_picture(size);
    let noisy = add_noise(&clean, noise, seed);
    (clean, noisy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picture_has_range_and_edges() {
        let clean = clean_picture(64);
        assert!(clean.values.iter().all(|v| (0.0..=1.0).contains(v)));
        let (lo, hi) = clean
            .values
            .iter()
            .fold((1.0f64, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        assert!(lo <= 0.05 && hi >= 0.9, "{lo} {hi}");
        // Hard edges: some neighbours differ by a lot, while most differ by little.
        let jumps = (0..64)
            .flat_map(|r| (1..64).map(move |c| (r, c)))
            .filter(|&(r, c)| (clean.get(r, c) - clean.get(r, c - 1)).abs() > 0.3)
            .count();
        assert!(jumps > 20 && jumps < 400, "{jumps}");
    }

    #[test]
    fn noise_is_seeded_gaussian() {
        let clean = clean_picture(64);
        let a = add_noise(&clean, 0.1, 0);
        assert_eq!(a, add_noise(&clean, 0.1, 0), "same seed, same noise");
        assert_ne!(a, add_noise(&clean, 0.1, 1), "another seed, another draw");
        let diffs: Vec<f64> = a
            .values
            .iter()
            .zip(&clean.values)
            .map(|(n, c)| n - c)
            .collect();
        let n = diffs.len() as f64;
        let mean = diffs.iter().sum::<f64>() / n;
        let sd = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < 0.01 && (sd - 0.1).abs() < 0.005, "{mean} {sd}");
        assert_eq!(add_noise(&clean, 0.0, 3), clean);
    }
}
