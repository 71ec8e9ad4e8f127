// `npm run model -- <command>`: the model registry from a terminal (GCS models/ in the configured
// MODELS_BUCKET, or FEATURES_BUCKET). Configuration comes from the environment like the functions'
// (shared/config.ts): in Google Cloud, GOOGLE_CLOUD_PROJECT and the bucket; on the local stack, also
// STORAGE_EMULATOR_HOST (the GCS stand-in's host:port).
//
//   list                               every version: data interval, holdout AUC, baseline AUC; * = champion
//   show [VERSION]                     one version (default: the champion): task, features, metrics, decisions
//   rollback [--to VERSION] [--reason TEXT]
//                                      point the champion back at the previous one (or at VERSION)
//   --json                             machine-readable output

import { parseArgs } from 'node:util';
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { ModelError } from '../shared/model/model-error.js';
import { createModelRuntime } from '../shared/runtime/model-runtime.js';

const USAGE = `usage: npm run model -- list | show [VERSION] | rollback [--to VERSION] [--reason TEXT]  [--json]`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    to: { type: 'string' },
    reason: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const fixed = (v: number | null | undefined) =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : '-';

async function main(): Promise<void> {
  const [command, argument] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return;
  }
  const config = loadConfig();
  const { registry, retrain } = createModelRuntime(
    config,
    createLogger({ level: 'error', name: 'model-cli' }),
  );
  const print = (human: string, machine: unknown) =>
    console.log(values.json ? JSON.stringify(machine, null, 2) : human);

  switch (command) {
    case 'list': {
      const [versions, champion] = await Promise.all([registry.versions(), registry.champion()]);
      const rows = [];
      for (const version of versions) {
        const [model, metrics] = await Promise.all([registry.model(version), registry.metrics(version)]);
        rows.push({
          version,
          champion: champion?.pointer.version === version,
          data_interval: [model?.training.data_interval_start, model?.training.data_interval_end],
          auc: metrics?.holdout.auc ?? null,
          baseline_auc: metrics?.baseline.auc ?? null,
          rows_train: metrics?.train.rows ?? null,
        });
      }
      const lines = rows.map(
        (r) =>
          `${r.champion ? '*' : ' '} ${r.version}  ${r.data_interval[0]} .. ${r.data_interval[1]}  AUC ${fixed(r.auc)}  baseline ${fixed(r.baseline_auc)}  train rows ${r.rows_train ?? '-'}`,
      );
      print(lines.length === 0 ? `no models in gs://${registry.bucket}/models/` : lines.join('\n'), rows);
      return;
    }
    case 'show': {
      const champion = await registry.champion();
      const version = argument ?? champion?.pointer.version;
      if (version === undefined) throw new ModelError('no_champion', 'no champion yet; name a version');
      const [model, metrics, decisions] = await Promise.all([
        registry.requireModel(version),
        registry.metrics(version),
        registry.decisions(version),
      ]);
      const weights = model.features
        .map((f, j) => ({ f, w: model.weights[j]! }))
        .sort((a, b) => Math.abs(b.w) - Math.abs(a.w));
      const human = [
        `${version}${champion?.pointer.version === version ? ' (champion)' : ''}  ${model.format}`,
        `task        engine_temp_c > ${model.task.threshold_c} °C within ${model.task.horizon_s / 60} min`,
        `trained on  ${model.training.data_interval_start} .. ${model.training.data_interval_end} (run ${model.training.run_id}), ` +
          `${model.training.rows_train} train rows before ${model.training.train_end}, ${model.training.rows_holdout} holdout rows from ${model.training.holdout_start}`,
        `holdout     AUC ${fixed(metrics?.holdout.auc)} (baseline ${metrics?.baseline.feature} ${fixed(metrics?.baseline.auc)}), ` +
          `precision ${fixed(metrics?.holdout.precision)} recall ${fixed(metrics?.holdout.recall)} at ${model.decision_threshold}, Brier ${fixed(metrics?.holdout.brier)}`,
        `weights     ${weights
          .slice(0, 8)
          .map(({ f, w }) => `${f} ${w >= 0 ? '+' : ''}${w.toFixed(3)}`)
          .join(', ')}${weights.length > 8 ? `, … (${weights.length} features)` : ''}`,
        ...(decisions.length === 0
          ? ['decisions   none']
          : decisions.map((d) => `decision    ${d.at} ${d.kind}: ${d.reasons.join('; ')}`)),
      ].join('\n');
      print(human, { model, metrics, decisions, champion: champion?.pointer ?? null });
      return;
    }
    case 'rollback': {
      const result = await retrain.rollback({
        ...(values.to === undefined ? {} : { to: values.to }),
        ...(values.reason === undefined ? {} : { reason: values.reason }),
      });
      print(`champion: ${result.from} → ${result.champion.version} (decision ${result.decision_id})`, result);
      return;
    }
    default:
      throw new ModelError('invalid_request', `unknown command ${command}\n${USAGE}`);
  }
}

main().catch((error: unknown) => {
  const code = error instanceof ModelError ? ` [${error.code}]` : '';
  console.error(`model${code}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
