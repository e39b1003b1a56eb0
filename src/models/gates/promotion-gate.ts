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

/** A succeeded evaluation of the candidate, as gates read it. */
export interface EvaluationFact {
  evaluationId: string;
  finishedAt: Date;
  examples: number;
  metrics: Record<string, unknown>;
  /** Candidate minus baseline, per metric, when the evaluation compared with a baseline version. */
  differences: Record<string, { estimate: number; lower: number; upper: number; confidence: number }> | null;
}

export interface DatasetVersionRef {
  name: string;
  version: number;
}

/** What gates may look at; each fact is loaded once, on first use. */
export interface GateFacts {
  candidate: ModelVersionEntity;
  /** The version the alias points at now; null when it points nowhere. */
  current: ModelVersionEntity | null;
  trainingData(): Promise<TrainingDataFact[]>;
  /** The id of a dataset version of the project; null when there is no such version. */
  datasetVersionId(ref: DatasetVersionRef): Promise<string | null>;
  /** Dataset versions any job of the candidate's lineage trained or validated on. */
  lineageDataVersionIds(): Promise<Set<string>>;
  /** The candidate's latest succeeded evaluation on a dataset version, optionally against a baseline version. */
  evaluation(datasetVersionId: string, comparedWith?: string): Promise<EvaluationFact | null>;
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
