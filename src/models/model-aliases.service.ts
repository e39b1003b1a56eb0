import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository, type EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { hasScope } from '../auth/scopes.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { paginate, type PageQueryDto } from '../platform/http/pagination.js';
import { AliasHistoryEntity, type AliasMoveKind } from './alias-history.entity.js';
import { plainRule, type GateReport, type GateRule } from './gates/gate-rule.js';
import { PromotionGateEvaluator } from './gates/promotion-gate-evaluator.js';
import { ModelAliasEntity } from './model-alias.entity.js';
import {
  AliasDto,
  AliasGatesDto,
  AliasHistoryEntryDto,
  type AliasHistoryListDto,
  type AliasListDto,
  type PromoteDto,
  type PromotionDto,
} from './model-alias.dto.js';
import { ModelVersionEntity } from './model-version.entity.js';
import { deletedVersionError, ModelsService } from './models.service.js';
import { WebhookPublisher } from '../webhooks/webhook-publisher.js';
import { RegisteredModelEntity } from './registered-model.entity.js';

/**
 * Aliases of a model, their gates and their history. Every change takes the model row's lock
 * first (as version deletion does), so an alias never points at a version being deleted and the
 * moves of one alias are totally ordered.
 */
@Injectable()
export class ModelAliasesService {
  constructor(
    @InjectRepository(RegisteredModelEntity) private readonly models: Repository<RegisteredModelEntity>,
    @InjectRepository(ModelAliasEntity) private readonly aliases: Repository<ModelAliasEntity>,
    @InjectRepository(AliasHistoryEntity) private readonly history: Repository<AliasHistoryEntity>,
    @InjectRepository(ModelVersionEntity) private readonly versions: Repository<ModelVersionEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly modelsService: ModelsService,
    private readonly evaluator: PromotionGateEvaluator,
    private readonly webhooks: WebhookPublisher,
  ) {}

  async listAliases(principal: Principal, modelName: string, page: PageQueryDto): Promise<AliasListDto> {
    const model = await this.model(principal, modelName);
    const result = await paginate(
      this.aliases.createQueryBuilder('alias').where('alias.modelId = :modelId', { modelId: model.id }),
      page,
    );
    return {
      data: await Promise.all(result.data.map((alias) => this.aliasDto(model, alias))),
      nextCursor: result.nextCursor,
    };
  }

  /** Where the alias points now, or (with `at`) where it pointed at that instant. */
  async getAlias(principal: Principal, modelName: string, aliasName: string, at?: string): Promise<AliasDto> {
    const model = await this.model(principal, modelName);
    const alias = await this.aliases.findOneBy({ modelId: model.id, name: aliasName });
    if (!alias) {
      throw DomainError.notFound(`Alias of model ${modelName}`, aliasName);
    }
    if (at === undefined) {
      if (!alias.modelVersionId) {
        throw DomainError.notFound(`Alias of model ${modelName}`, `${aliasName} (it points at no version)`);
      }
      return this.aliasDto(model, alias);
    }
    const instant = new Date(at);
    if (Number.isNaN(instant.getTime())) {
      throw DomainError.validation('at must be an ISO 8601 date-time', [{ field: 'at', reason: 'not a date-time' }]);
    }
    const move = await this.history
      .createQueryBuilder('move')
      .where('move.aliasId = :aliasId', { aliasId: alias.id })
      .andWhere(`move.kind <> 'blocked'`)
      .andWhere('move.createdAt <= :instant', { instant })
      .orderBy('move.createdAt', 'DESC')
      .getOne();
    if (!move || move.toVersionId === null) {
      throw DomainError.notFound(`Alias of model ${modelName}`, `${aliasName} at ${instant.toISOString()}`);
    }
    return {
      name: alias.name,
      modelName: model.name,
      version: move.toVersion,
      modelVersionId: move.toVersionId,
      movedAt: move.createdAt.toISOString(),
      movedByKeyId: move.actorKeyId,
      gates: alias.gates,
    };
  }

  async listHistory(
    principal: Principal,
    modelName: string,
    aliasName: string,
    page: PageQueryDto,
  ): Promise<AliasHistoryListDto> {
    const model = await this.model(principal, modelName);
    const alias = await this.aliases.findOneBy({ modelId: model.id, name: aliasName });
    if (!alias) {
      throw DomainError.notFound(`Alias of model ${modelName}`, aliasName);
    }
    const result = await paginate(
      this.history.createQueryBuilder('move').where('move.aliasId = :aliasId', { aliasId: alias.id }),
      page,
    );
    return { data: result.data.map((entry) => AliasHistoryEntryDto.from(entry)), nextCursor: result.nextCursor };
  }

  async getGates(principal: Principal, modelName: string, aliasName: string): Promise<AliasGatesDto> {
    const model = await this.model(principal, modelName);
    const alias = await this.aliases.findOneBy({ modelId: model.id, name: aliasName });
    if (!alias) {
      throw DomainError.notFound(`Alias of model ${modelName}`, aliasName);
    }
    return { alias: alias.name, gates: alias.gates };
  }

  /** Replaces the gates; creates the alias (pointing nowhere) if it does not exist yet. */
  async putGates(
    principal: Principal,
    modelName: string,
    aliasName: string,
    gates: GateRule[],
  ): Promise<AliasGatesDto> {
    return this.dataSource.transaction(async (manager) => {
      const model = await this.modelsService.lockedModel(manager, principal, modelName);
      const alias = await this.aliasRow(manager, model, aliasName);
      alias.gates = gates.map(plainRule);
      await manager.getRepository(ModelAliasEntity).update({ id: alias.id }, { gates: alias.gates });
      return { alias: alias.name, gates: alias.gates };
    });
  }

  /** Stops the alias pointing anywhere; its gates and history stay. */
  async removeAlias(principal: Principal, modelName: string, aliasName: string): Promise<AliasHistoryEntryDto> {
    return this.dataSource.transaction(async (manager) => {
      const model = await this.modelsService.lockedModel(manager, principal, modelName);
      const alias = await manager.getRepository(ModelAliasEntity).findOneBy({ modelId: model.id, name: aliasName });
      if (!alias?.modelVersionId) {
        throw DomainError.notFound(`Alias of model ${modelName}`, aliasName);
      }
      const from = await manager.getRepository(ModelVersionEntity).findOneByOrFail({ id: alias.modelVersionId });
      await manager.getRepository(ModelAliasEntity).update({ id: alias.id }, { modelVersionId: null });
      const entry = await this.record(manager, principal, model, alias, 'removed', from, null, null, null);
      return AliasHistoryEntryDto.from(entry);
    });
  }

  /**
   * Moves the alias to a version if every gate passes. A blocked attempt is recorded, then refused
   * with the report (409). `force` (admin scope and a reason) moves it anyway, recorded as forced.
   */
  async promote(
    principal: Principal,
    modelName: string,
    aliasName: string,
    request: PromoteDto,
  ): Promise<PromotionDto> {
    const force = request.force ?? false;
    const reason = request.reason?.trim() ? request.reason.trim() : null;
    if (force && !hasScope(principal.scopes, 'admin')) {
      throw new DomainError(ErrorCode.InsufficientScope, 'Forcing a promotion needs the admin scope', [
        { field: 'force', reason: 'requires scope admin' },
      ]);
    }
    if (force && reason === null) {
      throw DomainError.validation('A forced promotion needs a reason', [
        { field: 'reason', reason: 'must be a non-empty text when force is true' },
      ]);
    }
    const outcome = await this.dataSource.transaction(async (manager) => {
      const model = await this.modelsService.lockedModel(manager, principal, modelName);
      const candidate = await manager
        .getRepository(ModelVersionEntity)
        .findOneBy({ modelId: model.id, version: request.version });
      if (!candidate) {
        throw DomainError.notFound(`Version of model ${modelName}`, String(request.version));
      }
      if (candidate.state === 'deleted') {
        throw deletedVersionError(model.name, candidate);
      }
      const alias = await this.aliasRow(manager, model, aliasName);
      const from = alias.modelVersionId
        ? await manager.getRepository(ModelVersionEntity).findOneByOrFail({ id: alias.modelVersionId })
        : null;
      const report = await this.evaluator.evaluate(manager, principal.projectId, candidate, alias.gates, from);
      const kind: AliasMoveKind = force ? 'forced' : report.passed ? 'promoted' : 'blocked';
      if (kind !== 'blocked') {
        await manager.getRepository(ModelAliasEntity).update({ id: alias.id }, { modelVersionId: candidate.id });
        alias.modelVersionId = candidate.id;
      }
      const entry = await this.record(manager, principal, model, alias, kind, from, candidate, reason, report);
      if (kind === 'blocked') {
        await this.webhooks.publish(
          model.projectId,
          'alias.promotion_blocked',
          {
            modelName: model.name,
            alias: alias.name,
            modelVersionId: candidate.id,
            version: candidate.version,
            reasons: report.results
              .filter((result) => !result.passed)
              .map((result) => ({ check: result.kind, message: result.detail })),
          },
          { manager },
        );
      } else {
        await this.webhooks.publish(
          model.projectId,
          'alias.promoted',
          {
            modelName: model.name,
            alias: alias.name,
            modelVersionId: candidate.id,
            version: candidate.version,
            previousModelVersionId: from?.id ?? null,
          },
          { manager },
        );
      }
      return { model, alias, kind, report, entry };
    });
    if (outcome.kind === 'blocked') {
      const failed = outcome.report.results.filter((result) => !result.passed).length;
      throw new DomainError(
        ErrorCode.PromotionBlocked,
        `${modelName} v${request.version} was not promoted to ${aliasName}: ${failed} of ${outcome.report.results.length} gate(s) failed`,
        outcome.report.results.map((result, index) => ({
          field: `gates.${index}`,
          reason: result.detail,
          kind: result.kind,
          passed: result.passed,
          figures: result.figures,
          historyEntryId: outcome.entry.id,
        })),
      );
    }
    return {
      alias: await this.aliasDto(outcome.model, outcome.alias),
      kind: outcome.kind === 'forced' ? 'forced' : 'promoted',
      gateReport: outcome.report,
      historyEntry: AliasHistoryEntryDto.from(outcome.entry),
    };
  }

  private async model(principal: Principal, name: string): Promise<RegisteredModelEntity> {
    const model = await this.models.findOneBy({ projectId: principal.projectId, name });
    if (!model) {
      throw DomainError.notFound('Model', name);
    }
    return model;
  }

  /** The alias row, created (pointing nowhere, no gates) if missing; the caller holds the model lock. */
  private async aliasRow(
    manager: EntityManager,
    model: RegisteredModelEntity,
    name: string,
  ): Promise<ModelAliasEntity> {
    const repository = manager.getRepository(ModelAliasEntity);
    const existing = await repository.findOneBy({ modelId: model.id, name });
    if (existing) {
      return existing;
    }
    return repository.save(
      repository.create({ projectId: model.projectId, modelId: model.id, name, modelVersionId: null, gates: [] }),
    );
  }

  /**
   * Appends a history row. Its time is at least a millisecond after the alias's previous entry,
   * so entries of one alias never tie and time travel has one answer for every instant.
   */
  private async record(
    manager: EntityManager,
    principal: Principal,
    model: RegisteredModelEntity,
    alias: ModelAliasEntity,
    kind: AliasMoveKind,
    from: ModelVersionEntity | null,
    to: ModelVersionEntity | null,
    reason: string | null,
    report: GateReport | null,
  ): Promise<AliasHistoryEntity> {
    const [{ at }] = await manager.query<Array<{ at: Date }>>(
      `SELECT greatest(date_trunc('milliseconds', clock_timestamp()),
                       coalesce(max(created_at) + interval '1 millisecond', '-infinity'::timestamptz)) AS at
         FROM alias_history WHERE alias_id = $1`,
      [alias.id],
    );
    const repository = manager.getRepository(AliasHistoryEntity);
    return repository.save(
      repository.create({
        projectId: model.projectId,
        modelId: model.id,
        aliasId: alias.id,
        aliasName: alias.name,
        kind,
        fromVersionId: from?.id ?? null,
        fromVersion: from?.version ?? null,
        toVersionId: to?.id ?? null,
        toVersion: to?.version ?? null,
        actorKeyId: principal.apiKeyId,
        reason,
        gateReport: report,
        createdAt: at,
      }),
    );
  }

  private async aliasDto(model: RegisteredModelEntity, alias: ModelAliasEntity): Promise<AliasDto> {
    const version = alias.modelVersionId ? await this.versions.findOneBy({ id: alias.modelVersionId }) : null;
    const move = alias.modelVersionId
      ? await this.history.findOne({
          where: { aliasId: alias.id, toVersionId: alias.modelVersionId, kind: In(['promoted', 'forced']) },
          order: { createdAt: 'DESC' },
        })
      : null;
    return {
      name: alias.name,
      modelName: model.name,
      version: version?.version ?? null,
      modelVersionId: version?.id ?? null,
      movedAt: move?.createdAt.toISOString() ?? null,
      movedByKeyId: move?.actorKeyId ?? null,
      gates: alias.gates,
    };
  }
}
