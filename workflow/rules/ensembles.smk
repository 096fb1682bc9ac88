# Section VIII: ensembles - bagging the perceptron (Fig 30), trees/forests/AdaBoost on Iris
# (Fig 32), random forests on the Ising phases (Fig 33), XGBoost on SUSY (Fig 34), and the
# variance of an ensemble average (spec 4.4, project figure ensemble_variance).

#: figure -> the step drawing it from results/ensembles/<figure>.npz
ENSEMBLE_PLOTS = {
    "fig30": "bagging-plot",
    "fig32": "iris-ensembles-plot",
    "fig33": "ising-forest-plot",
    "ensemble_variance": "ensemble-variance-plot",
}
#: figure -> its config section under `ensembles`
ENSEMBLE_SECTIONS = {
    "fig30": "fig30",
    "fig32": "fig32",
    "fig33": "fig33",
    "ensemble_variance": "variance",
}
ENSEMBLES = config["ensembles"]


rule bagging_fit:
    output:
        data=res("ensembles/fig30.npz"),
        metrics=res("metrics/fig30.json"),
    log:
        res("logs/bagging_fit/fig30.log"),
    benchmark:
        res("benchmarks/bagging_fit/fig30.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(compute_params(ENSEMBLES["fig30"])),
    shell:
        "python -m mlreview bagging-perceptron --output data={output.data:q}"
        " metrics={output.metrics:q} --params {params.json:q} > {log:q} 2>&1"


rule ensemble_variance:
    output:
        data=res("ensembles/ensemble_variance.npz"),
        metrics=res("metrics/ensemble_variance.json"),
    log:
        res("logs/ensemble_variance/ensemble_variance.log"),
    benchmark:
        res("benchmarks/ensemble_variance/ensemble_variance.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ENSEMBLES["variance"]),
    shell:
        "python -m mlreview ensemble-variance --output data={output.data:q}"
        " metrics={output.metrics:q} --params {params.json:q} > {log:q} 2>&1"


rule iris_ensembles_fit:
    output:
        data=res("ensembles/fig32.npz"),
        metrics=res("metrics/fig32.json"),
    log:
        res("logs/iris_ensembles_fit/fig32.log"),
    benchmark:
        res("benchmarks/iris_ensembles_fit/fig32.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(compute_params(ENSEMBLES["fig32"])),
    shell:
        "python -m mlreview iris-ensembles --output data={output.data:q}"
        " metrics={output.metrics:q} --params {params.json:q} > {log:q} 2>&1"


rule ising_forest_fit:
    input:
        dataset=rules.ising2d_assemble.output.dataset,
    output:
        data=res("ensembles/fig33.npz"),
        metrics=res("metrics/fig33.json"),
    log:
        res("logs/ising_forest_fit/fig33.log"),
    benchmark:
        res("benchmarks/ising_forest_fit/fig33.tsv")
    conda:
        ENV
    threads: ENSEMBLES["fig33"]["threads"]
    resources:
        mem_mb=6000,
        runtime=30,
    params:
        json=as_json(compute_params(ENSEMBLES["fig33"])),
    shell:
        "python -m mlreview ising-forest --threads {threads} --input dataset={input.dataset:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising_forest_vs_logistic:
    input:
        forest=rules.ising_forest_fit.output.metrics,
        logistic=rules.ising_logistic_fit.output.metrics,
    output:
        metrics=res("metrics/fig33_vs_fig21.json"),
    log:
        res("logs/ising_forest_vs_logistic/fig33_vs_fig21.log"),
    benchmark:
        res("benchmarks/ising_forest_vs_logistic/fig33_vs_fig21.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "python -m mlreview ising-forest-vs-logistic --input forest={input.forest:q}"
        " logistic={input.logistic:q} --output metrics={output.metrics:q} > {log:q} 2>&1"


rule susy_xgboost_fit:
    input:
        parquet=rules.susy_prepare.output.parquet,
    output:
        data=res("ensembles/fig34.npz"),
        metrics=res("metrics/fig34.json"),
    log:
        res("logs/susy_xgboost_fit/fig34.log"),
    benchmark:
        res("benchmarks/susy_xgboost_fit/fig34.tsv")
    conda:
        ENV
    threads: ENSEMBLES["fig34"]["threads"]
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        json=as_json({k: v for k, v in ENSEMBLES["fig34"].items() if k != "tuning"}),
    shell:
        "python -m mlreview susy-xgboost --threads {threads} --input parquet={input.parquet:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule susy_xgboost_tune:
    input:
        parquet=rules.susy_prepare.output.parquet,
        # C48 compares with logistic regression on all 18 features (Figs 23, 25)
        logistic=res("metrics/susy_logistic_all.json"),
    output:
        data=res("ensembles/fig34_tuning.npz"),
        metrics=res("metrics/fig34_tuning.json"),
    log:
        res("logs/susy_xgboost_tune/fig34_tuning.log"),
    benchmark:
        res("benchmarks/susy_xgboost_tune/fig34_tuning.tsv")
    conda:
        ENV
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
        "python -m mlreview susy-xgboost-tune --threads {threads} --input parquet={input.parquet:q}"
        " logistic={input.logistic:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ensembles_plot:
    input:
        data=res("ensembles/{fig}.npz"),
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/ensembles_plot/{fig}.log"),
    benchmark:
        res("benchmarks/ensembles_plot/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(ENSEMBLE_PLOTS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: ENSEMBLE_PLOTS[w.fig],
        json=lambda w: as_json(ENSEMBLES[ENSEMBLE_SECTIONS[w.fig]]),
    shell:
        "python -m mlreview {params.step} --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule susy_xgboost_plot:
    input:
        data=rules.susy_xgboost_fit.output.data,
        tuning=rules.susy_xgboost_tune.output.data,
    output:
        pdf=res("figures/fig34.pdf"),
        png=res("figures/fig34.png"),
    log:
        res("logs/susy_xgboost_plot/fig34.log"),
    benchmark:
        res("benchmarks/susy_xgboost_plot/fig34.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ENSEMBLES["fig34"]),
    shell:
        "python -m mlreview susy-xgboost-plot --input data={input.data:q} tuning={input.tuning:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
