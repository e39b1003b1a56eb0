import type { ModelVersionEntity } from '../model-version.entity.js';
import type { GateKind, GateRule } from './gate-rule.js';

/** A dataset version in the candidate's training lineage, with what its quality report found. */
export interface TrainingDataFact {
  datasetVersionId: string;
  datasetName: string;
  version: number;
  /** null: no quality report (yet). */
  qualityVerdict: 'pass' | 'warn' | 'fail' | null;
  rowsWithPersonalData: number | null;
  personalDataTypes: Record<string, number>;
}

/** What gates may look at; each fact is loaded once, on first use. */
export interface GateFacts {
  candidate: ModelVersionEntity;
  trainingData(): Promise<TrainingDataFact[]>;
}

export interface GateOutcome {
  passed: boolean;
  /** One line for people. */
  detail: string;
  /** The figures the decision was made on. */
  figures: Record<string, unknown>;
}

/** One kind of promotion rule. */
export interface PromotionGate<K extends GateKind> {
  readonly kind: K;
  check(rule: Extract<GateRule, { kind: K }>, facts: GateFacts): Promise<GateOutcome>;
}

export function label(fact: TrainingDataFact): string {
  return `${fact.datasetName} v${fact.version}`;
}
