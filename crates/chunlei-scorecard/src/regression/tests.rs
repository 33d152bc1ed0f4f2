use super::*;
use crate::testing::Rng;

/// With one 0/1 regressor the maximum likelihood fit is known in closed form: the intercept
/// is the log-odds of bad where x = 0 and the slope the log odds ratio. Here x = 0 has 10 bads
/// of 40 and x = 1 has 30 of 60: intercept ln(10/30), slope ln(30/30) − ln(10/30).
#[test]
fn a_binary_regressor_gives_the_log_odds_ratio() {
    let mut x = Vec::new();
    let mut is_bad = Vec::new();
    for (value, goods, bads) in [(0.0, 30, 10), (1.0, 30, 30)] {
        for at in 0..goods + bads {
            x.push(value);
            is_bad.push(at >= goods);
        }
    }
    let fit = fit(&[x], &is_bad, 0.0).expect("regular");
    assert!(fit.converged);
    assert!(
        (fit.intercept - (1.0f64 / 3.0).ln()).abs() < 1e-9,
        "{fit:?}"
    );
    assert!((fit.coefficients[0] - 3.0f64.ln()).abs() < 1e-9, "{fit:?}");
}

#[test]
fn it_recovers_the_coefficients_that_generated_the_data() {
    let mut rng = Rng::new(5);
    let rows = 20_000;
    let x1: Vec<f64> = (0..rows).map(|_| rng.unit() * 4.0 - 2.0).collect();
    let x2: Vec<f64> = (0..rows).map(|_| rng.unit() * 2.0 - 1.0).collect();
    let is_bad: Vec<bool> = x1
        .iter()
        .zip(&x2)
        .map(|(a, b)| rng.unit() < sigmoid(-0.5 + 1.5 * a - 1.0 * b))
        .collect();
    let fit = fit(&[x1, x2], &is_bad, 0.0).expect("regular");
    assert!(fit.converged && fit.iterations < 20, "{fit:?}");
    assert!((fit.intercept + 0.5).abs() < 0.1, "{fit:?}");
    assert!((fit.coefficients[0] - 1.5).abs() < 0.1, "{fit:?}");
    assert!((fit.coefficients[1] + 1.0).abs() < 0.1, "{fit:?}");
}

#[test]
fn the_fit_is_deterministic_and_l2_shrinks_the_slopes() {
    let mut rng = Rng::new(9);
    let x: Vec<f64> = (0..500).map(|_| rng.unit()).collect();
    let is_bad: Vec<bool> = x.iter().map(|x| rng.unit() < *x).collect();
    let columns = [x];
    let plain = fit(&columns, &is_bad, 0.0).expect("regular");
    assert_eq!(fit(&columns, &is_bad, 0.0).expect("regular"), plain);
    let shrunk = fit(&columns, &is_bad, 100.0).expect("regular");
    assert!(shrunk.coefficients[0].abs() < plain.coefficients[0].abs());
}

#[test]
fn collinear_columns_are_singular() {
    let x: Vec<f64> = (0..100).map(|i| f64::from(i % 7)).collect();
    let is_bad: Vec<bool> = (0..100).map(|i| i % 3 == 0).collect();
    assert_eq!(
        fit(&[x.clone(), x.clone()], &is_bad, 0.0),
        Err(Singular { column: 1 })
    );
    assert!(fit(&[x.clone(), x], &is_bad, 1e-3).is_ok());
}

#[test]
fn sigmoid_is_stable_at_the_extremes() {
    assert_eq!(sigmoid(0.0), 0.5);
    assert_eq!(sigmoid(1e4), 1.0);
    assert_eq!(sigmoid(-1e4), 0.0);
    assert!((sigmoid(2.0) + sigmoid(-2.0) - 1.0).abs() < 1e-15);
}
