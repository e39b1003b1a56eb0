import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertUnreachable } from '../../platform/errors/error-codes.js';
import type { ModelVersionEntity } from '../model-version.entity.js';
import { GateFactsRepository } from './gate-facts.repository.js';
import { plainRule, type GateKind, type GateReport, type GateResult, type GateRule } from './gate-rule.js';
import { MetricGate } from './metric.gate.js';
import { NoPersonalDataGate } from './no-personal-data.gate.js';
import type { GateFacts, GateOutcome, PromotionGate, TrainingDataFact } from './promotion-gate.js';
import { TrainingDataQualityGate } from './training-data-quality.gate.js';

/** Runs an alias's gates against a candidate version and reports every rule, passed or not. */
@Injectable()
export class PromotionGateEvaluator {
  private readonly gates: { [K in GateKind]: PromotionGate<K> } = {
    training_data_quality_passed: new TrainingDataQualityGate(),
    no_personal_data: new NoPersonalDataGate(),
    metric: new MetricGate(),
  };

  constructor(private readonly facts: GateFactsRepository) {}

  async evaluate(
    manager: EntityManager,
    projectId: string,
    candidate: ModelVersionEntity,
    rules: GateRule[],
  ): Promise<GateReport> {
    let trainingData: Promise<TrainingDataFact[]> | undefined;
    const facts: GateFacts = {
      candidate,
      trainingData: () => (trainingData ??= this.facts.trainingData(manager, projectId, candidate.id)),
    };
    const results: GateResult[] = [];
    for (const rule of rules) {
      const outcome = await this.check(rule, facts);
      results.push({ kind: rule.kind, rule: plainRule(rule), ...outcome });
    }
    return { passed: results.every((result) => result.passed), results };
  }

  private check(rule: GateRule, facts: GateFacts): Promise<GateOutcome> {
    switch (rule.kind) {
      case 'training_data_quality_passed':
        return this.gates.training_data_quality_passed.check(rule, facts);
      case 'no_personal_data':
        return this.gates.no_personal_data.check(rule, facts);
      case 'metric':
        return this.gates.metric.check(rule, facts);
      default:
        return assertUnreachable(rule);
    }
  }
}
