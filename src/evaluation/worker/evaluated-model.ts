/** The forward pass an evaluation scores with: a stored model version loaded in this worker. */
import type { ModelFiles } from './evaluation-protocol.js';
import { EvaluationFailure, type EvaluatedModel } from './evaluation-run.js';

export function loadEvaluatedModel(files: ModelFiles): Promise<EvaluatedModel> {
  return Promise.reject(
    new EvaluationFailure('forward_unavailable', `No forward pass is available for ${String(files.manifest.family)}`),
  );
}
