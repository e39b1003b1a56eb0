/**
 * How many rows each step of a spec will write, from the parent's row count alone, so that a
 * transform whose output is certain to pass the limit is refused before any work starts.
 */
import { assertUnreachable } from '../../platform/errors/error-codes.js';
import type { TransformOp, TransformStep } from './transform-types.js';

export interface StepEstimate {
  step: number;
  op: TransformOp;
  /** Rows the step writes: exact when `exact`, else an upper bound (or unknown: null). */
  rows: number | null;
  exact: boolean;
}

/**
 * Row counts per step. Steps that keep every row keep the count; augmentation multiplies it by
 * 1 + copies (every row with text is augmented, so this is exact for text datasets); filters
 * (dedupe, drop_rows, drop_invalid, dropUnmapped, label-restricted augmentation) make it an upper
 * bound; oversampling depends on the class counts and makes it unknown.
 */
export function estimateTransformRows(
  spec: readonly TransformStep[],
  parentRows: number,
  parentExact = true,
): StepEstimate[] {
  let rows: number | null = parentRows;
  let exact = parentExact;
  return spec.map((step, index) => {
    switch (step.op) {
      case 'clean':
      case 'redact':
      case 'normalize':
        break;
      case 'map_labels':
        exact &&= !step.dropUnmapped;
        break;
      case 'dedupe':
      case 'drop_rows':
      case 'drop_invalid':
      case 'split':
        exact = false;
        break;
      case 'augment_text':
        rows = rows === null ? null : rows * (1 + step.copies);
        exact &&= step.labels === undefined;
        break;
      case 'augment_numeric':
        rows = rows === null ? null : rows * (1 + step.copies);
        break;
      case 'oversample':
        rows = null;
        exact = false;
        break;
      default:
        assertUnreachable(step);
    }
    return { step: index, op: step.op, rows, exact };
  });
}

/** The first step whose exactly known output passes `maxRows`, if any. */
export function certainOverflow(estimates: readonly StepEstimate[], maxRows: number): StepEstimate | undefined {
  return estimates.find((estimate) => estimate.exact && estimate.rows !== null && estimate.rows > maxRows);
}
