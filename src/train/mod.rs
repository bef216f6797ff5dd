//! The library's entry point: one value describes a run ([`TrainRequest`]) and one call does
//! everything `anmin train` does with it ([`Trainer::run`]): split, standardize, train (with
//! `--ridge auto`'s penalty selection and refit), and report. The command line and the
//! Python package convert their flags and parameters into a request; neither trains on its
//! own.
//!
//! ```no_run
//! use anmin::data::{Dataset, Layout, MatrixRef};
//! use anmin::optim::OptimizerKind;
//! use anmin::train::{TrainRequest, Trainer};
//!
//! let (x, y) = (vec![0.0; 200], vec![0.0; 100]);
//! let names = |p: &str, n: usize| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
//! let x = MatrixRef { values: &x, rows: 100, cols: 2, layout: Layout::RowMajor };
//! let y = MatrixRef { values: &y, rows: 100, cols: 1, layout: Layout::RowMajor };
//! let data = Dataset::from_matrix("arrays", (x, &names("x", 2)), (y, &names("y", 1)))?;
//! let request = TrainRequest::new(OptimizerKind::Anmin).resolve()?;
//! let trained = Trainer::new(&request).threads(1).run(&data)?;
//! println!("{:?}", trained.report.final_entry.train_mse);
//! # Ok::<(), anmin::Error>(())
//! ```

mod classes;
mod ensemble;
mod preset;
pub mod report;
pub mod settings;
mod valid;

pub use classes::ClassificationReport;
pub use preset::{Given, PREDICTION, Preset};
pub use valid::ValidRequest;

use std::sync::atomic::AtomicBool;

use faer::Par;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::bag;
use crate::data::{self, Dataset, Prepared, PreprocessSettings, Samples, Scaling};
use crate::error::{Error, Result};
use crate::model::{Init, KINK_POINTS, Network, SavedModel};
use crate::optim::{self, Limits, Observer, OptimizerKind, OptimizerSpec, RunOutcome, Silent};
use crate::report::RunReport;
use crate::rng::{Stream, seeded};
use crate::select::{self, PathSettings, SelectionReport};
use crate::settings::catalogue::{ALPHA, HIDDEN, SEED, TEST_FRAC};

/// The `--ridge` setting: a fixed relative penalty, or one chosen on validation rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ridge {
    Fixed(f64),
    Auto,
}

impl Ridge {
    /// The fixed penalty, or None for `auto`.
    pub fn fixed(self) -> Option<f64> {
        match self {
            Ridge::Fixed(v) => Some(v),
            Ridge::Auto => None,
        }
    }
}

impl Default for Ridge {
    fn default() -> Self {
        Ridge::Fixed(0.0)
    }
}

/// A number in the run JSON, or "auto".
impl Serialize for Ridge {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Ridge::Fixed(v) => s.serialize_f64(*v),
            Ridge::Auto => s.serialize_str("auto"),
        }
    }
}

impl<'de> Deserialize<'de> for Ridge {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match NumberOrWord::deserialize(d)? {
            NumberOrWord::Number(v) => Ok(Ridge::Fixed(v)),
            NumberOrWord::Word(w) if w == "auto" => Ok(Ridge::Auto),
            NumberOrWord::Word(w) => Err(serde::de::Error::custom(format!(
                "ridge is a number or \"auto\", not {w:?}"
            ))),
        }
    }
}

/// `--clip`: how far beyond the training range held-out inputs are clipped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clip {
    /// Clip to [min − m·(max − min), max + m·(max − min)].
    Margin(f64),
    None,
}

impl Clip {
    pub fn margin(self) -> Option<f64> {
        match self {
            Clip::Margin(m) => Some(m),
            Clip::None => None,
        }
    }
}

/// The default `--clip`: the training range itself.
pub const DEFAULT_CLIP: Clip = Clip::Margin(0.0);

impl Default for Clip {
    fn default() -> Self {
        DEFAULT_CLIP
    }
}

/// A number in the run JSON, or "none".
impl Serialize for Clip {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Clip::Margin(m) => s.serialize_f64(*m),
            Clip::None => s.serialize_str("none"),
        }
    }
}

impl<'de> Deserialize<'de> for Clip {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match NumberOrWord::deserialize(d)? {
            NumberOrWord::Number(v) => Ok(Clip::Margin(v)),
            NumberOrWord::Word(w) if w == "none" => Ok(Clip::None),
            NumberOrWord::Word(w) => Err(serde::de::Error::custom(format!(
                "clip is a number or \"none\", not {w:?}"
            ))),
        }
    }
}

impl std::fmt::Display for Clip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Clip::Margin(m) => write!(f, "{m}"),
            Clip::None => write!(f, "none"),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrWord {
    Number(f64),
    Word(String),
}

/// The validation fraction of `--ridge auto` when none is given.
pub const AUTO_VAL_FRAC: f64 = 0.2;

/// How the rows are split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitSettings {
    /// Fraction of rows held out as the test set; 0 trains on every row.
    pub test_frac: f64,
    /// Seed of the split, the initial network and the optimizer's own draws.
    pub seed: u64,
    /// Fraction of the training rows held out for early stopping; None: 0, or
    /// [`AUTO_VAL_FRAC`] under `Ridge::Auto`.
    pub val_frac: Option<f64>,
    /// Clipping of held-out inputs to the training range.
    pub clip: Clip,
}

impl Default for SplitSettings {
    fn default() -> Self {
        SplitSettings {
            test_frac: TEST_FRAC.default.real(),
            seed: SEED.default.count(),
            val_frac: None,
            clip: DEFAULT_CLIP,
        }
    }
}

/// The network's shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSettings {
    /// Hidden units h.
    pub hidden: usize,
    /// Leaky-ReLU slope for negative inputs, in [0, 1); 0 is ReLU.
    pub alpha: f64,
    /// Where the hidden units' kinks start.
    pub init: Init,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        NetworkSettings {
            hidden: HIDDEN.default.count() as usize,
            alpha: ALPHA.default.real(),
            init: Init::Random,
        }
    }
}

/// One run: everything `anmin train` needs besides the data and how to execute it.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    pub split: SplitSettings,
    pub network: NetworkSettings,
    /// The optimizer and its settings. Its own `ridge` and `seed` fields are not used: the
    /// run sets them from `ridge` and `split.seed`.
    pub optimizer: OptimizerSpec,
    /// Steps (ANMIN or LBFGS iterations, epochs); None: the optimizer's default.
    pub steps: Option<usize>,
    pub ridge: Ridge,
    /// Stop after this many seconds of training.
    pub max_seconds: Option<f64>,
    /// Record the indices of the training and test rows in the report.
    pub record_split: bool,
    /// Networks in a bagged ensemble, one per fold of the training rows (see [`crate::bag`]);
    /// 1 trains one network.
    pub bag: bag::Bag,
    /// How features are derived and scaled (fitted on the training rows).
    pub preprocess: PreprocessSettings,
}

/// A request as JSON (the Python package's and a script's form): every key optional,
/// `optimizer` a name and `settings` that optimizer's settings by name.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RequestJson {
    split: SplitSettings,
    network: NetworkSettings,
    optimizer: String,
    settings: Map<String, Value>,
    steps: Option<usize>,
    ridge: Option<Ridge>,
    max_seconds: Option<f64>,
    record_split: bool,
    bag: Option<usize>,
    /// The prediction preset ([`PREDICTION`]) for whatever of it is not given.
    auto: bool,
    preprocess: PreprocessSettings,
}

impl Default for RequestJson {
    fn default() -> Self {
        RequestJson {
            split: SplitSettings::default(),
            network: NetworkSettings::default(),
            optimizer: "anmin".into(),
            settings: Map::new(),
            steps: None,
            ridge: None,
            max_seconds: None,
            record_split: false,
            bag: None,
            auto: false,
            preprocess: PreprocessSettings::default(),
        }
    }
}

impl TrainRequest {
    /// `kind` with every setting at its default.
    pub fn new(kind: OptimizerKind) -> TrainRequest {
        TrainRequest {
            split: SplitSettings::default(),
            network: NetworkSettings::default(),
            optimizer: kind.default_spec(),
            steps: None,
            ridge: Ridge::default(),
            max_seconds: None,
            record_split: false,
            bag: bag::Bag::Members(1),
            preprocess: PreprocessSettings::default(),
        }
    }

    /// `kind` with `settings` (by name, as the settings' description declares them; its step
    /// budget included) over its defaults; a setting the optimizer does not take, or a value
    /// out of its range, is an error naming it.
    pub fn with_settings(kind: OptimizerKind, settings: &Map<String, Value>) -> Result<Self> {
        let (optimizer, steps) = settings::resolve(kind, settings).map_err(Error::usage)?;
        Ok(TrainRequest {
            optimizer,
            steps,
            ..TrainRequest::new(kind)
        })
    }

    /// A request from JSON such as `{"optimizer": "adam", "settings": {"lr": 0.01},
    /// "network": {"hidden": 32}, "ridge": "auto"}`, checked.
    pub fn from_json(text: &str) -> Result<ValidRequest> {
        let raw: RequestJson =
            serde_json::from_str(text).map_err(|e| Error::usage(format!("train request: {e}")))?;
        let kind: OptimizerKind = raw.optimizer.parse().map_err(Error::usage)?;
        let with_settings = TrainRequest::with_settings(kind, &raw.settings)?;
        TrainRequest {
            split: raw.split,
            network: raw.network,
            max_seconds: raw.max_seconds,
            record_split: raw.record_split,
            preprocess: raw.preprocess,
            steps: raw.steps.or(with_settings.steps),
            ..with_settings
        }
        .with_preset(
            raw.auto,
            Given {
                ridge: raw.ridge,
                bag: raw.bag,
                scaling: Some(raw.preprocess.scaling),
            },
        )
        .resolve()
    }

    /// The validation fraction in effect: as given, or [`AUTO_VAL_FRAC`] under `auto`, which
    /// needs validation rows.
    pub fn val_frac(&self) -> Result<f64> {
        let auto = self.ridge == Ridge::Auto;
        if self.bag.is_ensemble() {
            return match self.split.val_frac {
                Some(v) if v > 0.0 => Err(Error::usage(
                    "--bag holds out each fold of the training rows in turn: --val-frac does not apply",
                )),
                _ => Ok(0.0),
            };
        }
        match self.split.val_frac {
            Some(v) if auto && v == 0.0 => Err(Error::usage(
                "--ridge auto chooses the penalty on validation rows: --val-frac must be above 0",
            )),
            Some(v) => Ok(v),
            None if auto => Ok(AUTO_VAL_FRAC),
            None => Ok(0.0),
        }
    }

    /// The steps of the run: as given, or the optimizer's default.
    pub fn steps(&self) -> usize {
        self.steps
            .unwrap_or_else(|| self.optimizer.kind().default_steps())
    }

    /// The optimizer as it runs: the request's penalty (`auto` starts from none; the
    /// selection sets each λ of its path) and seed.
    pub fn resolved_optimizer(&self) -> OptimizerSpec {
        self.optimizer
            .with_ridge(self.ridge.fixed().unwrap_or(0.0))
            .with_seed(self.split.seed)
    }

    /// Every setting of the run, defaults filled in: the run JSON's `config`.
    pub fn config_json(&self) -> Value {
        let spec = self.resolved_optimizer();
        let mut config = Map::new();
        let to_map = |v: Value| match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        config.extend(to_map(
            serde_json::to_value(self.split).expect("serializes"),
        ));
        config.extend(to_map(
            serde_json::to_value(self.network).expect("serializes"),
        ));
        config.insert("max_seconds".into(), json!(self.max_seconds));
        config.insert("record_split".into(), json!(self.record_split));
        config.insert("bag".into(), json!(self.bag));
        config.extend(to_map(serde_json::to_value(&spec).expect("serializes")));
        config.insert("optimizer".into(), json!(spec.name()));
        config.insert("iters".into(), json!(self.steps()));
        // The spec holds the path's starting penalty; the run's setting may be `auto`.
        config.insert("ridge".into(), json!(self.ridge));
        // In effect, not as given: auto implies a validation fraction.
        config.insert("val_frac".into(), json!(self.val_frac().unwrap_or(0.0)));
        // Recorded when not the default, so that earlier runs' configs stay as they were.
        if !self.preprocess.is_default() {
            config.extend(to_map(
                serde_json::to_value(self.preprocess).expect("serializes"),
            ));
        }
        Value::Object(config)
    }

    /// The limits of the run.
    fn limits<'a>(&self, interrupt: Option<&'a AtomicBool>) -> Limits<'a> {
        Limits {
            max_iters: self.steps(),
            max_seconds: self.max_seconds,
            interrupt,
            patience: None,
        }
    }

    /// The seed's random network for this request's shape on `train` (hidden layer only;
    /// the output layer is fitted by the first B-step).
    fn random_network(&self, train: &Samples) -> Network {
        self.random_networks(train, 1).remove(0)
    }

    /// `count` random networks drawn in turn from the seed's stream: the first is
    /// [`Self::random_network`]'s.
    fn random_networks(&self, train: &Samples, count: usize) -> Vec<Network> {
        let mut rng = seeded(self.split.seed, Stream::Init);
        let mut kinks = seeded(self.split.seed, Stream::Kinks);
        (0..count)
            .map(|_| {
                let mut net = Network::random(
                    train.d_aug(),
                    self.network.hidden,
                    train.k(),
                    self.network.alpha,
                    &mut rng,
                );
                if self.network.init == Init::Data {
                    net.place_kinks(&train.x, KINK_POINTS, &mut kinks);
                }
                net
            })
            .collect()
    }

    /// The split and preprocessing of a run of one network.
    fn prepare(&self, dataset: &Dataset, val_frac: f64) -> Result<Prepared> {
        self.prepare_scaled(dataset, val_frac, self.preprocess.scaling.single())
    }

    /// The split, and the preprocessing with `scaling`.
    fn prepare_scaled(
        &self,
        dataset: &Dataset,
        val_frac: f64,
        scaling: Scaling,
    ) -> Result<Prepared> {
        let s = &self.split;
        Ok(data::prepare_with_validation(
            dataset,
            s.test_frac,
            val_frac,
            s.seed,
            s.clip.margin(),
            PreprocessSettings {
                scaling,
                ..self.preprocess
            },
        )?)
    }
}

/// Executes a [`ValidRequest`], configured once: threads, an interruption flag, an
/// observer of each history entry (argmin's executor style).
pub struct Trainer<'a> {
    request: &'a ValidRequest,
    threads: usize,
    max_memory: Option<f64>,
    interrupt: Option<&'a AtomicBool>,
    observer: Option<&'a mut dyn Observer>,
    command: &'static str,
}

/// A finished run with everything needed to report it.
pub struct Trained {
    pub report: RunReport,
    pub outcome: RunOutcome,
    pub prepared: Prepared,
}

impl<'a> Trainer<'a> {
    pub fn new(request: &'a ValidRequest) -> Trainer<'a> {
        Trainer {
            request,
            threads: 0,
            max_memory: None,
            interrupt: None,
            observer: None,
            command: "train",
        }
    }

    /// Threads for the linear algebra; 0 (the default) uses every core. Results do not
    /// depend on it.
    pub fn threads(self, threads: usize) -> Self {
        Trainer { threads, ..self }
    }

    /// Bytes of memory the run may use; None (the default): the machine's available
    /// memory. A run whose estimate exceeds it is refused before anything is allocated.
    pub fn max_memory(self, max_memory: Option<f64>) -> Self {
        Trainer { max_memory, ..self }
    }

    /// Stop after the current step (reason `interrupted`) once `flag` is set.
    pub fn interrupt(self, flag: &'a AtomicBool) -> Self {
        Trainer {
            interrupt: Some(flag),
            ..self
        }
    }

    /// Receives each history entry as it is recorded (a progress bar, a log).
    pub fn observer(self, observer: &'a mut dyn Observer) -> Self {
        Trainer {
            observer: Some(observer),
            ..self
        }
    }

    /// The report's `command` (`train` unless a front end says otherwise).
    pub fn command(self, command: &'static str) -> Self {
        Trainer { command, ..self }
    }

    /// Splits `dataset`, trains from the seed's initial network (with penalty selection and
    /// refit under `Ridge::Auto`), and builds the run report.
    pub fn run(self, dataset: &Dataset) -> Result<Trained> {
        let request: &TrainRequest = self.request;
        let mut silent = Silent;
        let observer: &mut dyn Observer = match self.observer {
            Some(o) => o,
            None => &mut silent,
        };
        let spec = request.resolved_optimizer();
        let shape =
            crate::limits::RunShape {
                rows: dataset.x.nrows(),
                features: dataset.x.ncols(),
                outputs: dataset.y.ncols(),
                hidden: request.network.hidden,
                // The members the bag rule gives for the training rows the split will leave.
                bag: request.bag.members(dataset.x.nrows().saturating_sub(
                    data::split::held_out_rows(dataset.x.nrows(), request.split.test_frac),
                )),
            };
        crate::limits::check_run(shape, &spec, self.max_memory)?;
        let par = parallelism(self.threads);
        let limits = request.limits(self.interrupt);
        let val_frac = request.val_frac()?;
        let (prepared, mut outcome, selection, bagging, held_out) = if request.bag.is_ensemble() {
            let run = select::Run {
                spec: &spec,
                limits,
                par,
            };
            let (all, outcome, report) = ensemble::run_bag(request, dataset, &run, observer)?;
            let held_out = classes::HeldOut::out_of_fold(&report, &all.train);
            (all, outcome, None, Some(report), held_out)
        } else if request.ridge == Ridge::Auto {
            let held_out = request.prepare(dataset, val_frac)?;
            let fit_val = (
                &held_out.train,
                held_out.val.as_ref().expect("auto holds out rows"),
            );
            let path = PathSettings::default_for(limits.max_iters);
            let net = request.random_network(&held_out.train);
            let run = select::Run {
                spec: &spec,
                limits,
                par,
            };
            let selection = select::select(&run, net, fit_val, &path, observer);
            let all = request.prepare(dataset, 0.0)?;
            let sets = optim::Sets {
                train: &all.train,
                val: None,
                test: all.test.as_ref(),
            };
            let net = request.random_network(&all.train);
            let outcome = select::refit(&run, net, sets, &selection, observer);
            let report = SelectionReport::new(&selection, &path, fit_val, &all.train);
            let held_out = classes::HeldOut::of(&selection.network, fit_val.1);
            (all, outcome, Some(report), None, held_out)
        } else {
            let prepared = request.prepare(dataset, val_frac)?;
            let sets = optim::Sets {
                train: &prepared.train,
                val: prepared.val.as_ref(),
                test: prepared.test.as_ref(),
            };
            let mut optimizer = spec.build(par);
            let net = request.random_network(&prepared.train);
            let outcome =
                optim::train_with_validation(optimizer.as_mut(), net, sets, limits, par, observer);
            let held_out =
                (prepared.val.as_ref()).and_then(|v| classes::HeldOut::of(&outcome.network, v));
            (prepared, outcome, None, None, held_out)
        };
        let classification = classes::calibrate(
            &mut outcome,
            &prepared,
            dataset.encoding.classes.as_ref(),
            held_out,
        );
        let mut report = report::run_report(report::Parts {
            command: self.command,
            request,
            dataset,
            prepared: &prepared,
            outcome: &outcome,
            selection,
            bagging,
            val_frac,
        });
        report.classification = classification;
        Ok(Trained {
            report,
            outcome,
            prepared,
        })
    }
}

impl Trained {
    /// The trained network (the `final` entry's) with its preprocessing: the file
    /// `anmin train --save-model` writes.
    pub fn saved_model(&self, dataset: &Dataset) -> SavedModel {
        self.model_of(dataset, &self.outcome.network, &self.outcome.final_entry)
    }

    /// The initial network (iteration 0, common to every optimizer) with its preprocessing.
    pub fn saved_initial_model(&self, dataset: &Dataset) -> SavedModel {
        self.model_of(
            dataset,
            &self.outcome.initial_network,
            &self.report.history[0],
        )
    }

    fn model_of(
        &self,
        dataset: &Dataset,
        net: &Network,
        entry: &crate::history::HistoryEntry,
    ) -> SavedModel {
        let mut training = json!({
            "optimizer": self.report.optimizer,
            "iter": entry.iter,
            "train_mse": entry.train_mse,
            "dataset": dataset.source,
            "seed": self.report.split.seed,
            "test_frac": self.report.split.test_frac,
        });
        // A bagged network is its members stacked: `bag` of them, each hidden/bag wide.
        if let Some(bagging) = &self.report.bagging {
            training["bag"] = json!(bagging.members.len());
        }
        let mut model = SavedModel::new(net, &dataset.encoding, &self.prepared.scaler, training);
        model.temperature = self.report.classification.as_ref().map(|c| c.temperature);
        model
    }
}

/// "1 sample", "3 samples" (scikit-learn's checks look for the first).
fn samples(n: usize) -> String {
    if n == 1 {
        "1 sample".into()
    } else {
        format!("{n} samples")
    }
}

/// The cores of this machine (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Parallelism for the linear algebra of one run: `threads` 0 means every core, and more
/// threads than cores are capped at their number (they would only contend).
pub fn parallelism(threads: usize) -> Par {
    let threads = if threads == 0 {
        cores()
    } else {
        threads.min(cores())
    };
    if threads <= 1 {
        Par::Seq
    } else {
        Par::rayon(threads)
    }
}
