//! How close an image is to a reference: PSNR for denoised pictures, the overlap of the
//! inside regions for signed distance fields.

use super::Image;

/// The mean over pixels of the squared difference of two images of the same size.
pub fn mean_squared_difference(reference: &Image, image: &Image) -> f64 {
    assert_eq!(
        (reference.width, reference.height),
        (image.width, image.height),
        "comparing images of different sizes"
    );
    reference
        .values
        .iter()
        .zip(&image.values)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / reference.values.len() as f64
}

/// PSNR of `image` against `reference` in dB for values whose full range is `peak`:
/// 10·log10(peak² / MSE). Infinite when the images are equal.
pub fn psnr(reference: &Image, image: &Image, peak: f64) -> f64 {
    10.0 * (peak * peak / mean_squared_difference(reference, image)).log10()
}

/// Intersection over union of the regions where the fields are negative (the shapes' insides);
/// None when neither field is negative anywhere.
pub fn inside_iou(reference: &Image, field: &Image) -> Option<f64> {
    assert_eq!(
        reference.values.len(),
        field.values.len(),
        "IoU of fields of different sizes"
    );
    let (mut both, mut either) = (0usize, 0usize);
    for (a, b) in reference.values.iter().zip(&field.values) {
        both += usize::from(*a < 0.0 && *b < 0.0);
        either += usize::from(*a < 0.0 || *b < 0.0);
    }
    (either > 0).then(|| both as f64 / either as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_insides() {
        let a = Image::from_fn(4, 1, |_, c| if c < 2 { -1.0 } else { 1.0 });
        let b = Image::from_fn(4, 1, |_, c| if c < 3 { -0.5 } else { 0.5 });
        assert_eq!(inside_iou(&a, &b), Some(2.0 / 3.0));
        assert_eq!(inside_iou(&a, &a), Some(1.0));
        let outside = Image::from_fn(4, 1, |_, _| 1.0);
        assert_eq!(inside_iou(&outside, &outside), None);
    }

    #[test]
    fn known_values() {
        let reference = Image::from_fn(4, 4, |_, _| 0.5);
        let shifted = |by: f64| Image::from_fn(4, 4, |_, _| 0.5 + by);
        // A uniform error e gives MSE e², so PSNR = −20·log10(e) at peak 1.
        assert!((psnr(&reference, &shifted(0.1), 1.0) - 20.0).abs() < 1e-12);
        assert!((psnr(&reference, &shifted(-0.01), 1.0) - 40.0).abs() < 1e-12);
        assert!(
            (psnr(&reference, &shifted(0.1), 255.0) - (20.0 + 20.0 * 255f64.log10())).abs() < 1e-9
        );
        assert_eq!(psnr(&reference, &reference, 1.0), f64::INFINITY);
        // Half the pixels off by 0.2: MSE 0.02, PSNR = 10·log10(50).
        let half = Image::from_fn(4, 4, |r, _| if r < 2 { 0.7 } else { 0.5 });
        assert!((psnr(&reference, &half, 1.0) - 10.0 * 50f64.log10()).abs() < 1e-12);
    }
}
