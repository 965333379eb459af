// The Bitbucket Cloud and Data Center pull request adapters' requests, field by field as the API references
// document them, on a loopback host that answers as each does: pages linked by `next` (Cloud) or by
// `nextPageStart` (Data Center), comments read back (Cloud's own, deleted and inline ones left out; Data Center's
// from the activities, newest first), created and updated (Data Center at the version read), files with both
// sides of a move; a `next` page outside the API is not followed with the token.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  BitbucketCloudPullRequests,
  BitbucketDataCenterPullRequests,
} from '../../functions/adapters/comments/bitbucket.ts';
import { classify } from '../../functions/core/errors.ts';
import { commentMarker } from '../../functions/core/plan/comment.ts';
import { type RecordedRequest, type RecordingHost, startRecordingHost } from '../support/status-contract.ts';

const TOKEN = 'bitbucket-access-token-0123456789';
const hosts: RecordingHost[] = [];
after(() => Promise.all(hosts.map((h) => h.close())));

async function host(answer: (request: RecordedRequest) => { status: number; body?: unknown }) {
  const started = await startRecordingHost((request) => answer(request));
  hosts.push(started);
  return started;
}

describe('Bitbucket Cloud', () => {
  test('files from the diffstat, both sides of a move, pages followed by next', async () => {
    let origin = '';
    const h = await host((request) =>
      request.query.page === '2'
        ? { status: 200, body: { values: [{ old: { path: 'a/old.yaml' }, new: { path: 'a/new.yaml' } }] } }
        : {
            status: 200,
            body: {
              values: [
                { old: null, new: { path: 'deploy/added.yaml' } },
                { old: { path: 'gone.yaml' }, new: null },
              ],
              next: `${origin}/2.0/repositories/acme/shop/pullrequests/12/diffstat?pagelen=100&page=2`,
            },
          },
    );
    origin = h.url;
    const adapter = new BitbucketCloudPullRequests({ apiUrl: `${h.url}/2.0` });
    const repository = {
      name: 'shop',
      url: 'https://bitbucket.org/acme/shop.git',
      provider: 'bitbucket',
      webhookSecret: 'x',
    } as const;
    assert.deepEqual(await adapter.changedFiles(repository, TOKEN, 12), [
      'deploy/added.yaml',
      'gone.yaml',
      'a/new.yaml',
      'a/old.yaml',
    ]);
    assert.deepEqual(
      h.requests.map((r) => [r.method, r.path, r.query.pagelen]),
      [
        ['GET', '/2.0/repositories/acme/shop/pullrequests/12/diffstat', '100'],
        ['GET', '/2.0/repositories/acme/shop/pullrequests/12/diffstat', '100'],
      ],
    );
    assert.ok(h.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));
  });

  test('a next page outside the API is refused, not sent the token', async () => {
    const h = await host(() => ({
      status: 200,
      body: { values: [], next: 'https://elsewhere.example/steal' },
    }));
    const adapter = new BitbucketCloudPullRequests({ apiUrl: `${h.url}/2.0` });
    const repository = {
      name: 'shop',
      url: 'https://bitbucket.org/acme/shop.git',
      provider: 'bitbucket',
      webhookSecret: 'x',
    } as const;
    const error = await adapter.changedFiles(repository, TOKEN, 1).catch((e: unknown) => e);
    assert.equal(classify(error), 'rejected');
    assert.match(String(error), /outside its API: elsewhere\.example/);
    assert.equal(h.requests.length, 1);
  });

  test("Ferry's comment: its own (by uuid), not deleted or inline ones; created and updated with content.raw", async () => {
    const adapter = new BitbucketCloudPullRequests();
    const marker = commentMarker(adapter.dialect);
    assert.equal(marker, '[//]: # (ferry:plan)');
    const me = '{11111111-0000-4000-8000-000000000001}';
    const h = await host((request) => {
      if (request.path === '/2.0/user') return { status: 200, body: { uuid: me } };
      if (request.method === 'GET')
        return {
          status: 200,
          body: {
            values: [
              { id: 1, content: { raw: `${marker}\nquoted` }, user: { uuid: '{other}' } },
              { id: 2, content: { raw: `${marker}\ndeleted` }, user: { uuid: me }, deleted: true },
              { id: 3, content: { raw: `${marker}\ninline` }, user: { uuid: me }, inline: { path: 'a' } },
              { id: 4, content: { raw: `${marker}\nFerry's` }, user: { uuid: me } },
            ],
          },
        };
      return { status: request.method === 'POST' ? 201 : 200, body: { id: 5 } };
    });
    const cloud = new BitbucketCloudPullRequests({ apiUrl: `${h.url}/2.0` });
    const repository = {
      name: 'shop',
      url: 'https://bitbucket.org/acme/shop.git',
      provider: 'bitbucket',
      webhookSecret: 'x',
    } as const;
    const found = await cloud.findComment(repository, TOKEN, 12, marker);
    assert.deepEqual(found, { id: '4', body: `${marker}\nFerry's` });
    await cloud.createComment(repository, TOKEN, 12, 'new body');
    await cloud.updateComment(repository, TOKEN, 12, { id: '4', body: '' }, 'updated body');
    const writes = h.requests.filter((r) => r.method !== 'GET').map((r) => [r.method, r.path, r.body]);
    assert.deepEqual(writes, [
      ['POST', '/2.0/repositories/acme/shop/pullrequests/12/comments', { content: { raw: 'new body' } }],
      ['PUT', '/2.0/repositories/acme/shop/pullrequests/12/comments/4', { content: { raw: 'updated body' } }],
    ]);
  });
});

describe('Bitbucket Data Center', () => {
  test('files from the changes, the source path of a move too, pages by nextPageStart', async () => {
    const h = await host((request) =>
      request.query.start === '0'
        ? {
            status: 200,
            body: {
              values: [{ path: { toString: 'deploy/a.yaml' } }],
              isLastPage: false,
              nextPageStart: 1,
            },
          }
        : {
            status: 200,
            body: {
              values: [{ path: { toString: 'deploy/new.yaml' }, srcPath: { toString: 'deploy/old.yaml' } }],
              isLastPage: true,
            },
          },
    );
    const adapter = new BitbucketDataCenterPullRequests();
    const repository = {
      name: 'store',
      url: `${h.url}/scm/ACME/shop.git`,
      provider: 'bitbucket-server',
      webhookSecret: 'x',
    } as const;
    assert.deepEqual(await adapter.changedFiles(repository, TOKEN, 4), [
      'deploy/a.yaml',
      'deploy/new.yaml',
      'deploy/old.yaml',
    ]);
    assert.deepEqual(
      h.requests.map((r) => [r.path, r.query]),
      [
        ['/rest/api/latest/projects/ACME/repos/shop/pull-requests/4/changes', { limit: '500', start: '0' }],
        ['/rest/api/latest/projects/ACME/repos/shop/pull-requests/4/changes', { limit: '500', start: '1' }],
      ],
    );
  });

  test("Ferry's comment from the activities (the oldest marked one), updated at the version read", async () => {
    const adapter = new BitbucketDataCenterPullRequests();
    const marker = commentMarker(adapter.dialect);
    const h = await host((request) => {
      if (request.method === 'GET')
        return {
          status: 200,
          body: {
            // Newest first, as Data Center lists activities.
            values: [
              { action: 'COMMENTED', comment: { id: 31, version: 0, text: `${marker}\nnewer` } },
              { action: 'APPROVED' },
              { action: 'COMMENTED', comment: { id: 30, version: 3, text: `${marker}\nFerry's` } },
              { action: 'COMMENTED', comment: { id: 29, version: 0, text: 'LGTM' } },
            ],
            isLastPage: true,
          },
        };
      return { status: request.method === 'POST' ? 201 : 200, body: { id: 30 } };
    });
    const repository = {
      name: 'store',
      url: `${h.url}/scm/ACME/shop.git`,
      provider: 'bitbucket-server',
      webhookSecret: 'x',
    } as const;
    const found = await adapter.findComment(repository, TOKEN, 4, marker);
    assert.deepEqual(found, { id: '30', body: `${marker}\nFerry's`, version: 3 });
    assert.ok(found);
    await adapter.updateComment(repository, TOKEN, 4, found, 'updated');
    await adapter.createComment(repository, TOKEN, 4, 'created');
    assert.deepEqual(
      h.requests.map((r) => [r.method, r.path, r.body ?? r.query]),
      [
        [
          'GET',
          '/rest/api/latest/projects/ACME/repos/shop/pull-requests/4/activities',
          { limit: '100', start: '0' },
        ],
        [
          'PUT',
          '/rest/api/latest/projects/ACME/repos/shop/pull-requests/4/comments/30',
          { text: 'updated', version: 3 },
        ],
        ['POST', '/rest/api/latest/projects/ACME/repos/shop/pull-requests/4/comments', { text: 'created' }],
      ],
    );
    assert.ok(h.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));
  });

  test('a version conflict (409) is transient: the plan is tried again, reading the new version', async () => {
    const h = await host(() => ({
      status: 409,
      body: { errors: [{ message: 'the comment was modified' }] },
    }));
    const adapter = new BitbucketDataCenterPullRequests();
    const repository = {
      name: 'store',
      url: `${h.url}/scm/ACME/shop.git`,
      provider: 'bitbucket-server',
      webhookSecret: 'x',
    } as const;
    const error = await adapter
      .updateComment(repository, TOKEN, 4, { id: '30', body: '', version: 3 }, 'x')
      .catch((e: unknown) => e);
    assert.equal(classify(error), 'transient');
    assert.doesNotMatch(String(error), new RegExp(TOKEN));
  });
});
