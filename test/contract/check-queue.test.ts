// The check queue contract on the SQS check queue over moto and on the local mode's schedule, which runs each
// tick's checks in-process after their delays (the local mode has no queue in between): here each
// `enqueueChecks` is one tick of a `ReconcileScheduler`, keyed by part as the local runtime keys it.
import { SqsCheckQueue } from '../../functions/adapters/aws/sqs-check-queue.ts';
import { createLogger } from '../../functions/adapters/local/logger.ts';
import { everyInterval, ReconcileScheduler } from '../../functions/adapters/local/reconcile-scheduler.ts';
import { type EnvironmentCheck, parseEnvironmentCheck } from '../../functions/core/model/check.ts';
import { partId } from '../../functions/core/model/part.ts';
import { openCheckQueue } from './adapters.ts';
import { checkQueueContract } from './check-queue.ts';

checkQueueContract('local schedule', async () => {
  const arrivals: EnvironmentCheck[] = [];
  const schedulers: ReconcileScheduler<EnvironmentCheck, undefined>[] = [];
  return {
    queue: {
      enqueueChecks: async (checks) => {
        const scheduler = new ReconcileScheduler<EnvironmentCheck, undefined>({
          schedule: everyInterval(5 * 60 * 1000, 'rate(5 minutes)'),
          plan: () => checks,
          newTick: () => undefined,
          keyOf: partId,
          run: async (check) => {
            arrivals.push(check);
          },
          logger: createLogger({ write: () => {} }),
        });
        schedulers.push(scheduler);
        scheduler.tick();
      },
    },
    arrived: async () => arrivals.splice(0),
    close: async () => {
      await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
    },
  };
});

checkQueueContract('SQS on moto', async () => {
  const sqs = await openCheckQueue();
  return {
    queue: new SqsCheckQueue(sqs.queueUrl, sqs.sqs),
    arrived: async () => {
      const arrived: EnvironmentCheck[] = [];
      for (let messages = await sqs.receive(10); messages.length > 0; messages = await sqs.receive(10)) {
        for (const message of messages) {
          const check = parseEnvironmentCheck(message.Body ?? '');
          if (check === undefined) throw new Error(`not a check: ${message.Body}`);
          arrived.push(check);
          await sqs.delete(message);
        }
      }
      return arrived;
    },
    close: sqs.close,
  };
});
