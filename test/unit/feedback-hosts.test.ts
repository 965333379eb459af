// Where each host's status API is, read from a repository's clone URL; the Bitbucket and Gitea reporters'
// requests field by field, as their API references document them, on a loopback host; and the links a status
// carries (the CloudWatch console's log events of a deployment, the local status page).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  BitbucketCloudReporter,
  BitbucketDataCenterReporter,
} from '../../functions/adapters/status/bitbucket.ts';
import { GiteaReporter } from '../../functions/adapters/status/gitea.ts';
import {
  bitbucketRepository,
  dataCenterRepository,
  giteaRepository,
  githubRepository,
  gitlabProject,
} from '../../functions/adapters/status/hosts.ts';
import { cloudWatchLogsLink, statusPageLink } from '../../functions/adapters/status/links.ts';
import { classify, Failure } from '../../functions/core/errors.ts';
import { type CommitState, statusContext } from '../../functions/core/model/feedback.ts';
import type { Provider } from '../../functions/core/model/provider.ts';
import type { PostedStatus, StatusReporter } from '../../functions/core/ports.ts';
import { type RecordingHost, startRecordingHost } from '../support/status-contract.ts';

describe('API URLs from clone URLs', () => {
  test('GitHub: api.github.com, data residency hosts, Enterprise Server at /api/v3', () => {
    assert.deepEqual(githubRepository('https://github.com/acme/shop.git'), {
      apiUrl: 'https://api.github.com',
      owner: 'acme',
      repo: 'shop',
    });
    assert.equal(githubRepository('https://GitHub.com/acme/shop/').apiUrl, 'https://api.github.com');
    assert.equal(
      githubRepository('https://octocorp.ghe.com/acme/shop.git').apiUrl,
      'https://api.octocorp.ghe.com',
    );
    assert.equal(
      githubRepository('https://ghe.example.com/acme/shop').apiUrl,
      'https://ghe.example.com/api/v3',
    );
    assert.equal(
      githubRepository('http://127.0.0.1:3000/acme/shop.git').apiUrl,
      'http://127.0.0.1:3000/api/v3',
    );
  });

  test('GitLab: <host>/api/v4 and the whole project path, subgroups included', () => {
    assert.deepEqual(gitlabProject('https://gitlab.com/acme/infra/platform.git'), {
      apiUrl: 'https://gitlab.com/api/v4',
      path: 'acme/infra/platform',
    });
    assert.equal(
      gitlabProject('https://git.example.org:8443/a/b').apiUrl,
      'https://git.example.org:8443/api/v4',
    );
  });

  test('Gitea and Forgejo: <host>[/sub-path]/api/v1, owner and repository last', () => {
    assert.deepEqual(giteaRepository('https://codeberg.org/acme/shop.git'), {
      apiUrl: 'https://codeberg.org/api/v1',
      owner: 'acme',
      repo: 'shop',
    });
    assert.equal(
      giteaRepository('https://example.com/git/acme/shop.git').apiUrl,
      'https://example.com/git/api/v1',
    );
  });

  test('Bitbucket Cloud: its one API; Data Center: the base URL before /scm/, project and slug', () => {
    assert.deepEqual(bitbucketRepository('https://bitbucket.org/acme/shop.git'), {
      apiUrl: 'https://api.bitbucket.org/2.0',
      owner: 'acme',
      repo: 'shop',
      webUrl: 'https://bitbucket.org/acme/shop',
    });
    assert.deepEqual(dataCenterRepository('https://git.example.com/bitbucket/scm/PROJ/shop.git'), {
      baseUrl: 'https://git.example.com/bitbucket',
      project: 'PROJ',
      slug: 'shop',
      webUrl: 'https://git.example.com/bitbucket/projects/PROJ/repos/shop',
    });
    assert.equal(dataCenterRepository('https://bb.example.com/scm/~jdoe/dots.git').project, '~jdoe');
  });

  test('a URL that names no repository the host way is a configuration failure naming what was expected', () => {
    for (const read of [
      () => githubRepository('https://github.com/acme'),
      () => gitlabProject('https://gitlab.com/acme.git'),
      () => bitbucketRepository('https://bitbucket.org/acme/shop/extra.git'),
      () => dataCenterRepository('https://bb.example.com/projects/P/repos/shop'),
    ]) {
      assert.throws(
        read,
        (e: unknown) => e instanceof Failure && classify(e) === 'configuration' && /expected/.test(e.message),
      );
    }
  });
});

describe('links', () => {
  test("the CloudWatch console's events of the worker's log group, by deployment id, else commit", () => {
    const link = cloudWatchLogsLink('eu-west-1', '/aws/lambda/Ferry-Worker');
    assert.equal(
      link({
        key: { app: 'a', environment: 'e', part: 'app' },
        commit: 'c0ffee',
        ref: 'r',
        state: 'success',
        description: '',
        deploymentId: 'd-1',
      }),
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252FFerry-Worker/log-events$3FfilterPattern$3D$2522d-1$2522',
    );
    assert.match(
      link({
        key: { app: 'a', environment: 'e', part: 'app' },
        commit: 'c0ffee',
        ref: 'r',
        state: 'pending',
        description: '',
      }),
      /filterPattern\$3D\$2522c0ffee\$2522$/,
    );
    assert.match(
      cloudWatchLogsLink(
        'cn-north-1',
        'g',
      )({
        key: { app: 'a', environment: 'e', part: 'app' },
        commit: 'c',
        ref: 'r',
        state: 'pending',
        description: '',
      }),
      /^https:\/\/cn-north-1\.console\.amazonaws\.cn\//,
    );
  });

  test('the local status page', () => {
    assert.equal(
      statusPageLink('http://127.0.0.1:8080/')({
        key: { app: 'shop', environment: 'dev', part: 'app' },
        commit: 'a',
        ref: 'r',
        state: 'pending',
        description: '',
      }),
      'http://127.0.0.1:8080/parts/shop/dev/app',
    );
  });
});

const TOKEN = 'bitbucket-access-token-0123456789';
const bodyOf = (request: { readonly body: unknown } | undefined) =>
  (request?.body ?? {}) as Record<string, unknown>;
const SHA = 'c'.repeat(40);
const hosts: RecordingHost[] = [];
after(() => Promise.all(hosts.map((h) => h.close())));

const posted = (state: CommitState, part: 'app' | 'config' = 'app', targetUrl?: string): PostedStatus => {
  const key = { app: 'shop', environment: 'production', part } as const;
  return {
    key,
    commit: SHA,
    ref: 'refs/heads/main',
    state,
    description: `${state}: one line`,
    context: statusContext(key),
    ...(targetUrl === undefined ? {} : { targetUrl }),
  };
};

/** Posts every state through `reporter` to a loopback host answering `status`; the requests it received. */
async function postAll(
  reporter: (url: string) => StatusReporter,
  provider: Provider,
  path: (url: string) => string,
  status: number,
) {
  const host = await startRecordingHost(() => ({ status, body: status === 204 ? undefined : { ok: true } }));
  hosts.push(host);
  const repository = { name: 'shop', url: path(host.url), provider, webhookSecret: 'unused' };
  for (const state of ['pending', 'running', 'success', 'failure', 'superseded', 'out-of-sync'] as const)
    await reporter(host.url).post(repository, TOKEN, posted(state));
  await reporter(host.url).post(repository, TOKEN, posted('success', 'config', 'https://logs.example/1'));
  return host.requests;
}

describe('Bitbucket build statuses, as the API references document them', () => {
  test('Cloud: POST .../commit/{sha}/statuses/build, key, state, url (required), refname; a bearer token', async () => {
    const requests = await postAll(
      (url) => new BitbucketCloudReporter({ apiUrl: `${url}/2.0` }),
      'bitbucket',
      () => 'https://bitbucket.org/acme/shop.git',
      201,
    );
    assert.ok(
      requests.every(
        (r) => r.method === 'POST' && r.path === `/2.0/repositories/acme/shop/commit/${SHA}/statuses/build`,
      ),
    );
    assert.ok(requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));
    assert.deepEqual(
      requests.map((r) => (r.body as { state: string }).state),
      ['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED', 'FAILED', 'SUCCESSFUL'],
    );
    assert.deepEqual(requests[0]?.body, {
      key: 'ferry/shop/production',
      state: 'INPROGRESS',
      name: 'ferry/shop/production',
      description: 'pending: one line',
      url: 'https://bitbucket.org/acme/shop',
      refname: 'main',
    });
    assert.deepEqual(
      [bodyOf(requests[6]).key, bodyOf(requests[6]).url],
      ['ferry/shop/production/config', 'https://logs.example/1'],
    );
  });

  test('Data Center: POST /rest/api/latest/projects/{key}/repos/{slug}/commits/{sha}/builds, 204', async () => {
    const requests = await postAll(
      () => new BitbucketDataCenterReporter(),
      'bitbucket-server',
      (url) => `${url}/bitbucket/scm/PROJ/shop.git`,
      204,
    );
    assert.ok(
      requests.every(
        (r) => r.path === `/bitbucket/rest/api/latest/projects/PROJ/repos/shop/commits/${SHA}/builds`,
      ),
    );
    assert.ok(requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));
    assert.deepEqual(
      requests.map((r) => (r.body as { state: string }).state),
      ['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL', 'FAILED', 'CANCELLED', 'FAILED', 'SUCCESSFUL'],
    );
    assert.equal(bodyOf(requests[0]).ref, 'refs/heads/main');
    assert.match(String(bodyOf(requests[0]).url), /\/bitbucket\/projects\/PROJ\/repos\/shop$/);
  });
});

describe('Gitea commit statuses', () => {
  test('POST /api/v1/repos/{owner}/{repo}/statuses/{sha}; running is pending, superseded success, drift a warning', async () => {
    const requests = await postAll(
      () => new GiteaReporter(),
      'gitea',
      (url) => `${url}/acme/shop.git`,
      201,
    );
    assert.ok(requests.every((r) => r.path === `/api/v1/repos/acme/shop/statuses/${SHA}`));
    assert.deepEqual(
      requests.map((r) => (r.body as { state: string }).state),
      ['pending', 'pending', 'success', 'failure', 'success', 'warning', 'success'],
    );
  });
});
