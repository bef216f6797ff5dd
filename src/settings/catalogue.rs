//! The declarations themselves: every setting of a run, in the order `--help` and the Python
//! docstring list them. Optimizer defaults refer to each config's `DEFAULT`, the split's and
//! the network's are written here (their `Default` reads them).

use std::sync::LazyLock;

use super::{DefaultValue as D, Domain, Interval, Owner, Python, Setting};
use crate::choice::Choice;
use crate::data::{Scaling, Task};
use crate::model::Init;
use crate::optim::OptimizerKind::{self, Adam, Anmin, AnminPlain, Lbfgs, Lm, Sgd};
use crate::optim::anmin::a_sample::SampleMode;
use crate::optim::anmin::line_search::StepRule;
use crate::optim::anmin::{ASolver, AnminConfig, Variant};
use crate::optim::baselines::adam::AdamConfig;
use crate::optim::baselines::lbfgs::LbfgsConfig;
use crate::optim::baselines::lm::{Damping, LmConfig};
use crate::optim::baselines::minibatch::BatchConfig;
use crate::optim::baselines::sgd::SgdConfig;

/// Upper bounds of sizes: far beyond any run this program can make, small enough that an
/// absurd value (2^63) is rejected up front instead of failing an allocation.
const MAX_HIDDEN: u64 = 1_000_000;
const MAX_STEPS: u64 = 1_000_000_000;
const MAX_ROWS: u64 = 1_000_000_000;
const MAX_THREADS: u64 = 1024;
const MAX_BAG: u64 = 1000;
const MAX_LEVELS: u64 = 1_000_000;

const fn count(min: u64, max: u64) -> Domain {
    Domain::Count { min, max }
}

pub const TEST_FRAC: Setting = Setting::new(
    "test_frac",
    Owner::Split,
    Domain::Real(Interval::UNIT),
    D::Real(0.2),
    "Fraction of rows held out as the test set; 0 trains on every row",
)
.python(Python::Absent("fit trains on every row of X"));

pub const SEED: Setting = Setting::new(
    "seed",
    Owner::Split,
    count(0, u64::MAX),
    D::Count(0),
    "Seed of the split and the initial network",
)
.python(Python::Own("random_state"));

pub const VAL_FRAC: Setting = Setting::new(
    "val_frac",
    Owner::Split,
    Domain::Real(Interval::UNIT),
    D::Unset("0; 0.2 with --ridge auto"),
    "Fraction of the training rows held out for early stopping: the run keeps the iterate \
     with the lowest validation MSE; 0 disables it",
)
.aliases(&["validation_fraction"]);

pub const CLIP: Setting = Setting::new(
    "clip",
    Owner::Split,
    Domain::RealOr(Interval::NON_NEGATIVE, "none"),
    D::Real(0.0),
    "Clip the inputs of validation and test rows (and of `predict`) to the training range \
     widened by MARGIN times its width on each side, or `none`",
);

pub const HIDDEN: Setting = Setting::new(
    "hidden",
    Owner::Network,
    count(1, MAX_HIDDEN),
    D::Count(64),
    "Hidden units h",
);

pub const ALPHA: Setting = Setting::new(
    "alpha",
    Owner::Network,
    Domain::Real(Interval::UNIT),
    D::Real(0.0),
    "Leaky-ReLU slope for negative inputs, in [0, 1); 0 is ReLU",
);

pub const OPTIMIZER: Setting = Setting::new(
    "optimizer",
    Owner::Run,
    Domain::Choice(OptimizerKind::NAMES),
    D::Word(Anmin.const_name()),
    "Optimizer",
);

pub const RIDGE: Setting = Setting::new(
    "ridge",
    Owner::Run,
    Domain::RealOr(Interval::NON_NEGATIVE, "auto"),
    D::Unset("0; auto with --auto"),
    "L2 penalty λ on A and B, for every optimizer, relative to the target variance σ²: \
     minimizes MSE + λ(σ²‖A‖² + ‖B‖²). `auto` chooses λ and the iteration count on validation \
     rows held out of the training rows (--val-frac, 0.2 by default), then refits on all \
     training rows",
);

pub const INIT: Setting = Setting::new(
    "init",
    Owner::Network,
    Domain::Choice(Init::NAMES),
    D::Word(Init::Random.const_name()),
    "Where the hidden units' kinks start: random, or data (each unit's kink at a random mix \
     of 5 training rows)",
);

pub const BAG: Setting = Setting::new(
    "bag",
    Owner::Run,
    count(1, MAX_BAG),
    D::Unset("1; with --auto 10 up to 2000 training rows, else 5"),
    "Train K networks, each on all training rows but one fold of K, stopping early (and, \
     with --ridge auto, choosing its penalty) on its own fold; predict their mean",
);

pub const AUTO: Setting = Setting::new(
    "auto",
    Owner::Run,
    Domain::Switch,
    D::Switch(false),
    "The recommended setting for prediction: --ridge auto, --bag 5 (10 up to 2000 training \
     rows) and, for ANMIN, --iters 10 \
     (each one given explicitly wins); off is the paper's objective, the deepest training \
     optimum",
)
.python_default(D::Switch(true));

pub const SCALING: Setting = Setting::new(
    "scaling",
    Owner::Preprocess,
    Domain::Choice(Scaling::NAMES),
    D::Word(Scaling::Standard.const_name()),
    "Feature scaling fitted on the training rows: standard (mean, standard deviation), \
     robust (median, interquartile range, then the smooth clip x/√(1+(x/3)²); 0/1 features \
     as they are), or auto (under a bag, whichever of the two its first members validate \
     better; standard for one network; --auto's choice where none is given)",
)
.python_default(D::Word(Scaling::Auto.const_name()));

pub const ONE_HOT_INTEGERS: Setting = Setting::new(
    "one_hot_integers",
    Owner::Preprocess,
    count(0, MAX_LEVELS),
    D::Count(0),
    "Also one-hot encode integer-valued numeric features with 3 to N distinct training values \
     (ID-like columns), keeping the number as a feature too; 0 turns it off",
);

pub const ONE_HOT_FEW: Setting = Setting::new(
    "one_hot_few",
    Owner::Preprocess,
    count(0, MAX_LEVELS),
    D::Count(0),
    "Also one-hot encode numeric features with 3 to N distinct training values, whole \
     numbers or not, keeping the number too; 0 turns it off",
);

pub const MAX_ONE_HOT: Setting = Setting::new(
    "max_one_hot",
    Owner::Preprocess,
    count(0, MAX_LEVELS),
    D::Count(0),
    "Categorical columns with more than N categories get one feature, the category's share \
     of the training rows (frequency encoding), instead of one-hot; 0 always one-hot",
)
.python(Python::Absent(
    "X holds numbers: categories are the command line's",
));

pub const TASK: Setting = Setting::new(
    "task",
    Owner::Preprocess,
    Domain::Choice(Task::NAMES),
    D::Word(Task::Auto.const_name()),
    "What the target column holds: regress (numbers), classify (class labels, text or \
     numbers: one output per class, trained on one-hot targets with the square loss) or auto \
     (classify when the one target column holds text and no numbers)",
)
.python(Python::Absent(
    "the estimator says it: ANMINRegressor or ANMINClassifier",
));

pub const MAX_SECONDS: Setting = Setting::new(
    "max_seconds",
    Owner::Run,
    Domain::Real(Interval::POSITIVE),
    D::Unset("no limit"),
    "Stop after this many seconds of training",
);

pub const THREADS: Setting = Setting::new(
    "threads",
    Owner::Execution,
    count(0, MAX_THREADS),
    D::Count(0),
    "Threads for the linear algebra of one run; 0 uses every core",
)
.python(Python::Own("n_threads"));

pub const MAX_MEMORY: Setting = Setting::new(
    "max_memory",
    Owner::Execution,
    Domain::Real(Interval::POSITIVE),
    D::Unset("the memory available"),
    "Bytes of memory a run may use (e.g. 8e9): a run whose estimated need exceeds it is \
     refused before it starts; by default the machine's available memory",
);

const fn steps(kind: OptimizerKind, name: &'static str, help: &'static str) -> Setting {
    Setting::new(
        name,
        Owner::Steps(kind),
        count(1, MAX_STEPS),
        D::Count(kind.default_steps() as u64),
        help,
    )
    .aliases(&["max_iter"])
}

/// The settings both ANMIN variants take.
const fn anmin(kind: OptimizerKind) -> [Setting; 8] {
    let d = AnminConfig::DEFAULT;
    let o = Owner::Optimizer(kind);
    [
        Setting::new(
            "tol",
            o,
            Domain::Real(Interval::NON_NEGATIVE),
            D::Real(d.tol),
            "ANMIN: converged when an iteration lowers the objective by less than this fraction",
        ),
        Setting::new(
            "a_solver",
            o,
            Domain::Choice(ASolver::NAMES),
            D::Word(d.a_solver.const_name()),
            "ANMIN's A-step solver (auto: dual when n·k < h(d+1) and cheaper, sampled when n > 4 \
             samples' worth of rows and the assembly dominates, Cholesky while the \
             h(d+1)-square matrix fits in 1 GiB, conjugate gradients above)",
        ),
        Setting::new(
            "a_sample_factor",
            o,
            count(1, 1000),
            D::Count(d.a_sample_factor as u64),
            "ANMIN with a sampled A-step: assemble the system from this many times h(d+1) rows",
        ),
        Setting::new(
            "a_sample",
            o,
            Domain::Choice(SampleMode::NAMES),
            D::Word(d.a_sample.const_name()),
            "ANMIN with a sampled A-step: one fixed sample of rows, or a fresh one every iteration",
        ),
        Setting::new(
            "cg_tol",
            o,
            Domain::Real(Interval::POSITIVE),
            D::Real(d.cg_tol),
            "ANMIN with conjugate gradients: stop when the residual has shrunk by this factor",
        ),
        Setting::new(
            "a_shift",
            o,
            Domain::Real(Interval::NON_NEGATIVE),
            D::Real(d.a_shift),
            "Relative proximal shift of the A-system",
        )
        .internal(),
        Setting::new(
            "max_halvings",
            o,
            count(0, 1000),
            D::Count(d.max_halvings as u64),
            "Backtracking halvings tried before declaring that no step helps",
        )
        .internal(),
        Setting::new(
            "cg_max_iters",
            o,
            count(1, MAX_STEPS),
            D::Count(d.cg_max_iters as u64),
            "At most this many conjugate-gradient iterations per A-step",
        )
        .internal(),
    ]
}

/// Safeguarded ANMIN's own settings (the plain iteration takes none of them).
const VARIANT: Setting = Setting::new(
    "variant",
    Owner::Optimizer(Anmin),
    Domain::Choice(Variant::NAMES),
    D::Word(AnminConfig::DEFAULT.variant.const_name()),
    "ANMIN variant (plain is the same as --optimizer anmin-plain)",
);

const STEP: Setting = Setting::new(
    "step",
    Owner::Optimizer(Anmin),
    Domain::Choice(StepRule::NAMES),
    D::Word(AnminConfig::DEFAULT.step.const_name()),
    "Safeguarded ANMIN's step length: `halving` takes the first of 1, ½, ¼, … that lowers the \
     loss; `search` starts from the last accepted length, doubles it while the loss keeps \
     falling (also past the A-step, up to 8×), halves it while it keeps falling, and refines it \
     by a parabola: deeper in the first iterations, shallower later",
);

const REFINE: Setting = Setting::new(
    "refine",
    Owner::Optimizer(Anmin),
    count(0, 1000),
    D::Count(AnminConfig::DEFAULT.refine as u64),
    "Safeguarded ANMIN: at most this many chord steps after each A-step (the new point's \
     Gauss–Newton direction with the A-step's factored matrix: a pass over the data and two \
     triangular solves each, no assembly), while each gains at least a tenth of the A-step's \
     decrease",
);

const fn lr(kind: OptimizerKind, default: f64, help: &'static str) -> Setting {
    Setting::new(
        "lr",
        Owner::Optimizer(kind),
        Domain::Real(Interval::POSITIVE),
        D::Real(default),
        help,
    )
    .aliases(&["learning_rate"])
}

const fn batch_size(kind: OptimizerKind) -> Setting {
    Setting::new(
        "batch_size",
        Owner::Optimizer(kind),
        count(1, MAX_ROWS),
        D::Count(BatchConfig::DEFAULT.batch_size as u64),
        "Mini-batch size",
    )
}

const fn fraction(kind: OptimizerKind, name: &'static str, default: f64) -> Setting {
    Setting::new(
        name,
        Owner::Optimizer(kind),
        Domain::Real(Interval::UNIT),
        D::Real(default),
        "Adam's moment decay rate",
    )
    .internal()
}

const fn non_negative(kind: OptimizerKind, name: &'static str, default: f64) -> Setting {
    Setting::new(
        name,
        Owner::Optimizer(kind),
        Domain::Real(Interval::NON_NEGATIVE),
        D::Real(default),
        "LBFGS stops when the gradient (or the change) is at most this",
    )
    .internal()
}

const LR_HELP: &str = "Learning rate";
const ITERS_HELP: &str = "Iterations";

/// Every declared setting.
pub fn all() -> &'static [Setting] {
    static ALL: LazyLock<Vec<Setting>> = LazyLock::new(build);
    &ALL
}

fn build() -> Vec<Setting> {
    let mut all = vec![
        TEST_FRAC,
        SEED,
        VAL_FRAC,
        CLIP,
        HIDDEN,
        ALPHA,
        INIT,
        SCALING,
        ONE_HOT_INTEGERS,
        ONE_HOT_FEW,
        MAX_ONE_HOT,
        TASK,
        OPTIMIZER,
        AUTO,
        RIDGE,
        BAG,
        MAX_SECONDS,
        THREADS,
        MAX_MEMORY,
        // ANMIN, safeguarded by default.
        steps(Anmin, "iters", ITERS_HELP),
        VARIANT,
        STEP,
        REFINE,
    ];
    all.extend(anmin(Anmin));
    // The paper's plain iteration.
    all.push(steps(AnminPlain, "iters", ITERS_HELP));
    all.extend(anmin(AnminPlain));
    all.extend([
        // SGD with momentum.
        steps(Sgd, "epochs", "Epochs"),
        lr(Sgd, SgdConfig::DEFAULT.lr, LR_HELP),
        Setting::new(
            "momentum",
            Owner::Optimizer(Sgd),
            Domain::Real(Interval::UNIT),
            D::Real(SgdConfig::DEFAULT.momentum),
            "SGD momentum",
        ),
        batch_size(Sgd),
        // Adam.
        steps(Adam, "epochs", "Epochs"),
        lr(Adam, AdamConfig::DEFAULT.lr, LR_HELP),
        batch_size(Adam),
        fraction(Adam, "beta1", AdamConfig::DEFAULT.beta1),
        fraction(Adam, "beta2", AdamConfig::DEFAULT.beta2),
        Setting::new(
            "eps",
            Owner::Optimizer(Adam),
            Domain::Real(Interval::POSITIVE),
            D::Real(AdamConfig::DEFAULT.eps),
            "Adam's ε",
        )
        .internal(),
        // L-BFGS.
        steps(Lbfgs, "iters", "Outer iterations"),
        lr(
            Lbfgs,
            LbfgsConfig::DEFAULT.lr,
            "Initial step of each line search",
        ),
        Setting::new(
            "history",
            Owner::Optimizer(Lbfgs),
            count(1, 10_000),
            D::Count(LbfgsConfig::DEFAULT.history as u64),
            "LBFGS curvature pairs kept",
        )
        .aliases(&["lbfgs_history"]),
        Setting::new(
            "inner_iters",
            Owner::Optimizer(Lbfgs),
            count(1, MAX_STEPS),
            D::Count(LbfgsConfig::DEFAULT.inner_iters as u64),
            "L-BFGS iterations per outer step",
        )
        .internal(),
        non_negative(Lbfgs, "tolerance_grad", LbfgsConfig::DEFAULT.tolerance_grad),
        non_negative(
            Lbfgs,
            "tolerance_change",
            LbfgsConfig::DEFAULT.tolerance_change,
        ),
        // Levenberg–Marquardt.
        steps(Lm, "iters", ITERS_HELP),
        Setting::new(
            "mu",
            Owner::Optimizer(Lm),
            Domain::Real(Interval::POSITIVE),
            D::Real(LmConfig::DEFAULT.mu),
            "Levenberg–Marquardt's initial damping μ",
        ),
        Setting::new(
            "mu_dec",
            Owner::Optimizer(Lm),
            Domain::Real(Interval::OPEN_UNIT),
            D::Real(LmConfig::DEFAULT.mu_dec),
            "Levenberg–Marquardt: μ is multiplied by this after an accepted step",
        ),
        Setting::new(
            "mu_inc",
            Owner::Optimizer(Lm),
            Domain::Real(Interval::from(1.0, true)),
            D::Real(LmConfig::DEFAULT.mu_inc),
            "Levenberg–Marquardt: μ is multiplied by this after a rejected step",
        ),
        Setting::new(
            "mu_max",
            Owner::Optimizer(Lm),
            Domain::Real(Interval::POSITIVE),
            D::Real(LmConfig::DEFAULT.mu_max),
            "Levenberg–Marquardt stops (converged) when μ exceeds this; at least --mu",
        ),
        Setting::new(
            "damping",
            Owner::Optimizer(Lm),
            Domain::Choice(Damping::NAMES),
            D::Word(LmConfig::DEFAULT.damping.const_name()),
            "Levenberg–Marquardt's damping matrix",
        ),
    ]);
    all
}

/// Sizes of `anmin gen teacher`: not run settings, but bounded the same way.
pub const GEN_ROWS: Setting = Setting::new(
    "rows",
    Owner::Execution,
    count(1, MAX_ROWS),
    D::Unset("required"),
    "Rows to write",
);
pub const GEN_FEATURES: Setting = Setting::new(
    "features",
    Owner::Execution,
    count(1, 100_000),
    D::Count(16),
    "Input features d, drawn from N(0, 1)",
);
pub const GEN_HIDDEN: Setting = Setting::new(
    "hidden",
    Owner::Execution,
    count(1, MAX_HIDDEN),
    D::Count(16),
    "Hidden units of the teacher network",
);
/// Parallel runs of `anmin compare`, and its splits.
pub const JOBS: Setting = Setting::new(
    "jobs",
    Owner::Execution,
    count(0, MAX_THREADS),
    D::Count(0),
    "Runs in parallel; 0 uses every core",
);
pub const SPLITS: Setting = Setting::new(
    "splits",
    Owner::Execution,
    count(1, 1_000_000),
    D::Count(100),
    "Number of random splits; split i uses seed i (as `anmin train --seed i`)",
);
