/**
 * Writes the OpenAPI spec (openapi/openapi.json) from the app in preview mode (no database) and the
 * TypeScript SDK generated from it (clients/typescript/src).
 *
 *   node dist/scripts/openapi.js write   regenerate both
 *   node dist/scripts/openapi.js check   regenerate into a temporary folder and fail on any difference
 */
import { generate, projectRoot, SDK, SPEC, staleGeneratedFiles } from './lib/openapi-sync.js';

async function main(): Promise<number> {
  switch (process.argv[2]) {
    case 'write':
      await generate(projectRoot);
      console.log(`wrote ${SPEC} and ${SDK}`);
      return 0;
    case 'check': {
      const stale = await staleGeneratedFiles(projectRoot);
      if (stale.length > 0) {
        console.error(`openapi: stale generated files (run \`npm run openapi\` and commit):\n  ${stale.join('\n  ')}`);
        return 1;
      }
      console.log('openapi: spec and SDK are up to date');
      return 0;
    }
    default:
      console.error('usage: openapi write | check');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
