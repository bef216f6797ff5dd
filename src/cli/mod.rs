//! Every subcommand and flag of `anmin`, as clap derive definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::data::{PreprocessSettings, Scaling, Task};
use crate::images::shapes::Shape;
use crate::model::Init;
use crate::optim::OptimizerKind;
use crate::optim::anmin::a_sample::SampleMode;
use crate::optim::anmin::line_search::StepRule;
use crate::optim::anmin::{ASolver, Variant};
use crate::optim::baselines::lm::Damping;
use crate::settings::catalogue::{
    ALPHA, AUTO, CLIP, GEN_FEATURES, GEN_HIDDEN, GEN_ROWS, HIDDEN, JOBS, MAX_MEMORY, MAX_SECONDS,
    SEED, SPLITS, TASK, TEST_FRAC, THREADS, VAL_FRAC,
};
use crate::settings::flag_help;
pub use crate::train::{Clip, DEFAULT_CLIP, Ridge};

mod parsers;

pub use parsers::Shard;
use parsers::{choice, declared, setting};
use parsers::{
    parse_delimiter, parse_image_size, parse_nonnegative, parse_patch_size, parse_positive_usize,
    parse_prefix, parse_shard, serialize_delimiter, serialize_shard,
};

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
    #[arg(long, help = flag_help("max_one_hot"), value_name = "N", default_value_t = 0,
          value_parser = setting::<usize>("max_one_hot"))]
    #[serde(skip_serializing_if = "is_zero")]
    pub max_one_hot: usize,
    #[arg(long, help = flag_help("task"), default_value = TASK.default.word(),
          value_parser = choice::<Task>())]
    #[serde(skip_serializing_if = "is_auto_task")]
    pub task: Task,
    #[arg(long, help = flag_help("scaling"), value_parser = choice::<Scaling>())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    #[arg(long, help = flag_help("one_hot_integers"), value_name = "N", default_value_t = 0,
          value_parser = setting::<usize>("one_hot_integers"))]
    #[serde(skip_serializing_if = "is_zero")]
    pub one_hot_integers: usize,
    #[arg(long, help = flag_help("one_hot_few"), value_name = "N", default_value_t = 0,
          value_parser = setting::<usize>("one_hot_few"))]
    #[serde(skip_serializing_if = "is_zero")]
    pub one_hot_few: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_auto_task(t: &Task) -> bool {
    *t == Task::Auto
}

impl DataArgs {
    /// The preprocessing settings the flags give (the scaling given or standard; `--auto`
    /// fills in its own where none is given, see [`crate::train::Given`]).
    pub fn preprocess(&self) -> PreprocessSettings {
        PreprocessSettings {
            scaling: self.scaling.unwrap_or_default(),
            one_hot_integers: self.one_hot_integers,
            one_hot_few: self.one_hot_few,
        }
    }
}

/// The random train/test split.
#[derive(Debug, Clone, Args, Serialize)]
pub struct SplitArgs {
    #[arg(long, help = TEST_FRAC.help, default_value_t = TEST_FRAC.default.real(),
          value_parser = declared::<f64>(&TEST_FRAC))]
    pub test_frac: f64,
    #[arg(long, help = SEED.help, default_value_t = SEED.default.count(),
          value_parser = declared::<u64>(&SEED))]
    pub seed: u64,
    #[arg(long, help = flag_help("val_frac"), value_parser = declared::<f64>(&VAL_FRAC))]
    pub val_frac: Option<f64>,
    #[arg(long, help = CLIP.help, value_name = "MARGIN|none", default_value_t = DEFAULT_CLIP,
          value_parser = declared::<Clip>(&CLIP))]
    pub clip: Clip,
}

/// The network's shape.
#[derive(Debug, Clone, Args, Serialize)]
pub struct NetArgs {
    #[arg(long, help = HIDDEN.help, default_value_t = HIDDEN.default.count() as usize,
          value_parser = declared::<usize>(&HIDDEN))]
    pub hidden: usize,
    #[arg(long, help = ALPHA.help, default_value_t = ALPHA.default.real(),
          value_parser = declared::<f64>(&ALPHA))]
    pub alpha: f64,
    #[arg(long, help = flag_help("init"), value_parser = choice::<Init>())]
    pub init: Option<Init>,
}

/// Optimizer settings. Unset options take each optimizer's defaults; an option that applies
/// to none of the chosen optimizers is an error.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct OptimArgs {
    #[arg(long, help = flag_help("iters"), value_parser = setting::<usize>("iters"))]
    pub iters: Option<usize>,
    #[arg(long, help = flag_help("epochs"), value_parser = setting::<usize>("epochs"))]
    pub epochs: Option<usize>,
    #[arg(long, help = flag_help("variant"), value_parser = choice::<Variant>())]
    pub variant: Option<Variant>,
    #[arg(long, help = flag_help("step"), value_parser = choice::<StepRule>())]
    pub step: Option<StepRule>,
    #[arg(long, help = flag_help("refine"), value_parser = setting::<u32>("refine"))]
    pub refine: Option<u32>,
    #[arg(long, help = flag_help("tol"), value_parser = setting::<f64>("tol"))]
    pub tol: Option<f64>,
    #[arg(long, help = flag_help("a_solver"), value_parser = choice::<ASolver>())]
    pub a_solver: Option<ASolver>,
    #[arg(long, help = flag_help("a_sample_factor"), value_parser = setting::<usize>("a_sample_factor"))]
    pub a_sample_factor: Option<usize>,
    #[arg(long, help = flag_help("a_sample"), value_parser = choice::<SampleMode>())]
    pub a_sample: Option<SampleMode>,
    #[arg(long, help = flag_help("cg_tol"), value_parser = setting::<f64>("cg_tol"))]
    pub cg_tol: Option<f64>,
    #[arg(long, help = flag_help("ridge"), value_name = "λ|auto", value_parser = setting::<Ridge>("ridge"))]
    pub ridge: Option<Ridge>,
    #[arg(long, help = flag_help("lr"), value_parser = setting::<f64>("lr"))]
    pub lr: Option<f64>,
    #[arg(long, help = flag_help("momentum"), value_parser = setting::<f64>("momentum"))]
    pub momentum: Option<f64>,
    #[arg(long, help = flag_help("batch_size"), value_parser = setting::<usize>("batch_size"))]
    pub batch_size: Option<usize>,
    #[arg(long, help = flag_help("history"), value_parser = setting::<usize>("history"))]
    pub history: Option<usize>,
    #[arg(long, help = flag_help("mu"), value_parser = setting::<f64>("mu"))]
    pub mu: Option<f64>,
    #[arg(long, help = flag_help("mu_dec"), value_parser = setting::<f64>("mu_dec"))]
    pub mu_dec: Option<f64>,
    #[arg(long, help = flag_help("mu_inc"), value_parser = setting::<f64>("mu_inc"))]
    pub mu_inc: Option<f64>,
    #[arg(long, help = flag_help("mu_max"), value_parser = setting::<f64>("mu_max"))]
    pub mu_max: Option<f64>,
    #[arg(long, help = flag_help("damping"), value_parser = choice::<Damping>())]
    pub damping: Option<Damping>,
    #[arg(long, help = flag_help("max_seconds"), value_name = "SECONDS",
          value_parser = declared::<f64>(&MAX_SECONDS))]
    pub max_seconds: Option<f64>,
    #[arg(long, help = flag_help("bag"), value_name = "K", value_parser = setting::<usize>("bag"))]
    pub bag: Option<usize>,
    #[arg(long, help = AUTO.help)]
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
    #[arg(long, help = THREADS.help, default_value_t = THREADS.default.count() as usize,
          value_parser = declared::<usize>(&THREADS))]
    pub threads: usize,
    #[arg(long, help = flag_help("max_memory"), value_name = "BYTES",
          value_parser = declared::<f64>(&MAX_MEMORY))]
    pub max_memory: Option<f64>,
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
    #[arg(long, help = TEST_FRAC.help, default_value_t = TEST_FRAC.default.real(),
          value_parser = declared::<f64>(&TEST_FRAC))]
    pub test_frac: f64,
    #[arg(long, help = flag_help("val_frac"), value_parser = declared::<f64>(&VAL_FRAC))]
    pub val_frac: Option<f64>,
    #[arg(long, help = CLIP.help, value_name = "MARGIN|none", default_value_t = DEFAULT_CLIP,
          value_parser = declared::<Clip>(&CLIP))]
    pub clip: Clip,
    #[arg(long, help = SPLITS.help, default_value_t = SPLITS.default.count() as usize,
          value_parser = declared::<usize>(&SPLITS))]
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
    #[arg(long, help = JOBS.help, default_value_t = JOBS.default.count() as usize,
          value_parser = declared::<usize>(&JOBS))]
    pub jobs: usize,
    #[arg(long, help = flag_help("max_memory"), value_name = "BYTES",
          value_parser = declared::<f64>(&MAX_MEMORY))]
    pub max_memory: Option<f64>,
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
    #[arg(long, value_name = "MARGIN|none", value_parser = declared::<Clip>(&CLIP))]
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
    #[arg(long, help = GEN_ROWS.help, value_parser = declared::<usize>(&GEN_ROWS))]
    pub rows: usize,
    #[arg(long, help = GEN_FEATURES.help, default_value_t = GEN_FEATURES.default.count() as usize,
          value_parser = declared::<usize>(&GEN_FEATURES))]
    pub features: usize,
    #[arg(long, help = GEN_HIDDEN.help, default_value_t = GEN_HIDDEN.default.count() as usize,
          value_parser = declared::<usize>(&GEN_HIDDEN))]
    pub hidden: usize,
    #[arg(long, help = flag_help("max_memory"), value_name = "BYTES",
          value_parser = declared::<f64>(&MAX_MEMORY))]
    pub max_memory: Option<f64>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
