//! `anmin gen`: the CSV data of the image experiments, and teacher-network data for scale
//! measurements.

use std::fmt::Write;

use rand_distr::{Distribution, StandardNormal};

use crate::cli::{GenArgs, GenCommand, GenDaeArgs, GenSdfArgs, GenTeacherArgs, NoisyPictureArgs};
use crate::error::{Error, Result};
use crate::images::patches::{
    CLEAN_PREFIX, NOISY_PREFIX, column_names, patch_corners, patch_values,
};
use crate::images::synthetic::noisy_picture;
use crate::images::{Image, center_x, center_y, edt};
use crate::outputs;
use crate::rng::{Stream, seeded};

/// `anmin gen sdf|dae`.
pub fn run(args: &GenArgs) -> Result<()> {
    match &args.data {
        GenCommand::Sdf(args) => gen_sdf(args),
        GenCommand::Dae(args) => gen_dae(args),
        GenCommand::Teacher(args) => gen_teacher(args),
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
    outputs::write_atomic(&args.out, sdf_csv(args)?.as_bytes())
}

/// The clean picture and its noisy copy that the flags describe.
pub fn picture_of(args: &NoisyPictureArgs) -> (Image, Image) {
    noisy_picture(args.size, args.noise, args.seed)
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
    let (clean, noisy) = picture_of(&args.picture);
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
    outputs::write_atomic(&args.out, dae_csv(args)?.as_bytes())
}

/// The most values `gen teacher` writes (the CSV is built in memory: about 10 bytes a value).
const MAX_TEACHER_VALUES: usize = 1 << 26;

/// The CSV of `anmin gen teacher`: columns x0 … x{d−1}, y; one row per sample. Inputs are
/// N(0, 1); the teacher is f(x) = B relu(A [x; 1]) with A ~ N(0, 1/(d+1)) (as `anmin`
/// initializes) and B ~ N(0, 1/H), so f has about unit scale; y = f(x) + noise·N(0, 1).
/// Values are written with six decimals, and the file is what defines the data.
pub fn teacher_csv(args: &GenTeacherArgs) -> Result<String> {
    let (n, d, h) = (args.rows, args.features, args.hidden);
    crate::limits::check_teacher(n, d, h, args.max_memory)?;
    let values = n.saturating_mul(d + 1);
    if values > MAX_TEACHER_VALUES {
        return Err(Error::usage(format!(
            "--rows {n} --features {d} would write {values} values, more than \
             {MAX_TEACHER_VALUES}; generate fewer rows or features"
        )));
    }
    let mut rng = seeded(args.seed, Stream::Teacher);
    let mut normal = move || -> f64 { StandardNormal.sample(&mut rng) };
    let a_sd = (1.0 / (d + 1) as f64).sqrt();
    let a: Vec<f64> = (0..h * (d + 1)).map(|_| a_sd * normal()).collect();
    let b: Vec<f64> = (0..h).map(|_| normal() / (h as f64).sqrt()).collect();
    let mut csv = String::with_capacity(values * 10);
    let header: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
    csv.push_str(&header.join(","));
    csv.push_str(",y\n");
    let mut x = vec![0.0; d];
    for _ in 0..n {
        for v in x.iter_mut() {
            *v = normal();
            write!(csv, "{v:.6},").expect("writing to a String");
        }
        // Rounded as written, so that the target is the teacher's value at the file's inputs.
        for v in x.iter_mut() {
            *v = format!("{v:.6}")
                .parse()
                .expect("a formatted number parses");
        }
        let f: f64 = (0..h)
            .map(|j| {
                let row = &a[j * (d + 1)..(j + 1) * (d + 1)];
                let z = row[d] + row[..d].iter().zip(&x).map(|(w, v)| w * v).sum::<f64>();
                b[j] * z.max(0.0)
            })
            .sum();
        writeln!(csv, "{:.6}", f + args.noise * normal()).expect("writing to a String");
    }
    Ok(csv)
}

fn gen_teacher(args: &GenTeacherArgs) -> Result<()> {
    let csv = teacher_csv(args)?;
    let gzip = args.out.extension().is_some_and(|e| e == "gz");
    if !gzip {
        return outputs::write_atomic(&args.out, csv.as_bytes());
    }
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write as _;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    let compressed = encoder
        .write_all(csv.as_bytes())
        .and_then(|_| encoder.finish())
        .expect("compressing in memory");
    outputs::write_atomic(&args.out, &compressed)
}
