"""Reference figures for chunlei-scorecard's acceptance test (see REFERENCE.md).

Exports scorecardpy's copy of the German credit data set, splits it 70/30 stratified with a
fixed seed (scorecardpy's own `split_df`, seed 186), and runs scorecardpy's standard pipeline
from its README on the training part only: `var_filter` (IV >= 0.02), `woebin` (tree method,
its defaults), `woebin_ply`, scikit-learn's `LogisticRegression(penalty='l1', C=0.9,
solver='saga')`, then `scorecard` / `scorecard_ply` for integer points. It prints the test AUC
of the predicted probabilities and of the integer scores.

One split of 300 test rows leaves an AUC uncertain by about ±0.03, so the script also repeats
the pipeline on 20 more splits (seeds 1 to 20), writes which rows each put in training to
`splits.csv` (one column per seed, 1 = training row, rows in the order of germancredit.csv)
and prints each split's test AUC and their mean.

The README fits the bins on the whole data set before splitting; that lets the test rows shape
the bins, so this script fits them on the training rows only, as the Rust test does. The
README's variant is printed too, for information.

Run from this directory, in a virtual environment with the pinned versions (scorecardpy
0.1.9.7 does not work with pandas 3):

    python3.11 -m venv /tmp/scvenv
    /tmp/scvenv/bin/pip install scorecardpy==0.1.9.7 pandas==2.2.3 numpy==1.26.4 \
        scikit-learn==1.5.2 scipy==1.13.1 statsmodels==0.14.4 matplotlib==3.9.2
    /tmp/scvenv/bin/python reference.py
"""

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import scorecardpy as sc
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

warnings.filterwarnings("ignore")

TARGET = "creditability"
SEED = 186
STUDY_SEEDS = range(1, 21)


def ks(y, p):
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def pipeline(train, test, bins_data):
    """scorecardpy's README pipeline; `bins_data` is the frame the bins are fitted on."""
    kept = sc.var_filter(bins_data, y=TARGET)
    columns = list(kept.columns)
    # Label bad as 1 everywhere, as var_filter and woebin do, so that predict_proba[:, 1]
    # is the probability of bad and roc_auc_score takes bad as the positive class.
    train = train.assign(**{TARGET: (train[TARGET] == "bad").astype(int)})
    test = test.assign(**{TARGET: (test[TARGET] == "bad").astype(int)})
    bins = sc.woebin(kept, y=TARGET)
    train_woe = sc.woebin_ply(train[columns], bins)
    test_woe = sc.woebin_ply(test[columns], bins)
    y_train = train_woe.loc[:, TARGET]
    x_train = train_woe.loc[:, train_woe.columns != TARGET]
    y_test = test_woe.loc[:, TARGET]
    x_test = test_woe.loc[:, x_train.columns]
    lr = LogisticRegression(penalty="l1", C=0.9, solver="saga", random_state=0)
    lr.fit(x_train, y_train)
    train_pred = lr.predict_proba(x_train)[:, 1]
    test_pred = lr.predict_proba(x_test)[:, 1]
    card = sc.scorecard(bins, lr, x_train.columns)
    test_score = sc.scorecard_ply(test[columns], card, print_step=0)["score"]
    return {
        "variables": [c[: -len("_woe")] for c in x_train.columns],
        "train_auc": roc_auc_score(y_train, train_pred),
        "test_auc": roc_auc_score(y_test, test_pred),
        "test_ks": ks(y_test, test_pred),
        # Higher score means lower risk, so the score ranks bads with its negative.
        "test_auc_points": roc_auc_score(y_test, -test_score),
    }


def main():
    data = sc.germancredit()
    data.to_csv("germancredit.csv", index=False)
    train, test = sc.split_df(data, TARGET, ratio=0.7, seed=SEED).values()
    train.to_csv("train.csv", index=False)
    test.to_csv("test.csv", index=False)
    print(f"rows: all={len(data)} train={len(train)} test={len(test)}")
    print(f"bads: train={(train[TARGET] == 'bad').sum()} test={(test[TARGET] == 'bad').sum()}")

    for name, bins_data in [("train-only bins (reference)", train), ("README, bins on all rows", data)]:
        r = pipeline(train, test, bins_data)
        print(f"== {name}")
        print(f"variables ({len(r['variables'])}): {', '.join(r['variables'])}")
        print(f"train_auc={r['train_auc']:.4f}")
        print(f"test_auc={r['test_auc']:.4f} test_ks={r['test_ks']:.4f}")
        print(f"test_auc_points={r['test_auc_points']:.4f}")
    print("== train-only bins on 20 more splits")
    seed_study(data)


def seed_study(data):
    columns = {}
    aucs = []
    for seed in STUDY_SEEDS:
        train, test = sc.split_df(data, TARGET, ratio=0.7, seed=seed).values()
        columns[f"seed_{seed}"] = data.index.isin(train.index).astype(int)
        with contextlib.redirect_stdout(io.StringIO()):
            r = pipeline(train, test, train)
        aucs.append(r["test_auc"])
        print(f"seed {seed}: test_auc={r['test_auc']:.4f}")
    pd.DataFrame(columns).to_csv("splits.csv", index=False)
    print(f"mean test_auc over {len(aucs)} splits: {np.mean(aucs):.4f}")


if __name__ == "__main__":
    main()
