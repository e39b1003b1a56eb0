import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { LineageDatasetVersionDto, ModelVersionLineageDto } from './model.dto.js';

/** The short lineage of model versions, a page at a time (a fixed number of queries per page). */
@Injectable()
export class ModelLineageSummaryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async summaries(
    versions: Array<{ id: string; sourceJobId: string | null }>,
  ): Promise<Map<string, ModelVersionLineageDto>> {
    const ids = versions.map((version) => version.id);
    const jobs = await this.dataSource.query<
      Array<{ version_id: string; training: string; validation: string | null; base: string | null }>
    >(
      `SELECT v.id AS version_id, j.training_dataset_version_id AS training,
              j.validation_dataset_version_id AS validation, j.base_model_version_id AS base
         FROM model_versions v JOIN jobs j ON j.id = v.source_job_id
        WHERE v.id = ANY($1::uuid[])`,
      [ids],
    );
    const baseIds = jobs.flatMap((job) => (job.base ? [job.base] : []));
    const bases = new Map(
      (
        await this.dataSource.query<Array<{ id: string; name: string; version: number }>>(
          `SELECT v.id, m.name, v.version FROM model_versions v JOIN registered_models m ON m.id = v.model_id
            WHERE v.id = ANY($1::uuid[])`,
          [baseIds],
        )
      ).map((row) => [row.id, { id: row.id, modelName: row.name, version: row.version }]),
    );
    const dataIds = jobs.flatMap((job) => [job.training, ...(job.validation ? [job.validation] : [])]);
    const chains = new Map<string, Array<Omit<LineageDatasetVersionDto, 'role'>>>();
    const chainRows = await this.dataSource.query<
      Array<{ start_id: string; id: string; dataset_id: string; name: string; version: number }>
    >(
      `WITH RECURSIVE chain(start_id, id, depth) AS (
         SELECT id, id, 0 FROM dataset_versions WHERE id = ANY($1::uuid[])
         UNION ALL
         SELECT c.start_id, v.parent_version_id, c.depth + 1
           FROM chain c JOIN dataset_versions v ON v.id = c.id
          WHERE v.parent_version_id IS NOT NULL AND c.depth < 100
       )
       SELECT c.start_id, v.id, v.dataset_id, d.name, v.version
         FROM chain c JOIN dataset_versions v ON v.id = c.id JOIN datasets d ON d.id = v.dataset_id
        ORDER BY c.start_id, c.depth`,
      [dataIds],
    );
    for (const row of chainRows) {
      chains.set(row.start_id, [
        ...(chains.get(row.start_id) ?? []),
        { id: row.id, datasetId: row.dataset_id, datasetName: row.name, version: row.version },
      ]);
    }
    const aliases = new Map<string, string[]>();
    for (const row of await this.dataSource.query<Array<{ model_version_id: string; name: string }>>(
      `SELECT model_version_id, name FROM model_aliases WHERE model_version_id = ANY($1::uuid[]) ORDER BY name`,
      [ids],
    )) {
      aliases.set(row.model_version_id, [...(aliases.get(row.model_version_id) ?? []), row.name]);
    }
    const jobByVersion = new Map(jobs.map((job) => [job.version_id, job]));
    const result = new Map<string, ModelVersionLineageDto>();
    for (const version of versions) {
      const job = jobByVersion.get(version.id);
      const datasetVersions: LineageDatasetVersionDto[] = [];
      const seen = new Set<string>();
      const add = (start: string | null | undefined, role: 'training' | 'validation') => {
        (start ? (chains.get(start) ?? []) : []).forEach((entry, index) => {
          if (!seen.has(entry.id)) {
            seen.add(entry.id);
            datasetVersions.push({ ...entry, role: index === 0 ? role : 'ancestor' });
          }
        });
      };
      add(job?.training, 'training');
      add(job?.validation, 'validation');
      result.set(version.id, {
        sourceJobId: version.sourceJobId,
        baseModelVersion: (job?.base && bases.get(job.base)) || null,
        datasetVersions,
        aliases: aliases.get(version.id) ?? [],
      });
    }
    return result;
  }
}
