/** Gates that read the candidate's evaluations: a metric threshold, a significant improvement, held-out data. */
import type { EvaluationMetricGateDto, HeldOutEvaluationGateDto, ImprovesOnAliasGateDto } from './gate-rule.js';
import { compare } from './metric.gate.js';
import type { DatasetVersionRef, GateFacts, GateOutcome, PromotionGate } from './promotion-gate.js';

/** Metrics where smaller is better; every other metric (accuracy, f1, rSquared...) is better when larger. */
const LOWER_IS_BETTER = new Set(['logLoss', 'expectedCalibrationError', 'mae', 'mse', 'rmse', 'loss', 'perplexity']);

export function lowerIsBetter(metric: string): boolean {
  return LOWER_IS_BETTER.has(metric);
}

const refLabel = (ref: DatasetVersionRef) => `${ref.name} v${ref.version}`;

async function datasetOrFailure(
  facts: GateFacts,
  ref: DatasetVersionRef,
): Promise<{ id: string } | { failure: GateOutcome }> {
  const id = await facts.datasetVersionId(ref);
  if (id === null) {
    return {
      failure: { passed: false, detail: `there is no dataset version ${refLabel(ref)}`, figures: { dataset: ref } },
    };
  }
  return { id };
}

export class EvaluationMetricGate implements PromotionGate<'evaluation_metric'> {
  readonly kind = 'evaluation_metric';

  async check(rule: EvaluationMetricGateDto, facts: GateFacts): Promise<GateOutcome> {
    const dataset = await datasetOrFailure(facts, rule.dataset);
    if ('failure' in dataset) {
      return dataset.failure;
    }
    const evaluation = await facts.evaluation(dataset.id);
    const figures: Record<string, unknown> = {
      dataset: rule.dataset,
      metric: rule.metric,
      op: rule.op,
      threshold: rule.value,
      evaluationId: evaluation?.evaluationId ?? null,
      actual: null,
    };
    if (!evaluation) {
      return {
        passed: false,
        detail: `v${facts.candidate.version} has no succeeded evaluation on ${refLabel(rule.dataset)}`,
        figures,
      };
    }
    const actual = evaluation.metrics[rule.metric];
    figures.actual = actual ?? null;
    if (typeof actual !== 'number' || !Number.isFinite(actual)) {
      return { passed: false, detail: `the evaluation has no ${rule.metric}`, figures };
    }
    const passed = compare(actual, rule.op, rule.value);
    return {
      passed,
      detail: `${rule.metric} ${actual} on ${refLabel(rule.dataset)} ${passed ? 'meets' : 'does not meet'} ${rule.op} ${rule.value}`,
      figures,
    };
  }
}

export class ImprovesOnAliasGate implements PromotionGate<'improves_on_alias'> {
  readonly kind = 'improves_on_alias';

  async check(rule: ImprovesOnAliasGateDto, facts: GateFacts): Promise<GateOutcome> {
    const confidence = rule.confidence ?? 0.95;
    const figures: Record<string, unknown> = {
      dataset: rule.dataset,
      metric: rule.metric,
      confidence,
      currentVersion: facts.current?.version ?? null,
      evaluationId: null,
      difference: null,
    };
    if (facts.current === null) {
      return { passed: true, detail: 'the alias points at no version yet: there is nothing to improve on', figures };
    }
    if (facts.current.id === facts.candidate.id) {
      return { passed: true, detail: `v${facts.candidate.version} is already the alias's version`, figures };
    }
    const dataset = await datasetOrFailure(facts, rule.dataset);
    if ('failure' in dataset) {
      return dataset.failure;
    }
    const evaluation = await facts.evaluation(dataset.id, facts.current.id);
    if (!evaluation?.differences) {
      return {
        passed: false,
        detail: `no succeeded evaluation of v${facts.candidate.version} on ${refLabel(rule.dataset)} compares it with v${facts.current.version} (the alias's version): run one with baseline version ${facts.current.version}`,
        figures,
      };
    }
    figures.evaluationId = evaluation.evaluationId;
    const difference = evaluation.differences[rule.metric];
    if (!difference) {
      return { passed: false, detail: `the comparison has no ${rule.metric}`, figures };
    }
    figures.difference = difference;
    if (difference.confidence < confidence) {
      return {
        passed: false,
        detail: `the comparison's interval is at ${difference.confidence} confidence; the gate asks for ${confidence}`,
        figures,
      };
    }
    const lower = lowerIsBetter(rule.metric);
    const passed = lower ? difference.upper < 0 : difference.lower > 0;
    const interval = `[${difference.lower.toPrecision(4)}, ${difference.upper.toPrecision(4)}]`;
    return {
      passed,
      detail: passed
        ? `${rule.metric} ${lower ? 'falls' : 'rises'} by ${Math.abs(difference.estimate).toPrecision(4)} over v${facts.current.version}; the ${difference.confidence * 100}% interval of the difference ${interval} excludes zero`
        : `${rule.metric} is not significantly better than v${facts.current.version}'s: the ${difference.confidence * 100}% interval of the difference (candidate minus current) is ${interval}`,
      figures,
    };
  }
}

export class HeldOutEvaluationGate implements PromotionGate<'held_out_evaluation'> {
  readonly kind = 'held_out_evaluation';

  async check(rule: HeldOutEvaluationGateDto, facts: GateFacts): Promise<GateOutcome> {
    const dataset = await datasetOrFailure(facts, rule.dataset);
    if ('failure' in dataset) {
      return dataset.failure;
    }
    const used = (await facts.lineageDataVersionIds()).has(dataset.id);
    const evaluation = await facts.evaluation(dataset.id);
    const figures = { dataset: rule.dataset, usedByLineage: used, evaluationId: evaluation?.evaluationId ?? null };
    if (used) {
      return {
        passed: false,
        detail: `${refLabel(rule.dataset)} trained or validated a job of v${facts.candidate.version}'s lineage: it is not held out`,
        figures,
      };
    }
    if (!evaluation) {
      return {
        passed: false,
        detail: `v${facts.candidate.version} has no succeeded evaluation on ${refLabel(rule.dataset)}`,
        figures,
      };
    }
    return {
      passed: true,
      detail: `evaluated on ${refLabel(rule.dataset)}, which no job of its lineage trained or validated on`,
      figures,
    };
  }
}
