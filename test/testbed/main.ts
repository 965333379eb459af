// `npm run testbed`: starts the test bed, prints its endpoints as one JSON object and runs until Ctrl-C.
import { once } from 'node:events';
import { MissingPrerequisite, startTestbed } from './index.ts';

const log = (line: string) => console.error(`testbed: ${line}`);
try {
  const testbed = await startTestbed(log);
  const { kubernetes, aws, git, gitea } = testbed;
  console.log(
    JSON.stringify({
      kubernetes: {
        server: kubernetes.server,
        caFile: kubernetes.caFile,
        token: kubernetes.token,
        version: kubernetes.version,
      },
      aws: { endpoint: aws.endpoint, region: 'us-east-1' },
      git: { baseUrl: git.baseUrl, token: git.token },
      gitea: {
        url: gitea.url,
        user: gitea.user,
        password: gitea.password,
        token: gitea.token,
        version: gitea.version,
      },
    }),
  );
  log('running; press Ctrl-C to stop');
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await testbed.stop();
} catch (error) {
  log(error instanceof MissingPrerequisite ? `missing prerequisite: ${error.message}` : String(error));
  process.exitCode = 1;
}
