/** The forward pass an evaluation scores with: a stored model version loaded in this worker. */
import { LoadedModel, ModelLoadError } from '../../trainer/inference/loaded-model.js';
import type { ModelFiles } from './evaluation-protocol.js';
import { EvaluationFailure, type EvaluatedModel } from './evaluation-run.js';

export function loadEvaluatedModel(files: ModelFiles, batchSize: number): Promise<EvaluatedModel> {
  let model: LoadedModel;
  try {
    model = LoadedModel.fromFiles(files, { batchSize });
  } catch (error) {
    if (error instanceof ModelLoadError) {
      return Promise.reject(new EvaluationFailure('model_unloadable', `The model cannot be loaded: ${error.message}`));
    }
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return Promise.resolve({
    labels: model.labels,
    classify: (rows) => Promise.resolve(model.classify(rows).map((row) => Float32Array.from(row.probabilities))),
    regress: (rows) => Promise.resolve(model.regress(rows)),
    languageModelStats: (rows) => Promise.resolve(model.languageModelStats(rows)),
    dispose: () => model.dispose(),
  });
}
