//! Every subcommand and flag of `anmin`, as clap derive definitions.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};

use crate::choice::Choice;
use crate::data::{PreprocessSettings, Scaling};
use crate::images::shapes::Shape;
use crate::model::Init;
use crate::optim::OptimizerKind;
use crate::optim::anmin::a_sample::SampleMode;
use crate::optim::anmin::line_search::StepRule;
use crate::optim::anmin::{ASolver, Variant};
use crate::optim::baselines::lm::Damping;
pub use crate::train::{Clip, DEFAULT_CLIP, Ridge};

/// The parser of a [`Choice`]: its names as clap's possible values, each with its help.
fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    let values = T::ALL
        .iter()
        .map(|c| PossibleValue::new(c.name()).help(c.help()));
    PossibleValuesParser::new(values).map(|name| T::from_name(&name).expect("a possible value"))
}

#[derive(Debug, Parser)]
#[command(
    name = "anmin",
    version,
    about = "Train two-layer ReLU regression networks with ANMIN, the alternating analytic solver",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a network on a CSV file; print a summary, write the training curve as JSON
    Train(Box<TrainArgs>),
    /// Predict with a saved model on new rows of CSV
    Predict(PredictArgs),
    /// Run several optimizers on many random splits, in parallel; aggregate and plot
    Compare(Box<CompareArgs>),
    /// Aggregate run files (`train --out`) over splits: table, JSON and figure
    Summarize(SummarizeArgs),
    /// Generate the data of the image experiments as CSV: a shape's signed distance field,
    /// or noisy and clean patches of a picture
    Gen(GenArgs),
    /// Draw a shape decoder's field (x, y → signed distance) on the pixel grid as a PNG
    Render(RenderArgs),
    /// Denoise the synthetic picture with a patch autoencoder; print PSNRs, write a PNG
    Denoise(DenoiseArgs),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command to a folder
    Man(ManArgs),
}

/// Which table to read and which of its columns to use.
#[derive(Debug, Clone, Args, Serialize)]
pub struct DataArgs {
    /// CSV file with a header row [default: the embedded red wine quality data]
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Target column(s), comma-separated; several give a multi-output network [default: the
    /// last column]
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub target: Vec<String>,
    /// Every column whose name starts with PREFIX is a target, in file order (e.g. clean_ for
    /// `anmin gen dae` data)
    #[arg(long, value_name = "PREFIX", conflicts_with = "target", value_parser = parse_prefix)]
    pub target_prefix: Option<String>,
    /// Input columns to use, comma-separated [default: all but the targets]
    #[arg(
        long,
        value_name = "NAMES",
        value_delimiter = ',',
        conflicts_with = "drop"
    )]
    pub features: Vec<String>,
    /// Columns to leave out of the inputs, comma-separated
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub drop: Vec<String>,
    /// Field delimiter: a single character, or "tab" [default: detected among , ; and tab]
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    #[serde(serialize_with = "serialize_delimiter")]
    pub delimiter: Option<u8>,
    /// Drop rows with a missing value (empty, NA, NaN, ?, null, inf) in a used column instead
    /// of imputing it (numeric inputs: the training median and a missing indicator;
    /// categorical inputs: a category of its own; rows with a missing target are always
    /// dropped)
    #[arg(long)]
    pub drop_missing: bool,
    /// Input columns read as numeric whatever they hold, comma-separated: a text cell in one
    /// is an error [default: a column is numeric when all but a few (at most max(3, 1 %)) of
    /// its cells are numbers; those few are read as missing, with a warning]
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub numeric: Vec<String>,
    /// Categorical columns with more than N categories get one feature, the category's share
    /// of the training rows (frequency encoding), instead of one-hot; 0 always one-hot
    #[arg(long, value_name = "N", default_value_t = 0)]
    #[serde(skip_serializing_if = "is_zero")]
    pub max_one_hot: usize,
    /// Feature scaling, fitted on the training rows
    #[arg(long, default_value = "standard", value_parser = choice::<Scaling>())]
    #[serde(skip_serializing_if = "is_standard")]
    pub scaling: Scaling,
    /// Also one-hot encode integer-valued numeric columns with 3 to N distinct training
    /// values (ID-like columns), keeping the number as a feature too; 0 turns it off
    #[arg(long, value_name = "N", default_value_t = 0)]
    #[serde(skip_serializing_if = "is_zero")]
    pub one_hot_integers: usize,
    /// Also one-hot encode numeric columns with 3 to N distinct training values, whole
    /// numbers or not (codes of a centred table), keeping the number too; 0 turns it off
    #[arg(long, value_name = "N", default_value_t = 0)]
    #[serde(skip_serializing_if = "is_zero")]
    pub one_hot_few: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_standard(s: &Scaling) -> bool {
    *s == Scaling::Standard
}

impl DataArgs {
    /// The preprocessing settings the flags give.
    pub fn preprocess(&self) -> PreprocessSettings {
        PreprocessSettings {
            scaling: self.scaling,
            one_hot_integers: self.one_hot_integers,
            one_hot_few: self.one_hot_few,
        }
    }
}

/// The random train/test split.
#[derive(Debug, Clone, Args, Serialize)]
pub struct SplitArgs {
    /// Fraction of rows held out as the test set; 0 trains on every row
    #[arg(long, default_value_t = 0.2, value_parser = parse_unit_interval)]
    pub test_frac: f64,
    /// Seed of the split and the initial network
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fraction of the training rows held out for early stopping: the run keeps the iterate
    /// with the lowest validation MSE; 0 disables it [default: 0; 0.2 with --ridge auto]
    #[arg(long, value_parser = parse_unit_interval)]
    pub val_frac: Option<f64>,
    /// Clip the inputs of validation and test rows (and of `predict`) to the training range
    /// widened by MARGIN times its width on each side, or `none`
    #[arg(long, value_name = "MARGIN|none", default_value_t = DEFAULT_CLIP, value_parser = parse_clip)]
    pub clip: Clip,
}

fn parse_ridge(s: &str) -> Result<Ridge, String> {
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(Ridge::Auto);
    }
    parse_nonnegative(s)
        .map(Ridge::Fixed)
        .map_err(|e| format!("{e} (or \"auto\")"))
}

fn parse_clip(s: &str) -> Result<Clip, String> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(Clip::None);
    }
    parse_nonnegative(s)
        .map(Clip::Margin)
        .map_err(|e| format!("{e} (or \"none\")"))
}

/// The network's shape.
#[derive(Debug, Clone, Args, Serialize)]
pub struct NetArgs {
    /// Hidden units h
    #[arg(long, default_value_t = 64, value_parser = parse_positive_usize)]
    pub hidden: usize,
    /// Leaky-ReLU slope for negative inputs, in [0, 1); 0 is ReLU
    #[arg(long, default_value_t = 0.0, value_parser = parse_unit_interval)]
    pub alpha: f64,
    /// Where the hidden units' kinks start [default: random]
    #[arg(long, value_parser = choice::<Init>())]
    pub init: Option<Init>,
}

/// Optimizer settings. Unset options take each optimizer's defaults; an option that applies
/// to none of the chosen optimizers is an error.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
pub struct OptimArgs {
    /// Iterations: ANMIN iterations [default: 30], LBFGS outer iterations [default: 100], or
    /// LM iterations [default: 100]
    #[arg(long, value_parser = parse_positive_usize)]
    pub iters: Option<usize>,
    /// Epochs of SGD or Adam [default: 300]
    #[arg(long, value_parser = parse_positive_usize)]
    pub epochs: Option<usize>,
    /// ANMIN variant [default: safeguarded]
    #[arg(long, value_parser = choice::<Variant>())]
    pub variant: Option<Variant>,
    /// Safeguarded ANMIN's step length: `halving` takes the first of 1, ½, ¼, … that lowers
    /// the loss; `search` starts from the last accepted length, doubles it while the loss keeps
    /// falling (also past the A-step, up to 8×), halves it while it keeps falling, and refines
    /// it by a parabola: deeper in the first iterations, shallower later [default: halving]
    #[arg(long, value_parser = choice::<StepRule>())]
    pub step: Option<StepRule>,
    /// Safeguarded ANMIN: at most this many chord steps after each A-step (the new point's
    /// Gauss–Newton direction with the A-step's factored matrix: a pass over the data and two
    /// triangular solves each, no assembly), while each gains at least a tenth of the A-step's
    /// decrease [default: 0]
    #[arg(long, value_name = "N")]
    pub refine: Option<u32>,
    /// ANMIN: converged when an iteration lowers the objective by less than this fraction
    /// [default: 1e-8]
    #[arg(long, value_parser = parse_nonnegative)]
    pub tol: Option<f64>,
    /// ANMIN's A-step solver [default: auto: dual when n·k < h(d+1) and cheaper, sampled when
    /// n > 4 samples' worth of rows and the assembly dominates, Cholesky while the
    /// h(d+1)-square matrix fits in 1 GiB, conjugate gradients above]
    #[arg(long, value_parser = choice::<ASolver>())]
    pub a_solver: Option<ASolver>,
    /// ANMIN with a sampled A-step: assemble the system from this many times h(d+1) rows
    /// [default: 8]
    #[arg(long, value_parser = parse_positive_usize)]
    pub a_sample_factor: Option<usize>,
    /// ANMIN with a sampled A-step: one fixed sample of rows, or a fresh one every iteration
    /// [default: fixed]
    #[arg(long, value_parser = choice::<SampleMode>())]
    pub a_sample: Option<SampleMode>,
    /// ANMIN with conjugate gradients: stop when the residual has shrunk by this factor
    /// [default: 1e-3]
    #[arg(long, value_parser = parse_positive)]
    pub cg_tol: Option<f64>,
    /// L2 penalty λ on A and B, for every optimizer, relative to the target variance σ²:
    /// minimizes MSE + λ(σ²‖A‖² + ‖B‖²). `auto` chooses λ and the iteration count on
    /// validation rows held out of the training rows (--val-frac, 0.2 by default), then refits
    /// on all training rows [default: 0]
    #[arg(long, value_name = "λ|auto", value_parser = parse_ridge)]
    pub ridge: Option<Ridge>,
    /// Learning rate of SGD or Adam [default: 1e-3], or LBFGS's initial step [default: 1]
    #[arg(long, value_parser = parse_positive)]
    pub lr: Option<f64>,
    /// SGD momentum [default: 0.9]
    #[arg(long, value_parser = parse_unit_interval)]
    pub momentum: Option<f64>,
    /// Mini-batch size of SGD or Adam [default: 32]
    #[arg(long, value_parser = parse_positive_usize)]
    pub batch_size: Option<usize>,
    /// LBFGS curvature pairs kept [default: 10]
    #[arg(long, value_parser = parse_positive_usize)]
    pub history: Option<usize>,
    /// Levenberg–Marquardt's initial damping μ [default: 0.001]
    #[arg(long, value_parser = parse_positive)]
    pub mu: Option<f64>,
    /// Levenberg–Marquardt: μ is multiplied by this after an accepted step [default: 0.1]
    #[arg(long, value_parser = parse_unit_interval)]
    pub mu_dec: Option<f64>,
    /// Levenberg–Marquardt: μ is multiplied by this after a rejected step [default: 10]
    #[arg(long, value_parser = parse_positive)]
    pub mu_inc: Option<f64>,
    /// Levenberg–Marquardt stops (converged) when μ exceeds this [default: 1e10]
    #[arg(long, value_parser = parse_positive)]
    pub mu_max: Option<f64>,
    /// Levenberg–Marquardt's damping matrix [default: identity]
    #[arg(long, value_parser = choice::<Damping>())]
    pub damping: Option<Damping>,
    /// Stop after this many seconds of training
    #[arg(long, value_name = "SECONDS", value_parser = parse_positive)]
    pub max_seconds: Option<f64>,
    /// Train K networks, each on all training rows but one fold of K, stopping early (and,
    /// with --ridge auto, choosing its penalty) on its own fold; predict their mean
    /// [default: 1; 5 with --auto]
    #[arg(long, value_name = "K", value_parser = parse_positive_usize)]
    pub bag: Option<usize>,
    /// The recommended setting for prediction: --ridge auto, --bag 5 and, for ANMIN,
    /// --iters 10 (each one given explicitly wins)
    #[arg(long)]
    pub auto: bool,
}

#[derive(Debug, Clone, Args, Serialize)]
pub struct TrainArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    #[serde(flatten)]
    pub split: SplitArgs,
    #[command(flatten)]
    #[serde(flatten)]
    pub net: NetArgs,
    /// Optimizer
    #[arg(long, default_value = "anmin", value_parser = choice::<OptimizerKind>())]
    pub optimizer: OptimizerKind,
    #[command(flatten)]
    #[serde(flatten)]
    pub optim: OptimArgs,
    /// Threads for the linear algebra of one run; 0 uses every core
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Write the run (config, dataset, split, history) as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Save the trained network with its preprocessing to this JSON file
    #[arg(long, value_name = "FILE")]
    pub save_model: Option<PathBuf>,
    /// Save the initial network (iteration 0, common to every optimizer) with its
    /// preprocessing, for cross-checks with other tools
    #[arg(long, value_name = "FILE")]
    pub save_initial_model: Option<PathBuf>,
    /// Record the indices of the training and test rows in the run JSON
    #[arg(long)]
    pub record_split: bool,
    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args, Serialize)]
pub struct CompareArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub data: DataArgs,
    /// Fraction of rows held out as the test set on every split
    #[arg(long, default_value_t = 0.2, value_parser = parse_unit_interval)]
    pub test_frac: f64,
    /// Fraction of the training rows held out for early stopping (as `anmin train`)
    /// [default: 0; 0.2 with --ridge auto]
    #[arg(long, value_parser = parse_unit_interval)]
    pub val_frac: Option<f64>,
    /// Clip held-out inputs to the training range widened by MARGIN (as `anmin train`)
    #[arg(long, value_name = "MARGIN|none", default_value_t = DEFAULT_CLIP, value_parser = parse_clip)]
    pub clip: Clip,
    /// Number of random splits; split i uses seed i (as `anmin train --seed i`)
    #[arg(long, default_value_t = 100, value_parser = parse_positive_usize)]
    pub splits: usize,
    #[command(flatten)]
    #[serde(flatten)]
    pub net: NetArgs,
    /// Optimizers to compare, comma-separated
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "anmin,adam,sgd,lbfgs",
        value_parser = choice::<OptimizerKind>()
    )]
    pub optimizers: Vec<OptimizerKind>,
    #[command(flatten)]
    #[serde(flatten)]
    pub optim: OptimArgs,
    /// Runs in parallel; 0 uses every core
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Write the comparison (runs, aggregates, curves) as JSON; every finished run is also
    /// appended at once to <FILE>.runs.jsonl
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Draw MSE and R² against time for every optimizer to this SVG file
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Continue an interrupted comparison: keep the runs in <--out>.runs.jsonl and run only
    /// the missing (optimizer, seed) pairs
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// Run only shard I of N of the splits (seeds s with s mod N = I − 1), e.g. one task of a
    /// job array; `anmin summarize` merges the shards' runs files
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    #[serde(serialize_with = "serialize_shard")]
    pub shard: Option<Shard>,
    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// Model saved by `anmin train --save-model`
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// CSV file with (at least) the model's input columns
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Field delimiter: a single character, or "tab" [default: detected]
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Write predictions to this CSV file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Clip inputs to the training range widened by MARGIN, or `none` [default: as the
    /// model was trained]
    #[arg(long, value_name = "MARGIN|none", value_parser = parse_clip)]
    pub clip: Option<Clip>,
}

/// `anmin summarize`: many runs of one dataset and network size, aggregated.
#[derive(Debug, Clone, Args, Serialize)]
pub struct SummarizeArgs {
    /// Run files written by `anmin train --out` (one per optimizer and split seed), or runs
    /// files of `anmin compare` (<out>.runs.jsonl, one run per line), e.g. of its shards
    #[arg(value_name = "RUN.json", required = true)]
    pub runs: Vec<PathBuf>,
    /// Write the aggregate (per-run summaries, statistics, curves) as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Draw the mean curves with ±1 std bands against time as SVG to this file
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Points of the log-spaced time grid the curves are averaged on
    #[arg(long, default_value_t = crate::aggregate::DEFAULT_GRID_POINTS, value_parser = parse_positive_usize)]
    pub grid_points: usize,
}

/// `anmin gen`: data for the image experiments.
#[derive(Debug, Clone, Args)]
pub struct GenArgs {
    #[command(subcommand)]
    pub data: GenCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum GenCommand {
    /// A binary shape's signed distance field: rows x,y,sdf, one per pixel (negative inside)
    Sdf(GenSdfArgs),
    /// Patches of a synthetic picture with Gaussian noise: rows noisy_0..,clean_0..
    Dae(GenDaeArgs),
    /// Regression data from a random two-layer ReLU network plus Gaussian noise: rows
    /// x0..,y (for scale measurements; a .gz --out is gzip-compressed)
    Teacher(GenTeacherArgs),
}

#[derive(Debug, Clone, Args)]
pub struct GenTeacherArgs {
    /// Rows to write
    #[arg(long, value_parser = parse_positive_usize)]
    pub rows: usize,
    /// Input features d, drawn from N(0, 1)
    #[arg(long, default_value_t = 16, value_parser = parse_positive_usize)]
    pub features: usize,
    /// Hidden units of the teacher network
    #[arg(long, default_value_t = 16, value_parser = parse_positive_usize)]
    pub hidden: usize,
    /// Standard deviation of the Gaussian noise added to the target
    #[arg(long, default_value_t = 0.1, value_parser = parse_nonnegative)]
    pub noise: f64,
    /// Seed of the teacher, the inputs and the noise
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the CSV to this file (gzip-compressed when it ends in .gz)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct GenSdfArgs {
    /// The shape to draw
    #[arg(long, value_enum, default_value_t = Shape::Star)]
    pub shape: Shape,
    /// Grid size in pixels (size × size)
    #[arg(long, default_value_t = 128, value_parser = parse_image_size)]
    pub size: usize,
    /// Write the CSV to this file
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// The synthetic picture and its noise, shared by `gen dae` and `denoise`.
#[derive(Debug, Clone, Args)]
pub struct NoisyPictureArgs {
    /// Picture size in pixels (size × size)
    #[arg(long, default_value_t = 64, value_parser = parse_image_size)]
    pub size: usize,
    /// Standard deviation of the Gaussian pixel noise (pixel values are in [0, 1])
    #[arg(long, default_value_t = 0.1, value_parser = parse_nonnegative)]
    pub noise: f64,
    /// Seed of the noise draw (the clean picture is the same for every seed)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Clone, Args)]
pub struct GenDaeArgs {
    #[command(flatten)]
    pub picture: NoisyPictureArgs,
    /// Patch size in pixels (patch × patch): patch² inputs and patch² targets per row
    #[arg(long, default_value_t = 8, value_parser = parse_patch_size)]
    pub patch: usize,
    /// Pixels between neighbouring patches
    #[arg(long, default_value_t = 1, value_parser = parse_positive_usize)]
    pub stride: usize,
    /// Write the CSV to this file
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// Model saved by `anmin train --save-model`, with inputs x, y and one output
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Grid size in pixels (size × size)
    #[arg(long, default_value_t = 128, value_parser = parse_image_size)]
    pub size: usize,
    /// Write the PNG to this file
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// CSV of the true field (from `anmin gen sdf` with the same --size), drawn beside the
    /// prediction on the same color scale
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DenoiseArgs {
    /// Model saved by `anmin train --save-model` on `anmin gen dae` data (inputs noisy_*,
    /// targets clean_*)
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    #[command(flatten)]
    pub picture: NoisyPictureArgs,
    /// Patch size in pixels [default: the model's, √(number of inputs)]
    #[arg(long, value_parser = parse_patch_size)]
    pub patch: Option<usize>,
    /// Write clean | noisy | denoised side by side as a PNG to this file
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write anmin.1 and a page per subcommand (anmin-train.1, …) to this folder instead of
    /// printing anmin.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Image sizes: large enough for a shape to have an inside and an outside, small enough that
/// the CSV (one row per pixel) stays a reasonable file.
fn parse_image_size(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(v) if (8..=4096).contains(&v) => Ok(v),
        _ => Err("must be a whole number from 8 to 4096".into()),
    }
}

/// Patch sizes: patch² inputs and as many outputs.
fn parse_patch_size(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(v) if (1..=64).contains(&v) => Ok(v),
        _ => Err("must be a whole number from 1 to 64".into()),
    }
}

/// Shard `index` (1-based) of `count` of a comparison's splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether split seed `seed` belongs to this shard.
    pub fn has(&self, seed: u64) -> bool {
        seed % self.count == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("\"{s}\" is not I/N with 1 <= I <= N (shard I of N)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (index, count) = (
        i.trim().parse::<u64>().map_err(|_| bad())?,
        n.trim().parse::<u64>().map_err(|_| bad())?,
    );
    if index == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

fn serialize_shard<S: serde::Serializer>(shard: &Option<Shard>, s: S) -> Result<S::Ok, S::Error> {
    match shard {
        None => s.serialize_none(),
        Some(shard) => s.serialize_str(&shard.to_string()),
    }
}

fn parse_prefix(s: &str) -> Result<String, String> {
    if s.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(s.into())
    }
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && !matches!(s, "\"" | "\n" | "\r") => {
            Ok(s.as_bytes()[0])
        }
        _ => Err("expected one ASCII character (not a quote or newline), or \"tab\"".into()),
    }
}

fn serialize_delimiter<S: serde::Serializer>(d: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        None => s.serialize_none(),
        Some(b'\t') => s.serialize_str("tab"),
        Some(c) => s.serialize_str(&(*c as char).to_string()),
    }
}

fn parse_f64(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("\"{s}\" is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{s} is not a finite number"))
    }
}

/// A value in [0, 1): test fractions, leaky slopes, momenta.
fn parse_unit_interval(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err("must be at least 0 and below 1".into())
    }
}

fn parse_nonnegative(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v >= 0.0 {
        Ok(v)
    } else {
        Err("must not be negative".into())
    }
}

fn parse_positive(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err("must be positive".into())
    }
}

fn parse_positive_usize(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err("must be a whole number of at least 1".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
