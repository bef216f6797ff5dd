//! `anmin gen`: the CSV data of the image experiments.

use std::fmt::Write;

use crate::cli::{GenArgs, GenCommand, GenDaeArgs, GenSdfArgs, NoisyPictureArgs};
use crate::error::{Error, Result};
use crate::images::patches::{
    CLEAN_PREFIX, NOISY_PREFIX, column_names, patch_corners, patch_values,
};
use crate::images::synthetic::{add_noise, clean_picture};
use crate::images::{Image, center_x, center_y, edt};
use crate::report;

/// `anmin gen sdf|dae`.
pub fn run(args: &GenArgs) -> Result<()> {
    match &args.data {
        GenCommand::Sdf(args) => gen_sdf(args),
        GenCommand::Dae(args) => gen_dae(args),
    }
}

/// The CSV of `anmin gen sdf`: a header `x,y,sdf` and one row per pixel, row-major from the
/// top-left, with coordinates of pixel centers and distances in the same units.
pub fn sdf_csv(args: &GenSdfArgs) -> Result<String> {
    let size = args.size;
    let inside = args.shape.rasterize(size);
    let field = edt::signed_distance_field(&inside, size, size).ok_or_else(|| {
        Error::usage(format!(
            "--shape {} at --size {size} has no inside or no outside pixel",
            format!("{:?}", args.shape).to_lowercase()
        ))
    })?;
    // Pixels → coordinate units: the grid spans 2 units.
    let unit = 2.0 / size as f64;
    let mut csv = String::from("x,y,sdf\n");
    for (i, d) in field.iter().enumerate() {
        let (x, y) = (center_x(i % size, size), center_y(i / size, size));
        writeln!(csv, "{x},{y},{}", d * unit).expect("writing to a String");
    }
    Ok(csv)
}

fn gen_sdf(args: &GenSdfArgs) -> Result<()> {
    report::write_atomic(&args.out, sdf_csv(args)?.as_bytes())
}

/// The clean picture and its noisy copy that the flags describe.
pub fn noisy_picture(args: &NoisyPictureArgs) -> (Image, Image) {
    let clean = clean_picture(args.size);
    let noisy = add_noise(&clean, args.noise, args.seed);
    (clean, noisy)
}

/// The most values `gen dae` writes (about 1.2 GB of text, built in memory): stride-1 patches
/// of a large picture grow like size² · patch².
const MAX_DAE_VALUES: usize = 1 << 26;

/// The CSV of `anmin gen dae`: columns noisy_0 … noisy_{p²−1} then clean_0 … clean_{p²−1}
/// (patch pixels row-major), one row per patch position, row-major.
pub fn dae_csv(args: &GenDaeArgs) -> Result<String> {
    let (size, patch) = (args.picture.size, args.patch);
    if patch > size {
        return Err(Error::usage(format!(
            "--patch {patch} is larger than the picture (--size {size})"
        )));
    }
    let corners = patch_corners(size, patch, args.stride);
    let values = corners.len() * 2 * patch * patch;
    if values > MAX_DAE_VALUES {
        return Err(Error::usage(format!(
            "--size {size} --patch {patch} --stride {} would write {} rows of {} values, more \
             than {MAX_DAE_VALUES} values in all; use a larger --stride or a smaller --size or \
             --patch",
            args.stride,
            corners.len(),
            2 * patch * patch
        )));
    }
    let (clean, noisy) = noisy_picture(&args.picture);
    let mut header = column_names(NOISY_PREFIX, patch);
    header.extend(column_names(CLEAN_PREFIX, patch));
    let mut csv = header.join(",");
    csv.push('\n');
    for corner in corners {
        let row = patch_values(&noisy, corner, patch)
            .into_iter()
            .chain(patch_values(&clean, corner, patch));
        for (j, value) in row.enumerate() {
            let separator = if j == 0 { "" } else { "," };
            write!(csv, "{separator}{value}").expect("writing to a String");
        }
        csv.push('\n');
    }
    Ok(csv)
}

fn gen_dae(args: &GenDaeArgs) -> Result<()> {
    report::write_atomic(&args.out, dae_csv(args)?.as_bytes())
}
