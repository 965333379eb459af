import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cacheDir,
  freePort,
  hasCommand,
  MissingPrerequisite,
  run,
  ServerProcess,
  type Service,
} from './process.ts';

/** moto in server mode stands in for SQS, DynamoDB, Secrets Manager, STS and EKS. */
export const MOTO_VERSION = '5.2.5';

/** Creates (once, cached by version) a virtual environment with moto's server. */
export async function ensureMoto(log: (line: string) => void): Promise<string> {
  const venv = join(cacheDir(), `moto-${MOTO_VERSION}`);
  const server = join(venv, 'bin', 'moto_server');
  const complete = join(venv, '.complete');
  if (existsSync(complete)) return server;
  if (!(await hasCommand('python3'))) {
    throw new MissingPrerequisite(
      'python3 is not installed: install Python 3.9 or later with its venv module to run moto',
    );
  }
  await rm(venv, { recursive: true, force: true });
  await mkdir(cacheDir(), { recursive: true });
  await run('python3', ['-m', 'venv', venv]).catch(() => {
    throw new MissingPrerequisite(
      'python3 cannot create a virtual environment: install its venv module (Debian: apt-get install python3-venv)',
    );
  });
  log(`installing moto[server]==${MOTO_VERSION} into ${venv}`);
  await run(join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `moto[server]==${MOTO_VERSION}`,
  ]);
  await writeFile(complete, '');
  return server;
}

export interface AwsEndpoint {
  /** For the AWS SDK's `AWS_ENDPOINT_URL`, with any credentials and region. */
  readonly endpoint: string;
}

export async function startAws(motoServer: string, workDir: string): Promise<AwsEndpoint & Service> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const moto = new ServerProcess('moto', motoServer, ['-H', '127.0.0.1', '-p', String(port)], workDir);
  await moto.waitUntil(async () => (await fetch(`${endpoint}/moto-api/`)).ok, 60_000);
  return { name: 'aws', endpoint, stop: () => moto.stop() };
}
