import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Clock } from '../platform/clock.js';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { paginate } from '../platform/http/pagination.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { displayPrefixOf, generateApiKeySecret, hashApiKeySecret, looksLikeApiKey } from './api-key-secret.js';
import {
  ApiKeyDto,
  ApiKeyListDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  CreateProjectDto,
  ListApiKeysQueryDto,
  MeDto,
  ProjectDto,
  ProjectListDto,
} from './auth.dto.js';
import { PageQueryDto } from '../platform/http/pagination.js';
import type { Principal } from './principal.js';
import { ProjectEntity } from './project.entity.js';
import { hasScope, INSTANCE_SCOPES, type Scope } from './scopes.js';

/** lastUsedAt is written at most this often per key, so authentication is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * A verified key is trusted for this long without asking the database again. Every query is a
 * round trip that costs more than the rest of a small request (see docs/security.md). Revoking a
 * key takes effect at once on the replica that revokes it, and within this time on the others.
 */
const AUTH_CACHE_MS = 5_000;
const AUTH_CACHE_ENTRIES = 10_000;

interface CachedKey {
  principal: Principal;
  expiresAt: Date | null;
  verifiedAt: number;
}

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  /** By secret hash: never the secret itself. */
  private readonly verified = new Map<string, CachedKey>();

  constructor(
    @InjectRepository(ProjectEntity) private readonly projects: Repository<ProjectEntity>,
    @InjectRepository(ApiKeyEntity) private readonly apiKeys: Repository<ApiKeyEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Resolves a bearer token to its caller; every failure is the same 401 but for the reason given. */
  async authenticate(token: string): Promise<Principal> {
    if (!looksLikeApiKey(token)) {
      throw unauthenticated('The API key is malformed');
    }
    const secretHash = hashApiKeySecret(token);
    const cached = this.verified.get(secretHash);
    const nowMs = this.clock.now().getTime();
    if (cached && nowMs - cached.verifiedAt < AUTH_CACHE_MS) {
      if (cached.expiresAt && cached.expiresAt.getTime() <= nowMs) {
        this.verified.delete(secretHash);
        throw unauthenticated('The API key has expired');
      }
      return cached.principal;
    }
    const key = await this.apiKeys.findOne({
      where: { secretHash },
      relations: { project: true },
    });
    if (!key || !key.project) {
      throw unauthenticated('The API key is not valid');
    }
    const now = this.clock.now();
    if (key.revokedAt) {
      throw unauthenticated('The API key has been revoked');
    }
    if (key.expiresAt && key.expiresAt <= now) {
      throw unauthenticated('The API key has expired');
    }
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.apiKeys.update({ id: key.id }, { lastUsedAt: now });
    }
    const principal: Principal = {
      apiKeyId: key.id,
      apiKeyName: key.name,
      projectId: key.projectId,
      projectName: key.project.name,
      isRootProject: key.project.isRoot,
      scopes: key.scopes as Scope[],
    };
    if (this.verified.size >= AUTH_CACHE_ENTRIES) {
      // Maps iterate in insertion order: drop the oldest entry.
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(secretHash, { principal, expiresAt: key.expiresAt, verifiedAt: now.getTime() });
    return principal;
  }

  /** Forget cached verifications of a key (revoked here). */
  private forget(apiKeyId: string): void {
    for (const [hash, entry] of this.verified) {
      if (entry.principal.apiKeyId === apiKeyId) {
        this.verified.delete(hash);
      }
    }
  }

  async me(principal: Principal): Promise<MeDto> {
    const key = await this.apiKeys.findOneOrFail({ where: { id: principal.apiKeyId }, relations: { project: true } });
    return { apiKey: ApiKeyDto.from(key, this.clock.now()), project: ProjectDto.from(key.project as ProjectEntity) };
  }

  async createProject(principal: Principal, request: CreateProjectDto): Promise<ProjectDto> {
    this.requireInstanceAdmin(principal);
    const existing = await this.projects.findOne({ where: { name: request.name } });
    if (existing) {
      throw new DomainError(ErrorCode.Conflict, `A project named ${request.name} already exists`, [
        { field: 'name', reason: 'already taken' },
      ]);
    }
    const project = await this.projects.save(
      this.projects.create({ name: request.name, description: request.description ?? '', isRoot: false }),
    );
    return ProjectDto.from(project);
  }

  async listProjects(principal: Principal, page: PageQueryDto): Promise<ProjectListDto> {
    const query = this.projects.createQueryBuilder('project');
    if (!principal.isRootProject) {
      query.where('project.id = :projectId', { projectId: principal.projectId });
    }
    const result = await paginate(query, page);
    return { data: result.data.map((project) => ProjectDto.from(project)), nextCursor: result.nextCursor };
  }

  async getProject(principal: Principal, projectId: string): Promise<ProjectDto> {
    return ProjectDto.from(await this.visibleProject(principal, projectId));
  }

  async createApiKey(principal: Principal, request: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const project = await this.visibleProject(principal, request.projectId ?? principal.projectId);
    const instanceScopes = request.scopes.filter((scope) => INSTANCE_SCOPES.includes(scope));
    if (!project.isRoot && instanceScopes.length > 0) {
      throw DomainError.validation(`${instanceScopes.join(', ')} can only be granted to keys of the root project`, [
        { field: 'scopes', reason: 'instance-wide scope outside the root project' },
      ]);
    }
    const now = this.clock.now();
    if (request.expiresAt && request.expiresAt <= now) {
      throw DomainError.validation('expiresAt must be in the future', [{ field: 'expiresAt', reason: 'in the past' }]);
    }
    const secret = generateApiKeySecret();
    const key = await this.apiKeys.save(
      this.apiKeys.create({
        projectId: project.id,
        name: request.name,
        displayPrefix: displayPrefixOf(secret),
        secretHash: hashApiKeySecret(secret),
        scopes: request.scopes,
        createdByKeyId: principal.apiKeyId,
        expiresAt: request.expiresAt ?? null,
        lastUsedAt: null,
        revokedAt: null,
      }),
    );
    this.logger.log({ apiKeyId: key.id, projectId: project.id, scopes: key.scopes }, 'API key created');
    return { ...ApiKeyDto.from(key, now), secret };
  }

  async listApiKeys(principal: Principal, query: ListApiKeysQueryDto): Promise<ApiKeyListDto> {
    const project = await this.visibleProject(principal, query.projectId ?? principal.projectId);
    const result = await paginate(
      this.apiKeys.createQueryBuilder('key').where('key.projectId = :projectId', { projectId: project.id }),
      query,
    );
    const now = this.clock.now();
    return { data: result.data.map((key) => ApiKeyDto.from(key, now)), nextCursor: result.nextCursor };
  }

  async getApiKey(principal: Principal, apiKeyId: string): Promise<ApiKeyDto> {
    return ApiKeyDto.from(await this.visibleApiKey(principal, apiKeyId), this.clock.now());
  }

  async revokeApiKey(principal: Principal, apiKeyId: string): Promise<ApiKeyDto> {
    const key = await this.visibleApiKey(principal, apiKeyId);
    const now = this.clock.now();
    if (!key.revokedAt) {
      key.revokedAt = now;
      await this.apiKeys.update({ id: key.id }, { revokedAt: now });
      this.forget(key.id);
      this.logger.log({ apiKeyId: key.id, projectId: key.projectId }, 'API key revoked');
    }
    return ApiKeyDto.from(key, now);
  }

  /**
   * Makes sure an admin key exists. TUNEFORGE_BOOTSTRAP_KEY is created once (revoking it later
   * sticks); without it, a key is generated only when the instance has no key at all. Returns a
   * newly generated secret for the caller to show once, or undefined.
   */
  async ensureBootstrapKey(): Promise<string | undefined> {
    return this.projects.manager.transaction(async (manager) => {
      // Replicas starting together: one of them bootstraps, the others see its rows.
      await manager.query('SELECT pg_advisory_xact_lock(7301982612)');
      let root = await manager.findOne(ProjectEntity, { where: { isRoot: true } });
      if (!root) {
        root = await manager.save(
          manager.create(ProjectEntity, { name: 'default', description: 'The root project', isRoot: true }),
        );
      }
      const configured = this.config.bootstrapKey;
      if (configured) {
        const existing = await manager.findOne(ApiKeyEntity, { where: { secretHash: hashApiKeySecret(configured) } });
        if (existing?.revokedAt) {
          this.logger.warn('TUNEFORGE_BOOTSTRAP_KEY has been revoked; it stays revoked');
        }
        if (!existing) {
          await manager.save(this.bootstrapKeyEntity(manager.create(ApiKeyEntity), root.id, configured));
          this.logger.log('created the admin key from TUNEFORGE_BOOTSTRAP_KEY');
        }
        return undefined;
      }
      if ((await manager.count(ApiKeyEntity)) > 0) {
        return undefined;
      }
      const secret = generateApiKeySecret();
      await manager.save(this.bootstrapKeyEntity(manager.create(ApiKeyEntity), root.id, secret));
      return secret;
    });
  }

  private bootstrapKeyEntity(key: ApiKeyEntity, projectId: string, secret: string): ApiKeyEntity {
    return Object.assign(key, {
      projectId,
      name: 'bootstrap admin',
      displayPrefix: displayPrefixOf(secret),
      secretHash: hashApiKeySecret(secret),
      scopes: ['admin'],
      createdByKeyId: null,
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
    });
  }

  private requireInstanceAdmin(principal: Principal): void {
    if (!principal.isRootProject || !hasScope(principal.scopes, 'admin')) {
      throw new DomainError(ErrorCode.InsufficientScope, 'Only admin keys of the root project can manage projects', [
        { reason: 'requires admin in the root project' },
      ]);
    }
  }

  /** Another project's resources answer 404, as if absent: their existence is not revealed. */
  private async visibleProject(principal: Principal, projectId: string): Promise<ProjectEntity> {
    const visible =
      principal.isRootProject && hasScope(principal.scopes, 'admin') ? true : projectId === principal.projectId;
    const project = visible ? await this.projects.findOne({ where: { id: projectId } }) : null;
    if (!project) {
      throw DomainError.notFound('Project', projectId);
    }
    return project;
  }

  private async visibleApiKey(principal: Principal, apiKeyId: string): Promise<ApiKeyEntity> {
    const key = await this.apiKeys.findOne({ where: { id: apiKeyId } });
    const instanceAdmin = principal.isRootProject && hasScope(principal.scopes, 'admin');
    if (!key || (!instanceAdmin && key.projectId !== principal.projectId)) {
      throw DomainError.notFound('API key', apiKeyId);
    }
    return key;
  }
}

function unauthenticated(message: string): DomainError {
  return new DomainError(ErrorCode.Unauthenticated, message, [], { 'WWW-Authenticate': 'Bearer realm="tuneforge"' });
}
