//! `anmin denoise`: the synthetic picture denoised by a patch autoencoder, measured by PSNR and
//! drawn beside the clean and noisy pictures.

use std::path::Path;

use nalgebra::DMatrix;

use crate::cli::DenoiseArgs;
use crate::data::InputColumn;
use crate::error::{Error, Result};
use crate::images::Image;
use crate::images::colormap::grayscale;
use crate::images::measures::psnr;
use crate::images::patches::{
    CLEAN_PREFIX, NOISY_PREFIX, PatchAverage, patch_corners, patch_values, pixel_indices,
};
use crate::images::raster::{RgbImage, figure_png};
use crate::images::synthetic::noisy_picture;
use crate::model::SavedModel;
use crate::outputs;
use crate::predict::predict_in_blocks;

/// How a patch autoencoder's columns map to patch pixels.
pub struct PatchModel {
    pub patch: usize,
    /// For each model input (in its order), the patch pixel it reads.
    input_pixels: Vec<usize>,
    /// For each model output, the patch pixel it predicts.
    output_pixels: Vec<usize>,
}

impl PatchModel {
    /// Checks that `model` reads noisy_0 … noisy_{p²−1} and predicts clean_0 … clean_{p²−1}
    /// (in any order), with p = `patch` or, when None, √(number of inputs).
    pub fn of(model: &SavedModel, patch: Option<usize>, path: &Path) -> Result<PatchModel> {
        let err = |detail: String| Error::Model {
            path: path.display().to_string(),
            message: format!(
                "denoise needs a model trained on `anmin gen dae` data (inputs {NOISY_PREFIX}*, \
                 targets {CLEAN_PREFIX}*, e.g. with --target-prefix {CLEAN_PREFIX}): {detail}"
            ),
        };
        let inputs = &model.encoding.inputs;
        if let Some(input) = inputs
            .iter()
            .find(|input| matches!(input, InputColumn::Categorical { .. }))
        {
            return Err(err(format!("input {:?} is categorical", input.name())));
        }
        let n_inputs = inputs.len();
        let patch = match patch {
            Some(p) => p,
            None => square_root(n_inputs).ok_or_else(|| {
                err(format!(
                    "{n_inputs} inputs are not the pixels of a square patch"
                ))
            })?,
        };
        let input_names: Vec<String> = inputs.iter().map(|i| i.name().to_owned()).collect();
        let input_pixels = pixel_indices(&input_names, NOISY_PREFIX, patch * patch)
            .map_err(|m| err(format!("inputs for --patch {patch}: {m}")))?;
        let output_pixels = pixel_indices(&model.encoding.targets, CLEAN_PREFIX, patch * patch)
            .map_err(|m| err(format!("targets for --patch {patch}: {m}")))?;
        Ok(PatchModel {
            patch,
            input_pixels,
            output_pixels,
        })
    }
}

fn square_root(n: usize) -> Option<usize> {
    let root = (n as f64).sqrt().round() as usize;
    (root * root == n && n > 0).then_some(root)
}

/// `noisy` denoised by the model: every overlapping patch (stride 1) is predicted, and each
/// pixel is the mean of the predictions of all patches that cover it. Not clipped to [0, 1].
pub fn denoise_image(model: &SavedModel, layout: &PatchModel, noisy: &Image) -> Result<Image> {
    let p = layout.patch;
    let corners = patch_corners(noisy.width, p, 1);
    let mut average = PatchAverage::new(noisy.width, p);
    predict_in_blocks(
        model,
        corners.len(),
        "the noisy picture's patches",
        |rows| {
            let patches: Vec<Vec<f64>> = corners[rows]
                .iter()
                .map(|&corner| patch_values(noisy, corner, p))
                .collect();
            DMatrix::from_fn(patches.len(), layout.input_pixels.len(), |i, j| {
                patches[i][layout.input_pixels[j]]
            })
        },
        |rows, predicted| {
            for (i, &corner) in corners[rows].iter().enumerate() {
                for (j, &pixel) in layout.output_pixels.iter().enumerate() {
                    average.add(corner, pixel, predicted[(i, j)]);
                }
            }
        },
    )?;
    Ok(average
        .finish()
        .expect("stride-1 patches no larger than the picture cover every pixel"))
}

/// `anmin denoise`.
pub fn run(args: &DenoiseArgs) -> Result<()> {
    let model = SavedModel::load(&args.model)?;
    let layout = PatchModel::of(&model, args.patch, &args.model)?;
    let size = args.picture.size;
    if layout.patch > size {
        return Err(Error::usage(format!(
            "the model's {0}x{0} patches do not fit in a --size {size} picture",
            layout.patch
        )));
    }
    let p = &args.picture;
    let (clean, noisy) = noisy_picture(p.size, p.noise, p.seed);
    let denoised = denoise_image(&model, &layout, &noisy)?;

    let panels: Vec<RgbImage> = [&clean, &noisy, &denoised]
        .into_iter()
        .map(grayscale)
        .collect();
    outputs::write_atomic(&args.out, &figure_png(&panels))?;

    let db = |v: f64| {
        if v.is_finite() {
            format!("{v:.2} dB")
        } else {
            "inf dB (identical)".into()
        }
    };
    let (noise, seed, patch) = (args.picture.noise, args.picture.seed, layout.patch);
    let n_patches = (size - patch + 1).pow(2);
    let (psnr_noisy, psnr_denoised) = (psnr(&clean, &noisy, 1.0), psnr(&clean, &denoised, 1.0));
    print!(
        "picture {size}x{size}, noise {noise}, seed {seed}: {n_patches} overlapping \
         {patch}x{patch} patches averaged\n\
         PSNR noisy vs clean:    {}\n\
         PSNR denoised vs clean: {}\n",
        db(psnr_noisy),
        db(psnr_denoised),
    );
    Ok(())
}
