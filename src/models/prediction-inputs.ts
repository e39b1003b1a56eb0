/**
 * Checks prediction inputs against what a model version reads: its input fields as its manifest
 * states them (the training schema; for imported models the head's default), with the types its
 * preprocessing expects. Problems name the input and field (`inputs.2.age`).
 */
import { DATASET_TASKS, defaultSchema, type DatasetSchema, type DatasetTask } from '../datasets/dataset-types.js';
import type { ErrorDetail } from '../platform/errors/domain-error.js';
import type { FeaturePreprocessing } from '../trainer/runtime/examples.js';

export interface ModelInputs {
  dataTask: DatasetTask;
  schema: DatasetSchema;
  /** mlp: how each field is encoded; null for text models. */
  features: FeaturePreprocessing | null;
}

/** What a version's manifest says it reads. */
export function modelInputsOf(manifest: Record<string, unknown>, task: string): ModelInputs {
  const stated = manifest.dataTask;
  const dataTask = (
    typeof stated === 'string' && (DATASET_TASKS as readonly string[]).includes(stated) ? stated : task
  ) as DatasetTask;
  const schema = manifest.schema as DatasetSchema | undefined;
  const features = manifest.features as FeaturePreprocessing | null | undefined;
  return {
    dataTask,
    schema: schema && Array.isArray(schema.inputFields) ? schema : defaultSchema(dataTask),
    features: features && Array.isArray(features.fields) ? features : null,
  };
}

const isScalar = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
const isNumeric = (value: unknown) =>
  (typeof value === 'number' && Number.isFinite(value)) ||
  (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)));

function checkField(model: ModelInputs, field: string, value: unknown, path: string): ErrorDetail | null {
  if (value === undefined || value === null) {
    return { field: path, reason: 'is required: an input field of this model' };
  }
  const feature = model.features?.fields.find((candidate) => candidate.field === field);
  if (feature) {
    switch (feature.kind) {
      case 'numeric':
        return isNumeric(value) ? null : { field: path, reason: 'must be a number' };
      case 'categorical':
        return isScalar(value) ? null : { field: path, reason: 'must be a string, number or boolean' };
      case 'vector':
        return Array.isArray(value) &&
          value.length === feature.length &&
          value.every((element) => typeof element === 'number' && Number.isFinite(element))
          ? null
          : { field: path, reason: `must be an array of ${feature.length} finite numbers` };
      default: {
        const unreachable: never = feature;
        throw new Error(`unknown feature kind ${JSON.stringify(unreachable)}`);
      }
    }
  }
  if (model.dataTask === 'chat') {
    const valid =
      Array.isArray(value) &&
      value.every(
        (message) =>
          message !== null &&
          typeof message === 'object' &&
          typeof (message as { role?: unknown }).role === 'string' &&
          typeof (message as { content?: unknown }).content === 'string',
      );
    return valid ? null : { field: path, reason: 'must be an array of messages, each { role, content } strings' };
  }
  return isScalar(value) ? null : { field: path, reason: 'must be a string' };
}

/** Every problem of every input; empty when all fit the model. */
export function inputProblems(model: ModelInputs, inputs: ReadonlyArray<Record<string, unknown>>): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const known = new Set([...model.schema.inputFields, ...(model.schema.labelField ? [model.schema.labelField] : [])]);
  inputs.forEach((input, index) => {
    for (const field of model.schema.inputFields) {
      const problem = checkField(model, field, input[field], `inputs.${index}.${field}`);
      if (problem) {
        problems.push(problem);
      }
    }
    for (const key of Object.keys(input)) {
      if (!known.has(key)) {
        problems.push({
          field: `inputs.${index}.${key}`,
          reason: `is not an input field of this model (its input fields: ${model.schema.inputFields.join(', ')})`,
        });
      }
    }
  });
  return problems;
}
