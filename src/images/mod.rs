//! The paper's two image experiments (its Fig. S2): a shape decoder, which maps pixel
//! coordinates to the signed distance field of a binary shape, and a denoising autoencoder on
//! patches of a noisy picture. This module makes their data and measures and draws their
//! results; training is the ordinary CSV pipeline.
//!
//! Every image is square, `size` × `size` pixels, stored row-major with row 0 at the top. Pixel
//! centers have coordinates in [−1, 1]²: x grows to the right and y upward, so that shapes
//! drawn in (x, y) appear upright in the picture.

pub mod colormap;
pub mod edt;
pub mod measures;
pub mod patches;
pub mod raster;
pub mod shapes;
pub mod synthetic;

/// A grayscale image or a scalar field: `width` × `height` values, row-major, row 0 at the top.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f64>,
}

impl Image {
    /// The image whose pixel (row, col) is `value(row, col)`.
    pub fn from_fn(
        width: usize,
        height: usize,
        mut value: impl FnMut(usize, usize) -> f64,
    ) -> Self {
        let values = (0..height)
            .flat_map(|row| (0..width).map(move |col| (row, col)))
            .map(|(row, col)| value(row, col))
            .collect();
        Image {
            width,
            height,
            values,
        }
    }

    pub fn get(&self, row: usize, col: usize) -> f64 {
        self.values[row * self.width + col]
    }
}

/// The x coordinate of the center of column `col` of a `size`-pixel grid: (2·col + 1)/size − 1.
pub fn center_x(col: usize, size: usize) -> f64 {
    (2 * col + 1) as f64 / size as f64 - 1.0
}

/// The y coordinate of the center of row `row` (row 0 at the top, so y decreases with the row).
pub fn center_y(row: usize, size: usize) -> f64 {
    1.0 - (2 * row + 1) as f64 / size as f64
}

/// The (row, col) of the pixel of a `size`-pixel grid whose center is (x, y), or None when
/// (x, y) is not a pixel center (to within a small fraction of a pixel, for values that went
/// through decimal text).
pub fn pixel_at(x: f64, y: f64, size: usize) -> Option<(usize, usize)> {
    let index = |t: f64| {
        // Inverts t = (2i + 1)/size − 1.
        let i = ((t + 1.0) * size as f64 - 1.0) / 2.0;
        let rounded = i.round();
        let on_center = (i - rounded).abs() <= 1e-6;
        (on_center && rounded >= 0.0 && rounded < size as f64).then_some(rounded as usize)
    };
    let col = index(x)?;
    let row = index(-y)?;
    Some((row, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_centers_round_trip() {
        for size in [1, 2, 7, 128] {
            for i in 0..size {
                let (x, y) = (center_x(i, size), center_y(size - 1 - i, size));
                assert!(x > -1.0 && x < 1.0);
                assert_eq!(pixel_at(x, y, size), Some((size - 1 - i, i)));
            }
        }
        // Row 0 is the top of the picture: the largest y.
        assert_eq!(center_y(0, 4), 0.75);
        assert_eq!(center_x(0, 4), -0.75);
        assert_eq!(pixel_at(0.0, 0.0, 4), None, "a pixel corner, not a center");
        assert_eq!(pixel_at(1.25, 0.75, 4), None, "outside the grid");
    }
}
