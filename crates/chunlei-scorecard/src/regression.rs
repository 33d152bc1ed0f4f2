//! Logistic regression of "bad" on the WoE columns by Newton's method (iteratively reweighted
//! least squares), with an optional L2 penalty on the slopes (never on the intercept).
//!
//! Deterministic: no random start, no shuffling; the same data give the same coefficients on
//! every machine up to floating-point summation order, which is fixed too.

/// Newton steps before giving up; a WoE model converges in well under ten.
pub const ITERATIONS_MAX: usize = 100;
/// Newton stops when no coefficient moves by more than this.
const STEP_TOLERANCE: f64 = 1e-10;
/// Halvings of a step that did not improve the penalised likelihood before accepting it.
const HALVINGS_MAX: usize = 40;

/// Fitted `logit(P(bad)) = intercept + Σ coefficients[j] · x[j]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

/// The equations had no unique solution; `column` is the variable (from 0) whose column is a
/// combination of the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Singular {
    pub column: usize,
}

/// Fits the model; `columns[j][i]` is variable `j` of row `i`.
pub fn fit(columns: &[Vec<f64>], is_bad: &[bool], l2: f64) -> Result<Fit, Singular> {
    let dims = columns.len() + 1;
    // Row-major with a leading 1 for the intercept.
    let design: Vec<Vec<f64>> = (0..is_bad.len())
        .map(|i| {
            std::iter::once(1.0)
                .chain(columns.iter().map(|column| column[i]))
                .collect()
        })
        .collect();
    let bads = is_bad.iter().filter(|b| **b).count();
    let base_rate = bads.max(1) as f64 / is_bad.len().max(1) as f64;
    let mut beta = vec![0.0; dims];
    beta[0] = (base_rate / (1.0 - base_rate).max(f64::MIN_POSITIVE)).ln();
    let mut objective = penalised_log_likelihood(&beta, &design, is_bad, l2);
    for iteration in 1..=ITERATIONS_MAX {
        let mut gradient = vec![0.0; dims];
        let mut hessian = vec![vec![0.0; dims]; dims];
        for (x, bad) in design.iter().zip(is_bad) {
            let mu = sigmoid(dot(&beta, x));
            let residual = f64::from(u8::from(*bad)) - mu;
            let weight = mu * (1.0 - mu);
            for (k, xk) in x.iter().enumerate() {
                gradient[k] += residual * xk;
                for (l, xl) in x[..=k].iter().enumerate() {
                    hessian[k][l] += weight * xk * xl;
                }
            }
        }
        for k in 1..dims {
            gradient[k] -= l2 * beta[k];
            hessian[k][k] += l2;
        }
        let step = solve(hessian, &gradient)?;
        // Newton can overshoot far from the optimum; halve until the objective improves.
        let mut scale = 1.0;
        let mut candidate = beta.clone();
        for _ in 0..HALVINGS_MAX {
            for ((c, b), s) in candidate.iter_mut().zip(&beta).zip(&step) {
                *c = b + scale * s;
            }
            let value = penalised_log_likelihood(&candidate, &design, is_bad, l2);
            if value >= objective - 1e-12 * objective.abs() {
                objective = value;
                break;
            }
            scale /= 2.0;
        }
        beta = candidate;
        let largest = step.iter().fold(0.0f64, |m, s| m.max((scale * s).abs()));
        if largest < STEP_TOLERANCE {
            return Ok(done(beta, iteration, true));
        }
    }
    Ok(done(beta, ITERATIONS_MAX, false))
}

fn done(beta: Vec<f64>, iterations: usize, converged: bool) -> Fit {
    let intercept = beta.first().copied().unwrap_or(0.0);
    Fit {
        intercept,
        coefficients: beta.into_iter().skip(1).collect(),
        iterations,
        converged,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// `1 / (1 + e^-z)` without overflow for large `|z|`.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `Σ y·η − ln(1 + e^η) − l2/2 · Σ slopes²`.
fn penalised_log_likelihood(beta: &[f64], design: &[Vec<f64>], is_bad: &[bool], l2: f64) -> f64 {
    let fit: f64 = design
        .iter()
        .zip(is_bad)
        .map(|(x, bad)| {
            let eta = dot(beta, x);
            let softplus = if eta > 0.0 {
                eta + (-eta).exp().ln_1p()
            } else {
                eta.exp().ln_1p()
            };
            if *bad { eta - softplus } else { -softplus }
        })
        .sum();
    let penalty: f64 = beta[1..].iter().map(|b| b * b).sum();
    fit - l2 / 2.0 * penalty
}

/// Solves `H·s = g` for a symmetric positive definite `H` given by its lower triangle, by
/// Cholesky decomposition.
fn solve(mut h: Vec<Vec<f64>>, g: &[f64]) -> Result<Vec<f64>, Singular> {
    let n = g.len();
    let scale = (0..n)
        .map(|k| h[k][k].abs())
        .fold(0.0f64, f64::max)
        .max(1.0);
    for j in 0..n {
        let diagonal = h[j][j] - dot(&h[j][..j], &h[j][..j]);
        if diagonal <= 1e-10 * scale {
            return Err(Singular {
                column: j.saturating_sub(1),
            });
        }
        let diagonal = diagonal.sqrt();
        h[j][j] = diagonal;
        for i in j + 1..n {
            let value = (h[i][j] - dot(&h[i][..j], &h[j][..j])) / diagonal;
            h[i][j] = value;
        }
    }
    // Forward substitution for L·y = g, then back substitution for Lᵀ·s = y.
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (g[i] - dot(&h[i][..i], &y[..i])) / h[i][i];
    }
    let mut s = vec![0.0; n];
    for i in (0..n).rev() {
        let sum: f64 = (i + 1..n).map(|k| h[k][i] * s[k]).sum();
        s[i] = (y[i] - sum) / h[i][i];
    }
    Ok(s)
}

#[cfg(test)]
mod tests;
