//! The data pipeline: CSV text → [`Table`] → [`Dataset`] (encoded numbers) → split and
//! standardized [`Samples`] for training.

pub mod encode;
pub mod scale;
pub mod split;
pub mod table;

use nalgebra::DMatrix;

pub use encode::{ColumnChoice, Dataset, Encoding, InputColumn};
pub use scale::Standardizer;
pub use split::{Split, random_split};
pub use table::{Source, Table};

use crate::error::DataError;

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
    /// n × k targets in their own units.
    pub y: DMatrix<f64>,
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
        let z = scaler
            .transform(x)
            .map_err(|j| DataError::Unrepresentable {
                path: source.into(),
                name: encoding.feature_names()[j].clone(),
            })?;
        let (n, d) = z.shape();
        let x = z.insert_column(d, 1.0);
        debug_assert_eq!(x.shape(), (n, d + 1));
        Ok(Samples { x, y })
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
        }
    }
}

/// A dataset split and standardized with training statistics only.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub train: Samples,
    /// None when `test_frac` is 0.
    pub test: Option<Samples>,
    pub scaler: Standardizer,
    pub split: Split,
}

/// Splits `data` with `seed` and standardizes features with the training rows' statistics.
pub fn prepare(data: &Dataset, test_frac: f64, seed: u64) -> Result<Prepared, DataError> {
    let split =
        random_split(data.n_rows(), test_frac, seed).map_err(|message| DataError::TooFewRows {
            path: data.source.clone(),
            message,
        })?;
    let x_train = data.x.select_rows(&split.train);
    let scaler = Standardizer::fit(&x_train);
    let make = |x: &DMatrix<f64>, rows: &[usize]| {
        Samples::new(
            x,
            data.y.select_rows(rows),
            &scaler,
            &data.encoding,
            &data.source,
        )
    };
    let train = make(&x_train, &split.train)?;
    let test = if split.test.is_empty() {
        None
    } else {
        Some(make(&data.x.select_rows(&split.test), &split.test)?)
    };
    Ok(Prepared {
        train,
        test,
        scaler,
        split,
    })
}
