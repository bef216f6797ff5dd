//! Square patches of an image: where they lie, the CSV column names of their pixels, and
//! putting an image back together from (overlapping) patches.

use super::Image;

/// Column-name prefix of the noisy patch pixels (the autoencoder's inputs).
pub const NOISY_PREFIX: &str = "noisy_";
/// Column-name prefix of the clean patch pixels (its targets).
pub const CLEAN_PREFIX: &str = "clean_";

/// `prefix0`, `prefix1`, … for the `patch`² pixels of a patch, row-major.
pub fn column_names(prefix: &str, patch: usize) -> Vec<String> {
    (0..patch * patch).map(|i| format!("{prefix}{i}")).collect()
}

/// For each name, the patch pixel it holds, when the names are exactly `prefix0` …
/// `prefix{count−1}` in any order; otherwise a message saying what is wrong.
pub fn pixel_indices(names: &[String], prefix: &str, count: usize) -> Result<Vec<usize>, String> {
    let expected = || format!("{prefix}0 … {prefix}{}", count.saturating_sub(1));
    if names.len() != count {
        return Err(format!(
            "expected {count} columns {}, found {}",
            expected(),
            names.len()
        ));
    }
    let mut seen = vec![false; count];
    names
        .iter()
        .map(|name| {
            let index = name
                .strip_prefix(prefix)
                .and_then(|i| i.parse::<usize>().ok())
                .filter(|&i| i < count && !seen[i])
                .ok_or_else(|| format!("column {name:?} is not one of {}", expected()))?;
            seen[index] = true;
            Ok(index)
        })
        .collect()
}

/// Top-left corners (row, col) of the `patch` × `patch` patches of a `size` × `size` image,
/// every `stride` pixels in each direction while the patch fits, row-major.
pub fn patch_corners(size: usize, patch: usize, stride: usize) -> Vec<(usize, usize)> {
    if patch > size {
        return Vec::new();
    }
    let starts: Vec<usize> = (0..=size - patch).step_by(stride).collect();
    starts
        .iter()
        .flat_map(|&row| starts.iter().map(move |&col| (row, col)))
        .collect()
}

/// The pixels of the patch at `corner`, row-major.
pub fn patch_values(image: &Image, corner: (usize, usize), patch: usize) -> Vec<f64> {
    let (row, col) = corner;
    (0..patch * patch)
        .map(|i| image.get(row + i / patch, col + i % patch))
        .collect()
}

/// Builds an image from patch values: each pixel is the mean of the values every patch
/// covering it gives it.
pub struct PatchAverage {
    patch: usize,
    sum: Image,
    count: Vec<u32>,
}

impl PatchAverage {
    pub fn new(size: usize, patch: usize) -> Self {
        PatchAverage {
            patch,
            sum: Image::from_fn(size, size, |_, _| 0.0),
            count: vec![0; size * size],
        }
    }

    /// Adds value `value` for pixel `pixel` (row-major within the patch) of the patch at
    /// `corner`.
    pub fn add(&mut self, corner: (usize, usize), pixel: usize, value: f64) {
        let row = corner.0 + pixel / self.patch;
        let col = corner.1 + pixel % self.patch;
        let i = row * self.sum.width + col;
        self.sum.values[i] += value;
        self.count[i] += 1;
    }

    /// The averaged image; None when a pixel was covered by no patch.
    pub fn finish(self) -> Option<Image> {
        if self.count.contains(&0) {
            return None;
        }
        let values = self
            .sum
            .values
            .iter()
            .zip(&self.count)
            .map(|(s, &n)| s / f64::from(n))
            .collect();
        Some(Image { values, ..self.sum })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_cover_the_image_with_stride_one() {
        assert_eq!(patch_corners(4, 2, 1).len(), 9);
        assert_eq!(patch_corners(4, 2, 2), [(0, 0), (0, 2), (2, 0), (2, 2)]);
        // A stride that does not divide leaves the last rows out of training data.
        assert_eq!(patch_corners(5, 2, 2), [(0, 0), (0, 2), (2, 0), (2, 2)]);
        assert!(patch_corners(2, 3, 1).is_empty());
    }

    #[test]
    fn averaging_patches_of_an_image_gives_it_back() {
        let image = Image::from_fn(6, 6, |r, c| (r * 6 + c) as f64);
        let mut average = PatchAverage::new(6, 3);
        for corner in patch_corners(6, 3, 1) {
            for (pixel, value) in patch_values(&image, corner, 3).into_iter().enumerate() {
                average.add(corner, pixel, value);
            }
        }
        assert_eq!(average.finish(), Some(image));
        assert_eq!(PatchAverage::new(2, 1).finish(), None);
    }

    #[test]
    fn pixel_indices_map_names_in_any_order() {
        let names: Vec<String> = ["c_2", "c_0", "c_1"].map(String::from).into();
        assert_eq!(pixel_indices(&names, "c_", 3), Ok(vec![2, 0, 1]));
        assert_eq!(column_names("c_", 2), ["c_0", "c_1", "c_2", "c_3"]);
        for bad in [
            vec!["c_0", "c_0", "c_1"],
            vec!["c_0", "c_1", "c_3"],
            vec!["x", "c_1", "c_2"],
        ] {
            let names: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
            assert!(pixel_indices(&names, "c_", 3).is_err(), "{bad:?}");
        }
        assert!(
            pixel_indices(&names[..2], "c_", 3)
                .unwrap_err()
                .contains("expected 3")
        );
    }
}
