//! Scalar fields and grayscale images as colors: a diverging colormap with the zero level
//! drawn as a contour, and a gray ramp.

use super::Image;
use super::raster::RgbImage;

/// ColorBrewer's RdBu, reversed: blue for negative (inside a shape), near-white at zero, red
/// for positive (outside). Five stops, evenly spaced on [−1, 1].
const DIVERGING: [[f64; 3]; 5] = [
    [33.0, 102.0, 172.0],
    [146.0, 197.0, 222.0],
    [247.0, 247.0, 247.0],
    [244.0, 165.0, 130.0],
    [178.0, 24.0, 43.0],
];

/// The contour's color.
const CONTOUR: [u8; 3] = [0, 0, 0];

/// How far a diverging colormap reaches on each side of zero: the value that gets the full
/// blue (−`negative`) and the full red (`positive`). Two slopes rather than one symmetric
/// range, because a shape's inside is often much shallower than its outside is far: with one
/// range a thin glyph's inside would be drawn almost white.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DivergingScale {
    pub negative: f64,
    pub positive: f64,
}

impl DivergingScale {
    /// The scale that spans every value of every field, so that fields drawn with it are
    /// comparable color for color.
    pub fn covering(fields: &[&Image]) -> DivergingScale {
        let values = || fields.iter().flat_map(|f| f.values.iter().copied());
        DivergingScale {
            negative: values().fold(0.0, |m, v| m.max(-v)),
            positive: values().fold(0.0, f64::max),
        }
    }

    /// The color of `value`; values beyond the scale saturate.
    pub fn color(&self, value: f64) -> [u8; 3] {
        let reach = if value < 0.0 {
            self.negative
        } else {
            self.positive
        };
        let t = if reach > 0.0 {
            (value / reach).clamp(-1.0, 1.0)
        } else {
            0.0
        };
        // Position among the stops: 0 … 4.
        let position = (t + 1.0) * 2.0;
        let i = (position.floor() as usize).min(DIVERGING.len() - 2);
        let frac = position - i as f64;
        let (a, b) = (DIVERGING[i], DIVERGING[i + 1]);
        std::array::from_fn(|c| (a[c] + frac * (b[c] - a[c])).round() as u8)
    }
}

/// Pixels on the zero level set: those with a value ≥ 0 that have a 4-neighbour below 0. Only
/// the non-negative side is marked, so the line is one pixel thick.
pub fn zero_contour(field: &Image) -> Vec<bool> {
    let (w, h) = (field.width, field.height);
    (0..w * h)
        .map(|i| {
            let (row, col) = (i / w, i % w);
            let negative = |r: usize, c: usize| field.get(r, c) < 0.0;
            !negative(row, col)
                && ((row > 0 && negative(row - 1, col))
                    || (row + 1 < h && negative(row + 1, col))
                    || (col > 0 && negative(row, col - 1))
                    || (col + 1 < w && negative(row, col + 1)))
        })
        .collect()
}

/// `field` in the diverging colormap, with its zero level drawn in black.
pub fn diverging_with_contour(field: &Image, scale: DivergingScale) -> RgbImage {
    let contour = zero_contour(field);
    let pixels = field
        .values
        .iter()
        .zip(contour)
        .map(
            |(&v, on_contour)| {
                if on_contour { CONTOUR } else { scale.color(v) }
            },
        )
        .collect();
    RgbImage {
        width: field.width,
        height: field.height,
        pixels,
    }
}

/// A grayscale image with values in [0, 1] (black to white); values outside are clipped.
pub fn grayscale(image: &Image) -> RgbImage {
    let pixels = image
        .values
        .iter()
        .map(|v| [(v.clamp(0.0, 1.0) * 255.0).round() as u8; 3])
        .collect();
    RgbImage {
        width: image.width,
        height: image.height,
        pixels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_ends_and_middle() {
        let symmetric = DivergingScale {
            negative: 1.0,
            positive: 1.0,
        };
        assert_eq!(symmetric.color(-2.0), [33, 102, 172]);
        assert_eq!(symmetric.color(-1.0), [33, 102, 172]);
        assert_eq!(symmetric.color(0.0), [247, 247, 247]);
        assert_eq!(symmetric.color(1.0), [178, 24, 43]);
        // Negative is bluer than red, positive redder than blue.
        let (neg, pos) = (symmetric.color(-0.3), symmetric.color(0.3));
        assert!(neg[2] > neg[0] && pos[0] > pos[2]);
        // Each side on its own slope.
        let field = Image::from_fn(3, 1, |_, c| [-0.2, 0.4, 0.8][c]);
        let scale = DivergingScale::covering(&[&field]);
        assert_eq!((scale.negative, scale.positive), (0.2, 0.8));
        assert_eq!(scale.color(-0.2), [33, 102, 172]);
        assert_eq!(scale.color(0.4), [244, 165, 130]);
        let zero = DivergingScale::covering(&[]);
        assert_eq!(zero.color(3.0), [247, 247, 247], "a zero scale");
    }

    #[test]
    fn contour_follows_sign_changes() {
        // Negative in the middle column of a 3×3 field.
        let field = Image::from_fn(3, 3, |_, c| if c == 1 { -1.0 } else { 1.0 });
        let contour = zero_contour(&field);
        assert_eq!(
            contour,
            [true, false, true, true, false, true, true, false, true]
        );
        let picture = diverging_with_contour(&field, DivergingScale::covering(&[&field]));
        assert_eq!(picture.get(0, 0), CONTOUR);
        assert_eq!(picture.get(0, 1), [33, 102, 172]);
        let uniform = Image::from_fn(2, 2, |_, _| 0.5);
        assert!(!zero_contour(&uniform).contains(&true));
        assert_eq!(
            grayscale(&Image::from_fn(2, 1, |_, c| c as f64 * 2.0 - 0.5)).pixels,
            [[0; 3], [255; 3]]
        );
    }
}
