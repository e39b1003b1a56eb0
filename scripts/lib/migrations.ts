/** Migration tooling shared by scripts/migrate.ts and the drift test. */
import type { DataSource } from 'typeorm';

/** The SQL that would bring the database to the entities' schema; empty when they agree. */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<{ up: string[]; down: string[] }> {
  const log = await dataSource.driver.createSchemaBuilder().log();
  return {
    up: log.upQueries.map((query) => query.query),
    down: log.downQueries.map((query) => query.query).reverse(),
  };
}

/** A migration class as TypeORM's generator writes it, formatted for this repository. */
export function migrationSource(className: string, up: string[], down: string[]): string {
  const lines = (queries: string[]) =>
    queries
      .map(
        (query) =>
          `    await queryRunner.query(\`${query.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\`);`,
      )
      .join('\n');
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${lines(up)}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${lines(down)}
  }
}
`;
}
