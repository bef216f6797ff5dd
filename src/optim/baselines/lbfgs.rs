//! Full-batch L-BFGS with a strong-Wolfe line search, a port of PyTorch's `torch.optim.LBFGS`
//! (`line_search_fn="strong_wolfe"`): one outer step runs up to `inner_iters` L-BFGS iterations,
//! and the curvature history persists across outer steps. Matching PyTorch's algorithm keeps
//! comparisons with it honest.

use std::collections::VecDeque;

use nalgebra::DVector;

use super::gradient::{self, Params, ScaledTrain, Workspace, loss_and_grad};
use crate::data::Samples;
use crate::model::Network;
use crate::optim::{Optimizer, StepStatus};

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LbfgsConfig {
    /// Initial step length of each line search (PyTorch's `lr`).
    pub lr: f64,
    /// Curvature pairs kept (PyTorch's `history_size`).
    pub history: usize,
    /// L-BFGS iterations per outer step (PyTorch's `max_iter`).
    pub inner_iters: usize,
    /// Relative L2 penalty λ on A and B (the same objective as ANMIN's `--ridge`).
    pub ridge: f64,
    /// Stop when the largest gradient entry is at most this.
    pub tolerance_grad: f64,
    /// Stop when the step or the change of the loss is below this.
    pub tolerance_change: f64,
    /// Train only the output layer (a convex problem; used by tests).
    #[serde(skip)]
    pub freeze_hidden: bool,
}

/// PyTorch's defaults, except a history of 10 pairs.
impl LbfgsConfig {
    /// Every setting at its default: the one place these values are written (the
    /// settings' description refers to them).
    pub const DEFAULT: LbfgsConfig = LbfgsConfig {
        lr: 1.0,
        history: 10,
        inner_iters: 20,
        ridge: 0.0,
        tolerance_grad: 1e-7,
        tolerance_change: 1e-9,
        freeze_hidden: false,
    };
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl LbfgsConfig {
    /// The defaults with initial step `lr`, `history` pairs and relative penalty `ridge`.
    pub fn new(lr: f64, history: usize, ridge: f64) -> LbfgsConfig {
        LbfgsConfig {
            lr,
            history,
            ridge,
            ..LbfgsConfig::default()
        }
    }
}

/// An objective: its value and gradient at a point.
pub type Objective<'a> = dyn FnMut(&DVector<f64>) -> (f64, DVector<f64>) + 'a;

/// The curvature history and last step, kept between outer steps.
#[derive(Debug, Default)]
pub struct LbfgsState {
    direction: DVector<f64>,
    step: f64,
    old_dirs: VecDeque<DVector<f64>>,
    old_steps: VecDeque<DVector<f64>>,
    rho: VecDeque<f64>,
    h_diag: f64,
    prev_grad: DVector<f64>,
    iterations: usize,
    pub evaluations: usize,
}

/// What one outer step did.
#[derive(Debug, Clone, Copy)]
pub struct OuterStep {
    pub loss_before: f64,
    pub loss_after: f64,
    /// The gradient is below `tolerance_grad` or no descent direction is left.
    pub stationary: bool,
}

/// Runs one outer L-BFGS step on `x` for the objective `f` (loss and gradient).
pub fn outer_step(
    state: &mut LbfgsState,
    cfg: &LbfgsConfig,
    x: &mut DVector<f64>,
    f: &mut Objective<'_>,
) -> OuterStep {
    let max_eval = cfg.inner_iters * 5 / 4;
    let (mut loss, mut grad) = f(x);
    let loss_before = loss;
    let mut evals = 1;
    state.evaluations += 1;
    if grad.amax() <= cfg.tolerance_grad {
        return OuterStep {
            loss_before,
            loss_after: loss,
            stationary: true,
        };
    }
    let mut stationary = false;
    for n_iter in 1..=cfg.inner_iters {
        state.iterations += 1;
        if state.iterations == 1 {
            state.direction = -&grad;
            state.old_dirs.clear();
            state.old_steps.clear();
            state.rho.clear();
            state.h_diag = 1.0;
        } else {
            let y = &grad - &state.prev_grad;
            let s = &state.direction * state.step;
            let ys = y.dot(&s);
            if ys > 1e-10 {
                if state.old_dirs.len() == cfg.history {
                    state.old_dirs.pop_front();
                    state.old_steps.pop_front();
                    state.rho.pop_front();
                }
                state.h_diag = ys / y.dot(&y);
                state.old_dirs.push_back(y);
                state.old_steps.push_back(s);
                state.rho.push_back(1.0 / ys);
            }
            // Two-loop recursion for −H·g.
            let m = state.old_dirs.len();
            let mut al = vec![0.0; m];
            let mut q = -&grad;
            for i in (0..m).rev() {
                al[i] = state.old_steps[i].dot(&q) * state.rho[i];
                q.axpy(-al[i], &state.old_dirs[i], 1.0);
            }
            let mut r = q * state.h_diag;
            for (i, al_i) in al.iter().enumerate() {
                let be = state.old_dirs[i].dot(&r) * state.rho[i];
                r.axpy(al_i - be, &state.old_steps[i], 1.0);
            }
            state.direction = r;
        }
        state.prev_grad = grad.clone();
        let prev_loss = loss;
        state.step = if state.iterations == 1 {
            (1.0 / grad.abs().sum()).min(1.0) * cfg.lr
        } else {
            cfg.lr
        };
        let gtd = grad.dot(&state.direction);
        if gtd > -cfg.tolerance_change {
            stationary = true;
            break;
        }
        let start = LineStart {
            x,
            direction: &state.direction,
            loss,
            grad: &grad,
            gtd,
        };
        let search = strong_wolfe(f, &start, state.step, cfg.tolerance_change);
        state.step = search.step;
        loss = search.loss;
        grad = search.grad;
        x.axpy(state.step, &state.direction, 1.0);
        evals += search.evaluations;
        state.evaluations += search.evaluations;

        if n_iter == cfg.inner_iters || evals >= max_eval {
            break;
        }
        if grad.amax() <= cfg.tolerance_grad {
            stationary = true;
            break;
        }
        if state.direction.amax() * state.step.abs() <= cfg.tolerance_change
            || (loss - prev_loss).abs() < cfg.tolerance_change
        {
            break;
        }
    }
    OuterStep {
        loss_before,
        loss_after: loss,
        stationary,
    }
}

struct Search {
    loss: f64,
    grad: DVector<f64>,
    step: f64,
    evaluations: usize,
}

/// Minimizer of the cubic interpolating (x1, f1, g1) and (x2, f2, g2), clamped to `bounds`
/// (default: the interval between x1 and x2); the midpoint when the cubic has no minimum.
fn cubic_interpolate(
    x1: f64,
    f1: f64,
    g1: f64,
    x2: f64,
    f2: f64,
    g2: f64,
    bounds: Option<(f64, f64)>,
) -> f64 {
    let (lo, hi) = bounds.unwrap_or(if x1 <= x2 { (x1, x2) } else { (x2, x1) });
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square >= 0.0 {
        let d2 = d2_square.sqrt();
        let min_pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        };
        // Degenerate brackets give NaN; fall back to the midpoint rather than propagate it.
        if min_pos.is_finite() {
            return min_pos.max(lo).min(hi);
        }
    }
    (lo + hi) / 2.0
}

/// Where a line search starts: the point, the direction, and the loss, gradient and
/// directional derivative there.
struct LineStart<'a> {
    x: &'a DVector<f64>,
    direction: &'a DVector<f64>,
    loss: f64,
    grad: &'a DVector<f64>,
    gtd: f64,
}

/// PyTorch's `_strong_wolfe` (c1 = 1e-4, c2 = 0.9, at most 25 evaluations) from `start`
/// with first step `t`.
fn strong_wolfe(
    f: &mut Objective<'_>,
    start: &LineStart<'_>,
    mut t: f64,
    tolerance_change: f64,
) -> Search {
    let LineStart {
        x,
        direction: d,
        loss,
        grad,
        gtd,
    } = *start;
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    const MAX_LS: usize = 25;
    let d_norm = d.amax();
    let mut eval = |t: f64| {
        let mut point = x.clone();
        point.axpy(t, d, 1.0);
        f(&point)
    };

    let (mut f_new, mut g_new) = eval(t);
    let mut evaluations = 1;
    let mut gtd_new = g_new.dot(d);
    let (mut t_prev, mut f_prev, mut g_prev, mut gtd_prev) = (0.0, loss, grad.clone(), gtd);
    let mut done = false;
    let mut ls_iter = 0;
    // Brackets: (step, loss, gradient, directional derivative).
    let mut bracket: Vec<(f64, f64, DVector<f64>, f64)> = Vec::new();
    while ls_iter < MAX_LS {
        if f_new > loss + C1 * t * gtd || (ls_iter > 1 && f_new >= f_prev) || !f_new.is_finite() {
            bracket = vec![
                (t_prev, f_prev, g_prev.clone(), gtd_prev),
                (t, f_new, g_new.clone(), gtd_new),
            ];
            break;
        }
        if gtd_new.abs() <= -C2 * gtd {
            bracket = vec![(t, f_new, g_new.clone(), gtd_new)];
            done = true;
            break;
        }
        if gtd_new >= 0.0 {
            bracket = vec![
                (t_prev, f_prev, g_prev.clone(), gtd_prev),
                (t, f_new, g_new.clone(), gtd_new),
            ];
            break;
        }
        let min_step = t + 0.01 * (t - t_prev);
        let max_step = t * 10.0;
        let tmp = t;
        t = cubic_interpolate(
            t_prev,
            f_prev,
            gtd_prev,
            t,
            f_new,
            gtd_new,
            Some((min_step, max_step)),
        );
        t_prev = tmp;
        f_prev = f_new;
        g_prev = g_new.clone();
        gtd_prev = gtd_new;
        (f_new, g_new) = eval(t);
        evaluations += 1;
        gtd_new = g_new.dot(d);
        ls_iter += 1;
    }
    if ls_iter == MAX_LS {
        bracket = vec![
            (0.0, loss, grad.clone(), gtd),
            (t, f_new, g_new.clone(), gtd_new),
        ];
    }

    // Zoom.
    let mut insufficient_progress = false;
    let order = |b: &[(f64, f64, DVector<f64>, f64)]| {
        if b[0].1 <= b[b.len() - 1].1 {
            (0, 1)
        } else {
            (1, 0)
        }
    };
    let (mut low, mut high) = order(&bracket);
    while !done && ls_iter < MAX_LS && bracket.len() == 2 {
        if (bracket[1].0 - bracket[0].0).abs() * d_norm < tolerance_change {
            break;
        }
        t = cubic_interpolate(
            bracket[0].0,
            bracket[0].1,
            bracket[0].3,
            bracket[1].0,
            bracket[1].1,
            bracket[1].3,
            None,
        );
        let (b_max, b_min) = (
            bracket[0].0.max(bracket[1].0),
            bracket[0].0.min(bracket[1].0),
        );
        let eps = 0.1 * (b_max - b_min);
        if (b_max - t).min(t - b_min) < eps {
            if insufficient_progress || t >= b_max || t <= b_min {
                t = if (t - b_max).abs() < (t - b_min).abs() {
                    b_max - eps
                } else {
                    b_min + eps
                };
                insufficient_progress = false;
            } else {
                insufficient_progress = true;
            }
        } else {
            insufficient_progress = false;
        }
        (f_new, g_new) = eval(t);
        evaluations += 1;
        gtd_new = g_new.dot(d);
        ls_iter += 1;
        if f_new > loss + C1 * t * gtd || f_new >= bracket[low].1 || !f_new.is_finite() {
            bracket[high] = (t, f_new, g_new.clone(), gtd_new);
            (low, high) = order(&bracket);
        } else {
            if gtd_new.abs() <= -C2 * gtd {
                done = true;
            } else if gtd_new * (bracket[high].0 - bracket[low].0) >= 0.0 {
                bracket[high] = bracket[low].clone();
            }
            bracket[low] = (t, f_new, g_new.clone(), gtd_new);
        }
    }
    let (step, loss, grad, _) = bracket.swap_remove(low.min(bracket.len() - 1));
    Search {
        loss,
        grad,
        step,
        evaluations,
    }
}

/// L-BFGS as an [`Optimizer`]: one outer step per history entry, full batch, on
/// standardized targets.
pub struct Lbfgs {
    cfg: LbfgsConfig,
    state: LbfgsState,
    problem: Option<(ScaledTrain, gradient::Objective, Params)>,
}

impl Lbfgs {
    pub fn new(cfg: LbfgsConfig) -> Lbfgs {
        Lbfgs {
            cfg,
            state: LbfgsState::default(),
            problem: None,
        }
    }
}

impl Optimizer for Lbfgs {
    fn init(&mut self, net: &mut Network, train: &Samples) {
        let data = ScaledTrain::new(train);
        let objective = gradient::Objective::new(net.alpha, self.cfg.ridge);
        let params = data.scale.to_internal(net);
        self.problem = Some((data, objective, params));
    }

    fn step(&mut self, net: &mut Network, _train: &Samples) -> StepStatus {
        let (data, objective, params) = self.problem.as_mut().expect("init runs before step");
        let freeze_hidden = self.cfg.freeze_hidden;
        let n_hidden_weights = params.a.len();
        let mut workspace = Workspace::default();
        let mut point = params.clone();
        let mut grad = params.zeros_like();
        let mut f = |x: &DVector<f64>| {
            point.set_flat(x.as_slice());
            let loss = loss_and_grad(
                &point,
                objective,
                &data.x,
                &data.y,
                &mut workspace,
                &mut grad,
            );
            let mut g = grad.to_flat();
            if freeze_hidden {
                g.rows_mut(0, n_hidden_weights).fill(0.0);
            }
            (loss, g)
        };
        let mut x = params.to_flat();
        let outer = outer_step(&mut self.state, &self.cfg, &mut x, &mut f);
        params.set_flat(x.as_slice());
        if !params.is_finite() || !outer.loss_after.is_finite() {
            return StepStatus::Diverged;
        }
        data.scale.write_network(params, net);
        let no_progress = (outer.loss_before - outer.loss_after).abs() < self.cfg.tolerance_change;
        if outer.stationary || no_progress {
            StepStatus::Converged
        } else {
            StepStatus::Continue
        }
    }

    fn diagnostics(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self.cfg).expect("config serializes");
        if let serde_json::Value::Object(map) = &mut v {
            map.insert("function_evaluations".into(), self.state.evaluations.into());
            map.insert("inner_iterations".into(), self.state.iterations.into());
            if let Some((data, _, _)) = &self.problem {
                map.insert("target_mean".into(), serde_json::json!(data.scale.mean));
                map.insert("target_scale".into(), serde_json::json!(data.scale.scale));
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimizes_the_rosenbrock_function() {
        let mut f = |x: &DVector<f64>| {
            let (a, b) = (x[0], x[1]);
            let loss = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
            let grad = DVector::from_vec(vec![
                -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
                200.0 * (b - a * a),
            ]);
            (loss, grad)
        };
        // Tighter tolerances than PyTorch's defaults, to see the convergence itself.
        let cfg = LbfgsConfig {
            tolerance_grad: 1e-10,
            tolerance_change: 1e-16,
            ..LbfgsConfig::new(1.0, 10, 0.0)
        };
        let mut state = LbfgsState::default();
        let mut x = DVector::from_vec(vec![-1.5, 2.0]);
        let mut last = f64::INFINITY;
        for _ in 0..20 {
            let step = outer_step(&mut state, &cfg, &mut x, &mut f);
            assert!(step.loss_after <= step.loss_before);
            last = step.loss_after;
            if step.stationary {
                break;
            }
        }
        assert!(last < 1e-12, "loss {last}");
        assert!(
            (x[0] - 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6,
            "{x}"
        );
    }

    #[test]
    fn cubic_interpolation_finds_the_quadratic_minimum() {
        // f(t) = (t − 0.3)²: f(0) = 0.09, f'(0) = −0.6; f(1) = 0.49, f'(1) = 1.4.
        let t = cubic_interpolate(0.0, 0.09, -0.6, 1.0, 0.49, 1.4, None);
        assert!((t - 0.3).abs() < 1e-12);
        // Coincident points do not produce NaN.
        assert!(cubic_interpolate(1.0, 0.0, 1.0, 1.0, 0.0, 1.0, None).is_finite());
    }
}
