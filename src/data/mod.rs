//! The data pipeline: CSV text → [`Table`] → [`Dataset`] (encoded numbers) → split and
//! standardized [`Samples`] for training.

pub mod arrays;
pub mod cell;
pub mod encode;
pub mod input;
pub mod scale;
mod scan;
pub mod split;
pub mod table;

use nalgebra::DMatrix;

pub use arrays::{Layout, MatrixRef};
pub use cell::{Cell, is_missing};
pub use encode::{
    ColumnChoice, Dataset, EncodeNote, Encoding, FeatureKind, InputColumn, MISSING_CATEGORY,
    NoteKind, Task, class_index, label_of,
};
pub use input::Source;
pub use scale::{DeriveNotes, PreprocessSettings, Scaling, Standardized, Standardizer};
pub use split::{Split, random_split};
pub use table::Table;

use crate::error::DataError;
use crate::rng::Stream;

/// The dataset compiled into the binary, used when no `--data` is given.
pub const DEFAULT_DATASET: Source = Source::Embedded {
    name: "winequality-red.csv",
    text: include_str!("../../data/winequality-red.csv"),
};

/// Training or evaluation samples as the model sees them.
#[derive(Debug, Clone)]
pub struct Samples {
    /// n × (d+1): standardized features and a last column of ones (the hidden bias input).
    pub x: DMatrix<f64>,
    /// n × k targets in their own units; for classification, the one-hot codes of the
    /// classes.
    pub y: DMatrix<f64>,
    /// Whether `y` holds classes (one-hot): the runs then report accuracy and log loss.
    pub classify: bool,
}

impl Samples {
    /// Standardizes the encoded rows `x` and appends the constant column.
    pub fn new(
        x: &DMatrix<f64>,
        y: DMatrix<f64>,
        scaler: &Standardizer,
        encoding: &Encoding,
        source: &str,
    ) -> Result<Samples, DataError> {
        Samples::counting_clipped(x, y, scaler, encoding, source).map(|(samples, _)| samples)
    }

    /// As [`Samples::new`], and the number of rows with a value clipped to the training range.
    pub fn counting_clipped(
        x: &DMatrix<f64>,
        y: DMatrix<f64>,
        scaler: &Standardizer,
        encoding: &Encoding,
        source: &str,
    ) -> Result<(Samples, usize), DataError> {
        Samples::noting(x, y, scaler, encoding, source)
            .map(|(samples, noted)| (samples, noted.clipped_rows))
    }

    /// As [`Samples::new`], with what preprocessing met: rows clipped to the training range,
    /// values imputed where training had none, integer values without a level.
    pub fn noting(
        x: &DMatrix<f64>,
        y: DMatrix<f64>,
        scaler: &Standardizer,
        encoding: &Encoding,
        source: &str,
    ) -> Result<(Samples, Noted), DataError> {
        let standardized = scaler
            .transform(x)
            .map_err(|j| DataError::Unrepresentable {
                path: source.into(),
                name: scaler.feature_names(encoding)[j].clone(),
            })?;
        let (n, d) = standardized.z.shape();
        // Appending the last column of a column-major matrix grows it in place.
        let x = standardized.z.resize_horizontally(d + 1, 1.0);
        debug_assert_eq!(x.shape(), (n, d + 1));
        let noted = Noted {
            clipped_rows: standardized.clipped_rows,
            derive: standardized.notes,
        };
        let classify = encoding.classes.is_some();
        Ok((Samples { x, y, classify }, noted))
    }

    pub fn n(&self) -> usize {
        self.x.nrows()
    }

    /// Inputs per sample including the constant: d + 1.
    pub fn d_aug(&self) -> usize {
        self.x.ncols()
    }

    pub fn k(&self) -> usize {
        self.y.ncols()
    }

    /// The samples at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Samples {
        Samples {
            x: self.x.select_rows(rows),
            y: self.y.select_rows(rows),
            classify: self.classify,
        }
    }
}

/// What preprocessing new rows met (see [`Samples::noting`]).
#[derive(Debug, Clone, Default)]
pub struct Noted {
    pub clipped_rows: usize,
    pub derive: DeriveNotes,
}

/// A dataset split and standardized with training statistics only.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The rows the optimizer fits.
    pub train: Samples,
    /// Held out of the training rows for early stopping; None when `val_frac` is 0.
    pub val: Option<Samples>,
    /// None when `test_frac` is 0.
    pub test: Option<Samples>,
    pub scaler: Standardizer,
    pub split: Split,
}

/// Splits `data` with `seed` and standardizes features with the training rows' statistics.
pub fn prepare(data: &Dataset, test_frac: f64, seed: u64) -> Result<Prepared, DataError> {
    prepare_with_validation(
        data,
        test_frac,
        0.0,
        seed,
        None,
        PreprocessSettings::default(),
    )
}

/// As [`prepare`], and holds out round(`val_frac` × training rows) (at least one when
/// `val_frac` > 0) as a validation set, drawn with the seed's own stream so the test split
/// is the same with or without validation. Standardization uses the remaining training rows
/// only, as `preprocess` says; validation and test rows are clipped with `clip_margin` (see
/// [`Standardizer`]).
pub fn prepare_with_validation(
    data: &Dataset,
    test_frac: f64,
    val_frac: f64,
    seed: u64,
    clip_margin: Option<f64>,
    preprocess: PreprocessSettings,
) -> Result<Prepared, DataError> {
    let too_few = |message| DataError::TooFewRows {
        path: data.source.clone(),
        message,
    };
    let mut split = random_split(data.n_rows(), test_frac, seed)
        .map_err(|m| too_few(format!("{m} (--test-frac); use more rows or --test-frac 0")))?;
    if val_frac > 0.0 {
        let inner =
            split::random_split_stream(split.train.len(), val_frac, seed, Stream::Validation)
                .map_err(|m| too_few(format!("{m} of the training rows (--val-frac)")))?;
        split.val = inner.test.iter().map(|&i| split.train[i]).collect();
        split.train = inner.train.iter().map(|&i| split.train[i]).collect();
    }
    prepare_split(data, split, clip_margin, preprocess)
}

/// The samples of `split`, standardized with its training rows' statistics.
fn prepare_split(
    data: &Dataset,
    split: Split,
    clip_margin: Option<f64>,
    preprocess: PreprocessSettings,
) -> Result<Prepared, DataError> {
    let x_train = data.x.select_rows(&split.train);
    let kinds = data.encoding.feature_kinds();
    let scaler = Standardizer::fit_with(&x_train, &kinds, preprocess).with_clip(clip_margin);
    let samples = |x: &DMatrix<f64>, rows: &[usize]| {
        Samples::new(
            x,
            data.y.select_rows(rows),
            &scaler,
            &data.encoding,
            &data.source,
        )
    };
    // The training rows' features are selected once (a large table's copies add up).
    let train = samples(&x_train, &split.train)?;
    drop(x_train);
    let make = |rows: &[usize]| -> Result<Option<Samples>, DataError> {
        if rows.is_empty() {
            return Ok(None);
        }
        samples(&data.x.select_rows(rows), rows).map(Some)
    };
    let val = make(&split.val)?;
    let test = make(&split.test)?;
    Ok(Prepared {
        train,
        val,
        test,
        scaler,
        split,
    })
}
