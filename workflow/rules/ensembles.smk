# Section VIII: ensembles - bagging the perceptron (Fig 30), trees/forests/AdaBoost on Iris
# (Fig 32), random forests on the Ising phases (Fig 33), XGBoost on SUSY (Fig 34), and the
# variance of an ensemble average (spec 4.4, project figure ensemble_variance).
# Code: mlreview.sections.ensembles.

ENSEMBLES = config["ensembles"]


rule bagging_fit:
    """Fig 30: bagged perceptrons on a two-dimensional toy problem."""
    output:
        data=res("ensembles/fig30.npz"),
        metrics=res("metrics/fig30.json"),
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(compute_params(ENSEMBLES["fig30"])),
    shell:
        STEP


rule ensemble_variance:
    """Spec 4.4: the variance of an average of M correlated estimators."""
    output:
        data=res("ensembles/ensemble_variance.npz"),
        metrics=res("metrics/ensemble_variance.json"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ENSEMBLES["variance"]),
    shell:
        STEP


rule iris_ensembles_fit:
    """Fig 32: a tree, a random forest and AdaBoost on pairs of Iris features."""
    output:
        data=res("ensembles/fig32.npz"),
        metrics=res("metrics/fig32.json"),
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(compute_params(ENSEMBLES["fig32"])),
    shell:
        STEP


rule ising_forest_fit:
    """Fig 33: random forests on the Ising phases against the number of trees."""
    input:
        dataset=ISING2D,
    output:
        data=res("ensembles/fig33.npz"),
        metrics=res("metrics/fig33.json"),
    threads: ENSEMBLES["fig33"]["threads"]
    resources:
        mem_mb=6000,
        runtime=30,
    params:
        json=as_json(compute_params(ENSEMBLES["fig33"])),
    shell:
        STEP


rule ising_forest_vs_logistic:
    """Claim C46: the forest against the best logistic regression of Fig 21."""
    input:
        forest=rules.ising_forest_fit.output.metrics,
        logistic=res("metrics/fig21.json"),
    output:
        metrics=res("metrics/fig33_vs_fig21.json"),
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        STEP


rule susy_xgboost_fit:
    """Fig 34: XGBoost on SUSY events, feature importances and ROC curves."""
    input:
        parquet=SUSY,
    output:
        data=res("ensembles/fig34.npz"),
        metrics=res("metrics/fig34.json"),
    threads: ENSEMBLES["fig34"]["threads"]
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        json=as_json({k: v for k, v in ENSEMBLES["fig34"].items() if k != "tuning"}),
    shell:
        STEP


rule susy_xgboost_tune:
    """Fig 34: the cross-validated tuning grid of XGBoost."""
    input:
        parquet=SUSY,
        # C48 compares with logistic regression on all 18 features (Figs 23, 25)
        logistic=res("metrics/susy_logistic_all.json"),
    output:
        data=res("ensembles/fig34_tuning.npz"),
        metrics=res("metrics/fig34_tuning.json"),
    threads: ENSEMBLES["fig34"]["tuning"]["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        json=as_json(
            {
                k: v
                for k, v in ENSEMBLES["fig34"].items()
                if k not in ("n_estimators", "threads")
            }
        ),
    shell:
        STEP


rule fig30_plot:
    """Fig 30: the bootstrap boundaries, their average, bagged vs true labels."""
    input:
        data=rules.bagging_fit.output.data,
    output:
        pdf=res("figures/fig30.pdf"),
        png=figure_png("fig30"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ENSEMBLES["fig30"]),
    shell:
        STEP


rule fig32_plot:
    """Fig 32: decision surfaces on the Iris feature pairs."""
    input:
        data=rules.iris_ensembles_fit.output.data,
    output:
        pdf=res("figures/fig32.pdf"),
        png=figure_png("fig32"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ENSEMBLES["fig32"]),
    shell:
        STEP


rule fig33_plot:
    """Fig 33: accuracies and fit time against the number of trees."""
    input:
        data=rules.ising_forest_fit.output.data,
    output:
        pdf=res("figures/fig33.pdf"),
        png=figure_png("fig33"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ENSEMBLES["fig33"]),
    shell:
        STEP


rule ensemble_variance_plot:
    """Project figure ensemble_variance: measured vs the formula."""
    input:
        data=rules.ensemble_variance.output.data,
    output:
        pdf=res("figures/ensemble_variance.pdf"),
        png=figure_png("ensemble_variance"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ENSEMBLES["variance"]),
    shell:
        STEP


rule fig34_plot:
    """Fig 34: importances, ROC curves and the tuning grid."""
    input:
        data=rules.susy_xgboost_fit.output.data,
        tuning=rules.susy_xgboost_tune.output.data,
    output:
        pdf=res("figures/fig34.pdf"),
        png=figure_png("fig34"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ENSEMBLES["fig34"]),
    shell:
        STEP
