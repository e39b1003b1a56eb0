import type { MetricGateDto, MetricOp } from './gate-rule.js';
import type { GateFacts, GateOutcome, PromotionGate } from './promotion-gate.js';

export function compare(actual: number, op: MetricOp, threshold: number): boolean {
  switch (op) {
    case '>=':
      return actual >= threshold;
    case '>':
      return actual > threshold;
    case '<=':
      return actual <= threshold;
    case '<':
      return actual < threshold;
    case '==':
      return actual === threshold;
  }
}

/** A metric of the candidate against a threshold; a missing or non-numeric metric fails. */
export class MetricGate implements PromotionGate<'metric'> {
  readonly kind = 'metric';

  check(rule: MetricGateDto, facts: GateFacts): Promise<GateOutcome> {
    const metrics = facts.candidate.metrics;
    const actual = Object.hasOwn(metrics, rule.metric) ? metrics[rule.metric] : undefined;
    const figures = {
      source: rule.source,
      metric: rule.metric,
      op: rule.op,
      threshold: rule.value,
      actual: actual ?? null,
    };
    if (typeof actual !== 'number' || !Number.isFinite(actual)) {
      const known = Object.keys(metrics).filter((name) => typeof metrics[name] === 'number');
      return Promise.resolve({
        passed: false,
        detail: `the training metrics have no ${rule.metric}${known.length > 0 ? ` (they have ${known.join(', ')})` : ''}`,
        figures,
      });
    }
    const passed = compare(actual, rule.op, rule.value);
    return Promise.resolve({
      passed,
      detail: `training ${rule.metric} ${actual} ${passed ? 'meets' : 'does not meet'} ${rule.op} ${rule.value}`,
      figures,
    });
  }
}
