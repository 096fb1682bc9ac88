# Section XIV: variational methods and mean-field theory - EM for two biased coins (spec 4.1)
# and the mean-field Ising model against Onsager and the Monte Carlo data (spec 4.2). Both are
# project figures (the review's Fig 59 is a schematic).

#: project figure -> its config section under `mean_field` (the steps: "<name with dashes>",
#: drawn by "<name with dashes>-plot")
MEAN_FIELD_SECTIONS = {"em_coins": "em_coins", "mean_field": "ising"}


rule em_coins:
    output:
        data=res("mean_field/em_coins.npz"),
        metrics=res("metrics/em_coins.json"),
    log:
        res("logs/em_coins/em_coins.log"),
    benchmark:
        res("benchmarks/em_coins/em_coins.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["mean_field"]["em_coins"]),
    shell:
        "python -m mlreview em-coins --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule mean_field_solve:
    input:
        validation=rules.ising2d_validate.output.data,
    output:
        data=res("mean_field/mean_field.npz"),
        metrics=res("metrics/mean_field.json"),
    log:
        res("logs/mean_field_solve/mean_field.log"),
    benchmark:
        res("benchmarks/mean_field_solve/mean_field.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["mean_field"]["ising"]),
    shell:
        "python -m mlreview mean-field --input validation={input.validation:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule mean_field_plot:
    input:
        data=res("mean_field/{name}.npz"),
    output:
        pdf=res("figures/{name}.pdf"),
        png=res("figures/{name}.png"),
    log:
        res("logs/mean_field_plot/{name}.log"),
    benchmark:
        res("benchmarks/mean_field_plot/{name}.tsv")
    wildcard_constraints:
        name="|".join(MEAN_FIELD_SECTIONS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: w.name.replace("_", "-"),
        json=lambda w: as_json(config["mean_field"][MEAN_FIELD_SECTIONS[w.name]]),
    shell:
        "python -m mlreview {params.step}-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
