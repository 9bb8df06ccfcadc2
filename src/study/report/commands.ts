// The commands the report names when a section has no data: each missing part says how to fill it.

/** Commands to run, in order; `quick` is a faster alternative to all of them. */
export interface Fill {
  commands: string[];
  quick?: string;
}

export interface FillCommands {
  study: Fill;
  timings: Fill;
  memory: Fill;
  curves: Fill;
  featureVariants: Fill;
  widthVariants: Fill;
  metaRuns: Fill;
  metaGeneralization: Fill;
}

export function fillCommands(dbPath: string): FillCommands {
  const db = `--db ${dbPath}`;
  const base = 'lopt study --tasks fmnist-mlp,cifar10-conv --optimizers sgd,sgdm,adam,nadamw,small_fc_lopt,nn_adam,fc_lopt,rnn_fc_lopt';
  return {
    study: { commands: [`${base} --budget N --seeds 5 ${db}`], quick: `lopt study --preset smoke ${db}` },
    // Timing includes the batch-size and width sweeps unless --no-sweeps is given.
    timings: { commands: [`${base} --phases overhead ${db}`] },
    memory: { commands: [`${base} --phases memory ${db}`] },
    curves: { commands: [`${base} --phases search,eval ${db}`] },
    featureVariants: { commands: [`lopt study --tasks fmnist-mlp --variants "features=m_0.9,m_rms_all,adafact,adafact_m_mul,union" --meta-budget-minutes M ${db}`] },
    widthVariants: { commands: [`lopt study --tasks fmnist-mlp --variants "hidden=2,4,8,16,32" --meta-budget-minutes M ${db}`] },
    metaRuns: { commands: [
      'lopt meta-train --lopt small_fc_lopt --task fmnist-mlp --out DIR',
      `lopt report ${db} --out REPORT_DIR --runs DIR`,
    ] },
    metaGeneralization: { commands: [
      'lopt meta-train --lopt small_fc_lopt --task fmnist-mlp --out DIR',
      'lopt meta-eval --run DIR --tasks fmnist-mlp,imagenet16-mlp,cifar10-16-conv,cifar10-ae,text-lstm-lm --every K',
      `lopt report ${db} --out REPORT_DIR --runs DIR`,
    ] },
  };
}
