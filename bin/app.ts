// The CDK app: `npx cdk synth` / `npx cdk deploy` run `node bin/app.ts` (see cdk.json).
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../functions/core/config.ts';
import { buildFerryApp } from '../lib/ferry-app.ts';

const app = new App();
try {
  await buildFerryApp(app);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // The message names every offending field, one per line; no stack trace hides it.
  console.error(error.message);
  process.exit(1);
}
app.synth();
