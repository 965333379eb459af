// The change of sync state the notifier tests send: shop/production going from Synced to Failed, now.
import type { SyncChange } from '../../functions/core/model/feedback.ts';

export const syncChange = (overrides: Partial<SyncChange> = {}): SyncChange => ({
  key: { app: 'shop', environment: 'production', part: 'app' },
  from: 'Synced',
  to: 'Failed',
  commit: '3f2c1a9e0b4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f',
  message: 'rejected: Deployment shop/web: spec.replicas: expected integer',
  at: new Date().toISOString(),
  ...overrides,
});
